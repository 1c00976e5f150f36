// The media module end to end over HTTP: upload (streamed, sniffed, hashed,
// deduplicated, within the plan's quota) -> media.process on the job queue
// -> grid, poster, transcript and vision analysis from the fake models ->
// signed links with Range; bad files, model failures, roles and tenancy.
#include <filesystem>
#include <fstream>

#include "media_fixture.hpp"
#include "storage/signed_url.hpp"
#include "support/s3_server.hpp"

using namespace huntaze;
using namespace huntaze::test::mediat;
namespace fs = std::filesystem;

namespace {

size_t files_under(const std::string& root, const std::string& part) {
  size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file() && e.path().string().find(part) != std::string::npos) ++n;
  return n;
}

}  // namespace

TEST_CASE("media: an upload is processed into a grid, poster, transcript and analysis", "[media]") {
  MediaApp m;
  auto u = m.app.sign_up_and_log_in("creator@example.com");
  const std::string video = fixture("landscape.mp4");

  Reply up = m.upload(u.access, video, "beach%20day.mp4");
  REQUIRE(up.status == 201);
  CHECK(up.str("status") == "uploaded");
  CHECK(up.str("name") == "beach day.mp4");
  CHECK(up.str("container") == "mp4");
  CHECK(up.str("content_type") == "video/mp4");
  CHECK(up.body.at("size_bytes").to_number<int64_t>() == static_cast<int64_t>(video.size()));
  CHECK(up.str("sha256") == sha256_hex(video));
  const std::string id = up.str("id");

  json::object done = m.wait_processed(u.access, id);
  REQUIRE(done.at("status") == "ready");
  const auto& probe = done.at("probe").as_object();
  CHECK(probe.at("width") == 640);
  CHECK(probe.at("height") == 360);
  CHECK(probe.at("orientation") == "horizontal");
  CHECK(probe.at("has_audio") == true);
  CHECK(probe.at("video_codec") == "h264");
  CHECK(probe.at("grid").at("frames").as_array().size() == 16);
  CHECK(done.at("transcript") == "a steady four hundred and forty hertz tone");
  CHECK(done.at("analysis_error").is_null());
  const auto& analysis = done.at("analysis").as_object();
  CHECK(analysis.at("description") == "A test pattern that brightens over ten seconds.");
  CHECK(analysis.at("tags") == json::array{"test", "pattern"});
  CHECK(analysis.at("quality_issues") == json::array{"dark"});  // "grainy" is not a known issue
  CHECK(analysis.at("content_rating") == "general");
  CHECK_FALSE(analysis.contains("extra"));
  CHECK_FALSE(done.at("processed_at").is_null());
  CHECK(done.at("attempts") == 1);

  // What the models were sent: the grid as one image with the metadata and
  // the transcript; the audio as a WAV file.
  bool saw_vision = false, saw_whisper = false;
  for (const auto& r : m.fake.requests()) {
    if (r.path.find("audio/transcriptions") != std::string::npos) {
      saw_whisper = true;
      CHECK(r.body.find("filename=\"audio.wav\"") != std::string::npos);
      CHECK(r.body.find("RIFF") != std::string::npos);
    } else {
      saw_vision = true;
      const auto body = r.json().as_object();
      const auto& user = body.at("messages").at(1).at("content").as_array();
      CHECK(std::string(user.at(1).at("image_url").at("url").as_string()).starts_with("data:image/jpeg;base64,"));
      const std::string text(user.at(0).at("text").as_string());
      CHECK(text.find("640x360") != std::string::npos);
      CHECK(text.find("four hundred and forty") != std::string::npos);
      CHECK(body.at("response_format").at("type") == "json_object");
    }
  }
  CHECK(saw_vision);
  CHECK(saw_whisper);

  // Stored bytes: the original plus the grid and the poster.
  const int64_t stored = done.at("stored_bytes").to_number<int64_t>();
  CHECK(stored > static_cast<int64_t>(video.size()));
  CHECK(m.app.scalar("SELECT count(*) FROM jobs.jobs WHERE kind = 'media.process' AND state = 'completed'") == "1");
}

