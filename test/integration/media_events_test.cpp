// media.assets against the real job queue: an admitted upload enqueues its
// processing; finishing publishes media.ready (with the rendition job when
// asked) or media.failed exactly once; two uploads racing for the last of
// the quota are admitted one at a time.
#include <future>
#include <set>

#include "huntaze/core/error.hpp"
#include "jobs_fixture.hpp"
#include "media/assets.hpp"

using namespace huntaze;
using namespace huntaze::test::jobst;
namespace asio = boost::asio;

namespace {

const char* kWorkspace = "0190a000-0000-7000-8000-0000000000e1";

struct AssetsFixture : JobsFixture {
  AssetsFixture() {
    for (const char* kind : {media::kProcessKind, media::kRenditionKind})
      kinds.add(kind, [](jobs::JobContext&) -> asio::awaitable<void> { co_return; });
    kinds.subscribe({.name = "test.media", .topic = "media", .handler = [](jobs::JobContext&) -> asio::awaitable<void> {
                       co_return;
                     }});
    query("INSERT INTO auth.workspaces (id, name, created_at) VALUES ($1::uuid, 'w', now())",
          test::dbt::params(std::string(kWorkspace)));
    assets = std::make_unique<media::Assets>(*db, queue(), clock);
  }

  media::StoredUpload upload(const std::string& content, uint64_t size = 1000) {
    media::StoredUpload u;
    u.id = Uuid::v7();
    u.workspace = *Uuid::parse(kWorkspace);
    u.original_name = "clip.mp4";
    u.container = "mp4";
    u.content_type = "video/mp4";
    u.size = size;
    u.sha256 = std::string(32, content.empty() ? 'x' : content[0]);
    u.original_key = "ws/" + u.workspace.str() + "/" + u.id.str() + "/original.mp4";
    return u;
  }
  int events(const std::string& type) {
    return count("kind = 'event:test.media' AND payload->>'type' = '" + type + "'");
  }

  std::unique_ptr<media::Assets> assets;
};

}  // namespace

TEST_CASE("media assets: admission enqueues processing, and ready and failed publish their event once", "[media]") {
  AssetsFixture f;
  const auto u = f.upload("a");
  auto admitted = f.block(f.assets->admit(u, 1 << 20));
  REQUIRE(admitted.created);
  CHECK(admitted.created->status == "uploaded");
  CHECK(f.count("kind = 'media.process'") == 1);

  auto claim = f.block(f.assets->claim(u.id));
  REQUIRE(claim);
  CHECK(claim->attempts == 1);
  CHECK(claim->size_bytes == 1000);
  media::Assets::Outcome outcome;
  outcome.grid_key = "g";
  outcome.poster_key = "p";
  outcome.derived_bytes = 50;
  outcome.probe_json = R"({"width":640})";
  outcome.event_data = R"({"id":"x"})";
  outcome.rendition = true;
  CHECK(f.block(f.assets->finish_ready(u.id, outcome)) == media::Assets::Finish::done);
  CHECK(f.block(f.assets->finish_ready(u.id, outcome)) == media::Assets::Finish::stale);  // no longer processing
  CHECK(f.events("media.ready") == 1);
  CHECK(f.count("kind = 'event:test.media' AND payload->'attributes'->>'creator_id' = '" + std::string(kWorkspace) +
                "'") == 1);
  CHECK(f.count("kind = 'media.rendition'") == 1);
  CHECK_FALSE(f.block(f.assets->claim(u.id)));  // ready: nothing to claim
  auto row = f.block(f.assets->get(u.workspace, u.id));
  REQUIRE(row);
  CHECK(row->stored_bytes == 1050);

  const auto bad = f.upload("b");
  REQUIRE(f.block(f.assets->admit(bad, 1 << 20)).created);
  REQUIRE(f.block(f.assets->claim(bad.id)));
  CHECK(f.block(f.assets->finish_failed(bad.id, "corrupt", "the file is damaged")));
  CHECK_FALSE(f.block(f.assets->finish_failed(bad.id, "corrupt", "again")));
  CHECK(f.events("media.failed") == 1);
  CHECK(f.count("kind = 'event:test.media' AND payload->'data'->>'code' = 'corrupt'") == 1);
}