TEST_CASE("media: signed links serve the files, with Range, and refuse tampering and expiry", "[media]") {
  MediaApp m;
  auto u = m.app.sign_up_and_log_in("creator@example.com");
  const std::string video = fixture("landscape.mp4");
  Reply up = m.upload(u.access, video);
  REQUIRE(up.status == 201);
  json::object done = m.wait_processed(u.access, up.str("id"));
  REQUIRE(done.at("status") == "ready");
  const auto& urls = done.at("urls").as_object();
  const std::string original(urls.at("original").as_string());
  CHECK(original.starts_with("/api/v1/files/ws%2F" + u.workspace));

  auto grid = m.fetch(std::string(urls.at("grid").as_string()));
  CHECK(grid.status == 200);
  CHECK(grid.header("content-type") == "image/jpeg");
  CHECK(grid.body.substr(0, 2) == "\xFF\xD8");
  auto poster = m.fetch(std::string(urls.at("poster").as_string()));
  CHECK(poster.status == 200);
  CHECK(poster.body.substr(0, 2) == "\xFF\xD8");
  CHECK(urls.at("rendition").is_null());

  auto whole = m.fetch(original);
  CHECK(whole.status == 200);
  CHECK(whole.body == video);
  CHECK(whole.header("accept-ranges") == "bytes");
  CHECK(whole.header("content-type") == "video/mp4");
  CHECK(whole.header("content-length") == std::to_string(video.size()));

  // HEAD: the same length and headers, no body.
  test::HttpConnection head(m.app.app->port());
  head.send("HEAD " + original + " HTTP/1.1\r\nHost: x\r\n\r\n");
  auto headers = head.read_response(true);
  CHECK(headers.status == 200);
  CHECK(headers.header("content-length") == std::to_string(video.size()));
  CHECK(headers.body.empty());
  CHECK(head.get("/healthz").status == 200);  // nothing was left unread on the connection

  auto first = m.fetch(original, "Range: bytes=0-99\r\n");
  CHECK(first.status == 206);
  CHECK(first.body == video.substr(0, 100));
  CHECK(first.header("content-range") == "bytes 0-99/" + std::to_string(video.size()));
  auto tail = m.fetch(original, "Range: bytes=-10\r\n");
  CHECK(tail.status == 206);
  CHECK(tail.body == video.substr(video.size() - 10));
  auto from = m.fetch(original, "Range: bytes=1000-\r\n");
  CHECK(from.status == 206);
  CHECK(from.body == video.substr(1000));
  auto outside = m.fetch(original, "Range: bytes=" + std::to_string(video.size()) + "-\r\n");
  CHECK(outside.status == 416);
  CHECK(outside.header("content-range") == "bytes */" + std::to_string(video.size()));

  // A changed signature, expiry or key, and an expired link.
  std::string tampered = original;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  CHECK(m.fetch(tampered).status == 403);
  const size_t at = original.find("expires=") + 8;
  std::string later = original;
  later.replace(at, 1, later[at] == '9' ? "8" : "9");
  CHECK(m.fetch(later).status == 403);
  const std::string poster_url(urls.at("poster").as_string());
  const std::string swapped = original.substr(0, original.find('?')) + poster_url.substr(poster_url.find('?'));
  CHECK(m.fetch(swapped).status == 403);
  const std::string key = "ws/" + u.workspace + "/" + up.str("id") + "/grid.jpg";
  const std::string expired =
      "/api/v1/files/" + http::percent_encode(key) + "?" + storage::sign_download(kLinkKey, key, 1'000'000'000);
  auto old = m.fetch(expired);
  CHECK(old.status == 403);
  CHECK(old.body.find("link_expired") != std::string::npos);
  // A key outside the store is refused before anything is read.
  const std::string escape = "../../etc/passwd";
  CHECK(m.fetch("/api/v1/files/" + http::percent_encode(escape) + "?" +
                storage::sign_download(kLinkKey, escape, 4'000'000'000))
            .status == 403);
}

TEST_CASE("media: the same file twice is stored once", "[media]") {
  MediaApp m;
  auto u = m.app.sign_up_and_log_in("creator@example.com");
  const std::string video = fixture("no_audio.mp4");
  Reply first = m.upload(u.access, video, "a.mp4");
  REQUIRE(first.status == 201);
  Reply again = m.upload(u.access, video, "b.mp4");
  CHECK(again.status == 200);
  CHECK(again.body.at("deduplicated") == true);
  CHECK(again.str("id") == first.str("id"));
  CHECK(m.app.scalar("SELECT count(*) FROM media.assets") == "1");
  CHECK(files_under(m.media_root(), "original.") == 1);
  CHECK(files_under(m.media_root(), ".spool/") == 0);  // the second spool file is gone too
  // Another workspace uploading the same bytes gets its own asset.
  auto other = m.app.sign_up_and_log_in("other@example.com");
  Reply theirs = m.upload(other.access, video);
  CHECK(theirs.status == 201);
  CHECK(theirs.str("id") != first.str("id"));
}

TEST_CASE("media: files that are not videos are refused, broken videos fail with a reason", "[media]") {
  MediaApp m;
  auto u = m.app.sign_up_and_log_in("creator@example.com");
  SECTION("refused at upload, from the bytes whatever the name") {
    Reply text = m.upload(u.access, fixture("text.mp4"), "movie.mp4");
    CHECK(text.status == 415);
    CHECK(text.code() == "unsupported_media_type");
    Reply avi = m.upload(u.access, fixture("unsupported.avi"));
    CHECK(avi.status == 415);
    Reply empty = m.upload(u.access, "");
    CHECK(empty.status == 400);
    CHECK(m.app.scalar("SELECT count(*) FROM media.assets") == "0");
    CHECK(files_under(m.media_root(), "") == 0);
  }
  SECTION("accepted, then failed by processing") {
    const std::vector<std::pair<std::string, std::string>> cases{{"truncated.mp4", "corrupt"},
                                                                 {"truncated_faststart.mp4", "truncated"},
                                                                 {"huge_dimensions.mp4", "resolution_too_large"}};
    for (const auto& [file, code] : cases) {
      INFO(file);
      Reply up = m.upload(u.access, fixture(file));
      REQUIRE(up.status == 201);
      json::object done = m.wait_processed(u.access, up.str("id"));
      CHECK(done.at("status") == "failed");
      CHECK(done.at("failure").at("code").as_string() == code);
      CHECK_FALSE(done.at("failure").at("reason").as_string().empty());
      CHECK(done.at("attempts") == 1);  // a bad file is not retried
    }
    Reply corrupt = m.upload(u.access, fixture("corrupt_header.mp4"));
    REQUIRE(corrupt.status == 201);
    CHECK(m.wait_processed(u.access, corrupt.str("id")).at("status") == "failed");
  }
}

TEST_CASE("media: model trouble leaves the asset ready with the reason instead of an analysis", "[media]") {
  SECTION("an answer that is not the asked-for JSON") {
    MediaApp m;
    m.fake.set_default([](const test::FakeRequest& r) {
      if (r.path.find("audio") != std::string::npos) return test::FakeReply{.body = R"({"text":"hi"})"};
      return test::FakeReply{
          .body = test::FakeOpenAi::completion(R"({"description":"no captions","content_rating":"general"})")};
    });
    auto u = m.app.sign_up_and_log_in("creator@example.com");
    json::object done = m.upload_processed(u.access, fixture("landscape.mp4"));
    CHECK(done.at("status") == "ready");
    CHECK(done.at("analysis").is_null());
    CHECK(std::string(done.at("analysis_error").as_string()).find("captions") != std::string::npos);
    CHECK(done.at("transcript") == "hi");
  }
  SECTION("every model call fails: retried once (the policy allows two attempts), then ready without") {
    MediaApp m;
    m.fake.set_default([](const test::FakeRequest&) { return test::FakeOpenAi::error(500, "boom", "down"); });
    auto u = m.app.sign_up_and_log_in("creator@example.com");
    json::object done = m.upload_processed(u.access, fixture("landscape.mp4"));
    CHECK(done.at("status") == "ready");
    CHECK(done.at("attempts") == 2);
    CHECK(done.at("analysis").is_null());
    CHECK(done.at("transcript").is_null());
    const std::string why(done.at("analysis_error").as_string());
    CHECK(why.find("transcript: unavailable") != std::string::npos);
    CHECK(why.find("analysis: unavailable") != std::string::npos);
    CHECK_FALSE(done.at("urls").at("grid").is_null());
  }
  SECTION("no vision or transcribe route configured (a fresh install)") {
    MediaApp m([](app::AppConfig& c) {
      c.ai.catalog.routes.erase("vision");
      c.ai.catalog.routes.erase("transcribe");
    });
    auto u = m.app.sign_up_and_log_in("creator@example.com");
    json::object done = m.upload_processed(u.access, fixture("landscape.mp4"));
    CHECK(done.at("status") == "ready");
    CHECK(std::string(done.at("analysis_error").as_string()).find("not configured") != std::string::npos);
    CHECK(done.at("attempts") == 1);
  }
}

TEST_CASE("media: uploads stay within the plan's storage and the size limit", "[media]") {
  const std::string video = fixture("landscape.mp4");
  MediaApp m([&](app::AppConfig& c) {
    content::Plan plan{.name = "small", .storage_bytes = video.size() + 2000};
    c.content.billing.plans = {{"small", plan}};
    c.content.billing.default_plan = "small";
    c.media.max_upload = video.size() + 100;
  });
  auto u = m.app.sign_up_and_log_in("creator@example.com");
  Reply first = m.upload(u.access, video);
  REQUIRE(first.status == 201);
  // The next file does not fit what is left: refused from its Content-Length,
  // before it is read.
  Reply second = m.upload(u.access, fixture("no_audio.mp4"));
  CHECK(second.status == 402);
  CHECK(second.code() == "storage_quota_exceeded");
  CHECK(m.app.scalar("SELECT count(*) FROM media.assets") == "1");
  // Past media.max_upload.
  Reply big = m.upload(u.access, video + std::string(200, '\0'));
  CHECK(big.status == 413);
  CHECK(files_under(m.media_root(), ".spool/") == 0);
  // Usage for the invoice: what is stored, and what was processed this month.
  m.wait_processed(u.access, first.str("id"));
  CHECK(std::stoll(m.app.scalar("SELECT sum(stored_bytes) FROM media.assets")) > static_cast<long long>(video.size()));
}

TEST_CASE("media: roles, tenancy, listing, reprocessing and deletion", "[media][roles]") {
  MediaApp m;
  auto owner = m.app.sign_up_and_log_in("owner@example.com");
  auto viewer = m.app.sign_up_and_log_in("viewer@example.com");
  m.app.join(owner, viewer, "viewer");
  auto stranger = m.app.sign_up_and_log_in("stranger@example.com");
  const std::string ws_header = "X-Huntaze-Workspace: " + owner.workspace + "\r\n";

  Reply up = m.upload(owner.access, fixture("landscape.mp4"));
  REQUIRE(up.status == 201);
  const std::string id = up.str("id");
  REQUIRE(m.wait_processed(owner.access, id).at("status") == "ready");
  Reply second = m.upload(owner.access, fixture("no_audio.mp4"));
  REQUIRE(second.status == 201);
  m.wait_processed(owner.access, second.str("id"));

  // Viewers read but cannot upload, reprocess or delete.
  CHECK(m.app.as(viewer.access, "GET", "/api/v1/media/" + id, "", ws_header).status == 200);
  CHECK(m.app.as(viewer.access, "POST", "/api/v1/media", fixture("very_short.mp4"), ws_header).status == 403);
  CHECK(m.app.as(viewer.access, "POST", "/api/v1/media/" + id + "/reprocess", "", ws_header).status == 403);
  CHECK(m.app.as(viewer.access, "DELETE", "/api/v1/media/" + id, "", ws_header).status == 403);
  // Another workspace sees nothing.
  CHECK(m.app.as(stranger.access, "GET", "/api/v1/media/" + id).status == 404);
  CHECK(m.app.as(stranger.access, "DELETE", "/api/v1/media/" + id).status == 404);
  CHECK(m.app.as(stranger.access, "GET", "/api/v1/media").body.at("items").as_array().empty());

  // Pages, newest first, and the status filter.
  Reply page = m.app.as(owner.access, "GET", "/api/v1/media?limit=1");
  REQUIRE(page.status == 200);
  CHECK(page.body.at("items").at(0).at("id").as_string() == second.str("id"));
  const std::string cursor(page.body.at("next_cursor").as_string());
  Reply next = m.app.as(owner.access, "GET", "/api/v1/media?limit=1&cursor=" + cursor);
  CHECK(next.body.at("items").at(0).at("id").as_string() == id);
  CHECK(next.body.at("next_cursor").is_null());
  CHECK(m.app.as(owner.access, "GET", "/api/v1/media?status=failed").body.at("items").as_array().empty());
  CHECK(m.app.as(owner.access, "GET", "/api/v1/media?status=nope").status == 400);
  CHECK(m.app.as(owner.access, "GET", "/api/v1/media?cursor=garbage").status == 400);

  // Reprocess runs the job again.
  Reply again = m.app.as(owner.access, "POST", "/api/v1/media/" + id + "/reprocess");
  CHECK(again.status == 202);
  json::object redone = m.wait_processed(owner.access, id);
  CHECK(redone.at("status") == "ready");
  CHECK(redone.at("attempts") == 2);

  // Delete removes the row and every file of the asset.
  CHECK(files_under(m.media_root(), id) == 3);  // original, grid, poster
  CHECK(m.app.as(owner.access, "DELETE", "/api/v1/media/" + id).status == 204);
  CHECK(m.app.as(owner.access, "GET", "/api/v1/media/" + id).status == 404);
  CHECK(files_under(m.media_root(), id) == 0);
  CHECK(m.app.as(owner.access, "DELETE", "/api/v1/media/" + id).status == 404);
}

TEST_CASE("media: settings and media.lifecycle delete originals after processing, and spool leftovers", "[media]") {
  MediaApp m([](app::AppConfig& c) { c.media.original_grace = std::chrono::seconds(0); });
  auto owner = m.app.sign_up_and_log_in("owner@example.com");
  auto other = m.app.sign_up_and_log_in("other@example.com");
  test::admin_exec(m.app.url, "UPDATE auth.workspaces SET platform_admin = true WHERE id = '" + owner.workspace + "'");

  CHECK(m.app.as(owner.access, "GET", "/api/v1/media/settings").body.at("delete_originals") == false);
  CHECK(m.app.as(owner.access, "PUT", "/api/v1/media/settings", R"({"delete_originals":"yes"})").status == 400);
  Reply set = m.app.as(owner.access, "PUT", "/api/v1/media/settings", R"({"delete_originals":true})");
  REQUIRE(set.status == 200);
  CHECK(set.body.at("delete_originals") == true);

  const std::string video = fixture("landscape.mp4");
  Reply mine = m.upload(owner.access, video);
  Reply theirs = m.upload(other.access, video);  // a workspace that keeps its originals
  REQUIRE(mine.status == 201);
  REQUIRE(theirs.status == 201);
  const json::object before = m.wait_processed(owner.access, mine.str("id"));
  m.wait_processed(other.access, theirs.str("id"));

  // A spool file a crash left behind long ago, and one of an upload in flight.
  const fs::path spool = fs::path(m.media_root()) / ".spool";
  fs::create_directories(spool);
  { std::ofstream(spool / "upload-old") << "x"; }
  { std::ofstream(spool / "upload-new") << "x"; }
  fs::last_write_time(spool / "upload-old", fs::file_time_type::clock::now() - std::chrono::hours(24 * 8));

  REQUIRE(m.app.as(owner.access, "POST", "/api/v1/admin/schedules/media.lifecycle/run").status < 300);
  CHECK(m.jobs_completed("media.lifecycle", 1, 20s));

  Reply after = m.app.as(owner.access, "GET", "/api/v1/media/" + mine.str("id"));
  CHECK(after.body.at("status") == "ready");
  CHECK(after.body.at("urls").at("original").is_null());
  CHECK_FALSE(after.body.at("urls").at("grid").is_null());
  CHECK(after.body.at("stored_bytes").to_number<int64_t>() ==
        before.at("stored_bytes").to_number<int64_t>() - static_cast<int64_t>(video.size()));
  CHECK(files_under(m.media_root(), mine.str("id") + "/original") == 0);
  CHECK(m.app.as(owner.access, "POST", "/api/v1/media/" + mine.str("id") + "/reprocess").status == 409);
  // The other workspace keeps its original.
  Reply kept = m.app.as(other.access, "GET", "/api/v1/media/" + theirs.str("id"));
  CHECK_FALSE(kept.body.at("urls").at("original").is_null());
  CHECK(files_under(m.media_root(), theirs.str("id") + "/original") == 1);
  CHECK_FALSE(fs::exists(spool / "upload-old"));
  CHECK(fs::exists(spool / "upload-new"));
}

TEST_CASE("media: with the S3 backend, uploads and derived files go to the bucket and links are presigned",
          "[media][s3]") {
  test::S3Server s3;
  MediaApp m([&](app::AppConfig& c) {
    c.media.storage.backend = "s3";
    auto& b = c.media.storage.s3;
    b.endpoint = s3.endpoint();
    b.bucket = test::kS3Bucket;
    b.access_key = "S3RVER";
    b.secret_key = Secret("S3RVER");
    b.temp_dir = c.media.storage.spool_dir.string();
  });
  auto u = m.app.sign_up_and_log_in("creator@example.com");
  const std::string video = fixture("landscape.mp4");
  Reply up = m.upload(u.access, video);
  REQUIRE(up.status == 201);
  json::object done = m.wait_processed(u.access, up.str("id"));
  REQUIRE(done.at("status") == "ready");
  CHECK(done.at("probe").at("grid").at("frames").as_array().size() == 16);
  CHECK_FALSE(done.at("analysis").is_null());

  // Nothing stays on local disk: the spool file went up, the download for
  // processing was temporary.
  CHECK(files_under(m.media_root(), "") == 0);
  const std::string prefix = s3.endpoint();
  auto fetch = [&](const json::value& url) {
    const std::string text(url.as_string());
    REQUIRE(text.starts_with(prefix + "/" + test::kS3Bucket + "/ws/" + u.workspace + "/"));
    CHECK(text.find("X-Amz-Signature=") != std::string::npos);
    return test::http_get(s3.port(), text.substr(prefix.size()));
  };
  const auto& urls = done.at("urls").as_object();
  auto original = fetch(urls.at("original"));
  CHECK(original.status == 200);
  CHECK(original.body == video);
  auto grid = fetch(urls.at("grid"));
  CHECK(grid.status == 200);
  CHECK(grid.body.substr(0, 2) == "\xFF\xD8");

  // Deleting removes the objects from the bucket.
  const std::string grid_url(urls.at("grid").as_string());
  CHECK(m.app.as(u.access, "DELETE", "/api/v1/media/" + up.str("id")).status == 204);
  CHECK(test::http_get(s3.port(), grid_url.substr(prefix.size())).status == 404);
}

TEST_CASE("media: media.rendition makes a smaller H.264 copy after processing", "[media]") {
  MediaApp m([](app::AppConfig& c) {
    c.media.rendition.enabled = true;
    c.media.rendition.target_bytes = 250 * 1000;
    c.media.rendition.max_long_side = 320;
  });
  auto u = m.app.sign_up_and_log_in("creator@example.com");
  const std::string video = fixture("busy.mp4");
  Reply up = m.upload(u.access, video);
  REQUIRE(up.status == 201);
  const json::object done = m.wait_processed(u.access, up.str("id"));
  REQUIRE(done.at("status") == "ready");
  CHECK(m.jobs_completed("media.rendition", 1, 120s));
  Reply after = m.app.as(u.access, "GET", "/api/v1/media/" + up.str("id"));
  REQUIRE_FALSE(after.body.at("urls").at("rendition").is_null());
  auto rendition = m.fetch(std::string(after.body.at("urls").at("rendition").as_string()));
  CHECK(rendition.status == 200);
  CHECK(rendition.header("content-type") == "video/mp4");
  CHECK(rendition.body.substr(4, 4) == "ftyp");
  CHECK(rendition.body.size() < video.size());
  CHECK(after.body.at("stored_bytes").to_number<int64_t>() ==
        done.at("stored_bytes").to_number<int64_t>() + static_cast<int64_t>(rendition.body.size()));

  // A small original gets none.
  Reply small = m.upload(u.access, fixture("no_audio.mp4"));
  REQUIRE(small.status == 201);
  m.wait_processed(u.access, small.str("id"));
  CHECK(m.app.scalar("SELECT count(*) FROM jobs.jobs WHERE kind = 'media.rendition'") == "1");
}