TEST_CASE("media assets: uploads racing for the last of the quota are admitted one at a time", "[media]") {
  AssetsFixture f;
  // Room for one 600-byte file, not two.
  // Each racer answers 201 (admitted) or the error's status; assertions stay
  // on this thread (Catch's are not thread-safe).
  std::vector<std::future<int>> racers;
  for (const char* content : {"c", "d", "e", "f"}) {
    const auto u = f.upload(content, 600);
    racers.push_back(std::async(std::launch::async, [&f, u] {
      try {
        return f.block(f.assets->admit(u, 1000)).created ? 201 : 200;
      } catch (const ApiError& e) {
        return e.status();
      }
    }));
  }
  std::multiset<int> answers;
  for (auto& r : racers) answers.insert(r.get());
  CHECK(answers == std::multiset<int>{201, 402, 402, 402});
  CHECK(f.count("kind = 'media.process'") == 1);
}

TEST_CASE("media assets: an asset deleted while processed, stored bytes and the invoice usage", "[media]") {
  AssetsFixture f;
  const Uuid ws = *Uuid::parse(kWorkspace);
  const auto gone = f.upload("g", 700);
  REQUIRE(f.block(f.assets->admit(gone, 1 << 20)).created);
  REQUIRE(f.block(f.assets->claim(gone.id)));
  REQUIRE(f.block(f.assets->remove(ws, gone.id)));
  media::Assets::Outcome outcome;
  outcome.grid_key = "g";
  outcome.poster_key = "p";
  outcome.probe_json = "{}";
  outcome.event_data = "{}";
  // The processor removes what it stored when it hears this.
  CHECK(f.block(f.assets->finish_ready(gone.id, outcome)) == media::Assets::Finish::deleted);
  CHECK(f.events("media.ready") == 0);

  // stored_bytes follows the parts that exist: original, grid and poster, rendition.
  const auto u = f.upload("h", 1000);
  REQUIRE(f.block(f.assets->admit(u, 1 << 20)).created);
  CHECK(f.block(f.assets->stored_bytes(ws)) == 1000);
  REQUIRE(f.block(f.assets->claim(u.id)));
  outcome.derived_bytes = 30;
  REQUIRE(f.block(f.assets->finish_ready(u.id, outcome)) == media::Assets::Finish::done);
  CHECK(f.block(f.assets->stored_bytes(ws)) == 1030);
  CHECK(f.block(f.assets->set_rendition(u.id, "r", 200)));
  CHECK(f.block(f.assets->set_rendition(u.id, "r", 150)));  // a new rendition replaces the old one's bytes
  CHECK(f.block(f.assets->stored_bytes(ws)) == 1180);
  f.query("UPDATE media.assets SET original_key = NULL WHERE id = $1::uuid", test::dbt::params(u.id.str()));
  CHECK(f.block(f.assets->stored_bytes(ws)) == 180);
  CHECK_FALSE(f.block(f.assets->set_rendition(gone.id, "r", 1)));

  // The invoice's figures: bytes now, videos that became ready in the period.
  const SysTime now = f.clock.now();
  auto month = f.block(f.assets->usage(ws, now - std::chrono::hours(1), now + std::chrono::hours(1)));
  CHECK(month.storage_bytes == 180);
  CHECK(month.videos == 1);
  auto before = f.block(f.assets->usage(ws, now - std::chrono::hours(48), now - std::chrono::hours(24)));
  CHECK(before.videos == 0);
  auto other = f.block(f.assets->usage(Uuid::v7(), now - std::chrono::hours(1), now + std::chrono::hours(1)));
  CHECK(other.storage_bytes == 0);
  CHECK(other.videos == 0);
}
