// Offers and posts move at their exact times, once: with a manual clock, the
// real queue and an event subscription, the job for one offer and the cron
// sweep race each other and the event is published once. Then the HTTP API.
#include "content/offers.hpp"
#include "content/posts.hpp"
#include "content_fixture.hpp"
#include "jobs_fixture.hpp"

using namespace huntaze;
using namespace huntaze::test::jobst;
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

const char* kWorkspace = "0190a000-0000-7000-8000-000000000001";

struct Lifecycle : JobsFixture {
  Lifecycle() {
    // The kinds the offers and posts enqueue, and a subscriber that makes
    // every content event a job we can count.
    for (const char* kind : {content::kOffersActivateKind, content::kOffersExpireKind, content::kPostsDueKind})
      kinds.add(kind, [](jobs::JobContext&) -> asio::awaitable<void> { co_return; });
    kinds.subscribe({.name = "test.content", .topic = "content", .handler = [](jobs::JobContext&) -> asio::awaitable<void> {
                       co_return;
                     }});
    clock.set(test_epoch());
    query("INSERT INTO auth.workspaces (id, name, created_at) VALUES ($1::uuid, 'w', now())", test::dbt::params(std::string(kWorkspace)));
    offers = std::make_unique<content::Offers>(*db, queue(), clock);
    posts = std::make_unique<content::Posts>(*db, queue(), clock);
  }

  int64_t count(const std::string& sql) { return query(sql).front().get<int64_t>(0); }
  int64_t events(const std::string& type) {
    return count("SELECT count(*) FROM jobs.jobs WHERE kind = 'event:test.content' AND payload->>'type' = '" + type + "'");
  }

  // Runs `one` for the offer and `sweep` for everything, three of each at once.
  template <class Move>
  void race(Move move, Uuid id) {
    std::vector<std::future<int>> runs;
    for (int i = 0; i < 3; ++i) {
      runs.push_back(io.spawn(move(std::optional<Uuid>(id))));
      runs.push_back(io.spawn(move(std::optional<Uuid>())));
    }
    int moved = 0;
    for (auto& r : runs) moved += r.get();
    CHECK(moved == 1);
  }

  std::unique_ptr<content::Offers> offers;
  std::unique_ptr<content::Posts> posts;
};

}  // namespace

TEST_CASE("an offer starts and ends once at its times, however the job and the sweep race", "[content][offers]") {
  Lifecycle f;
  const Uuid ws = *Uuid::parse(kWorkspace);
  const SysTime t0 = test_epoch();
  content::OfferFields fields{.title = "Weekend sale", .description = std::nullopt, .kind = "discount",
                              .price_cents = std::nullopt, .discount_percent = 30,
                              .starts_at = t0 + 1h, .ends_at = t0 + 3h};
  auto made = f.block(f.offers->create(ws, Uuid{}, fields));
  CHECK(made.at("status") == "scheduled");
  const Uuid id = *Uuid::parse(made.at("id").as_string());
  // Its two moves are jobs at exactly its times.
  CHECK(f.count("SELECT count(*) FROM jobs.jobs WHERE kind = 'offers.activate' AND run_at = '" +
                format_iso8601(t0 + 1h) + "'") == 1);
  CHECK(f.count("SELECT count(*) FROM jobs.jobs WHERE kind = 'offers.expire' AND run_at = '" +
                format_iso8601(t0 + 3h) + "'") == 1);

  // Early: nothing moves; the offer's own job is told to come back at the start.
  const std::optional<Uuid> one(id);
  CHECK(f.block(f.offers->activate(std::nullopt, t0 + 30min)) == 0);
  CHECK_THROWS_AS(f.block(f.offers->activate(one, t0 + 30min)), jobs::RetryAt);

  f.race([&](std::optional<Uuid> which) { return f.offers->activate(which, t0 + 1h); }, id);
  CHECK(f.events("offer.activated") == 1);
  CHECK(f.block(f.offers->get(ws, id))->at("status") == "active");
  CHECK(f.block(f.offers->get(ws, id))->at("activated_at").as_string() == format_iso8601(t0 + 1h));

  f.race([&](std::optional<Uuid> which) { return f.offers->expire(which, t0 + 3h); }, id);
  CHECK(f.events("offer.expired") == 1);
  CHECK(f.block(f.offers->get(ws, id))->at("status") == "expired");
  // A late duplicate changes nothing.
  CHECK(f.block(f.offers->activate(one, t0 + 4h)) == 0);
  CHECK(f.events("offer.activated") == 1);
}

TEST_CASE("moving an offer's times schedules new moves and the old jobs do nothing", "[content][offers]") {
  Lifecycle f;
  const Uuid ws = *Uuid::parse(kWorkspace);
  const SysTime t0 = test_epoch();
  content::OfferFields fields{.title = "Bundle", .kind = "bundle", .price_cents = 1999,
                              .starts_at = t0 + 1h, .ends_at = t0 + 2h};
  const Uuid id = *Uuid::parse(f.block(f.offers->create(ws, Uuid{}, fields)).at("id").as_string());
  content::OfferFields later{.starts_at = t0 + 5h, .ends_at = t0 + 6h};
  f.block(f.offers->update(ws, id, later));
  CHECK(f.count("SELECT count(*) FROM jobs.jobs WHERE kind = 'offers.activate'") == 2);
  // The old start comes: the offer stays scheduled (its job would retry at the new start).
  const std::optional<Uuid> one(id);
  CHECK_THROWS_AS(f.block(f.offers->activate(one, t0 + 1h)), jobs::RetryAt);
  CHECK(f.block(f.offers->get(ws, id))->at("status") == "scheduled");
  // The old start's job knows the time it was made for: it ends quietly
  // (the new start has a job of its own) instead of coming back.
  CHECK(f.block(f.offers->activate(one, t0 + 1h, t0 + 1h)) == 0);
  CHECK(f.count("SELECT count(*) FROM jobs.jobs WHERE kind = 'offers.activate' AND payload->>'at' = '" +
                std::to_string((t0 + 5h).time_since_epoch().count()) + "'") == 1);
  CHECK(f.block(f.offers->activate(one, t0 + 5h)) == 1);
  // Started: the start is fixed now; a discount needs its percentage; a canceled offer stays canceled.
  content::OfferFields restart{.starts_at = t0 + 7h};
  CHECK_THROWS_AS(f.block(f.offers->update(ws, id, restart)), ApiError);
  content::OfferFields discount{.kind = "discount"};
  CHECK_THROWS_AS(f.block(f.offers->update(ws, id, discount)), ApiError);
  CHECK(f.block(f.offers->cancel(ws, id)).at("status") == "canceled");
  CHECK(f.block(f.offers->expire(one, t0 + 6h)) == 0);
  CHECK(f.events("offer.expired") == 0);
}

TEST_CASE("a scheduled post becomes due once, and again only when rescheduled", "[content][posts]") {
  Lifecycle f;
  const Uuid ws = *Uuid::parse(kWorkspace);
  const SysTime t0 = test_epoch();
  content::PostFields fields{.platform = "onlyfans", .caption = "New set tonight",
                             .media = std::vector<std::string>{"media-1"}, .scheduled_at = t0 + 2h};
  auto made = f.block(f.posts->create(ws, Uuid{}, fields));
  CHECK(made.at("status") == "scheduled");
  const Uuid id = *Uuid::parse(made.at("id").as_string());
  const std::optional<Uuid> one(id);
  CHECK_THROWS_AS(f.block(f.posts->due(one, t0 + 1h)), jobs::RetryAt);
  f.race([&](std::optional<Uuid> which) { return f.posts->due(which, t0 + 2h); }, id);
  CHECK(f.events("post.due") == 1);
  const auto event = f.query("SELECT payload->>'data' FROM jobs.jobs WHERE kind = 'event:test.content'").front().get<std::string>(0);
  const auto data = json::parse(event).as_object();
  CHECK(data.at("caption") == "New set tonight");
  CHECK(data.at("media").at(0) == "media-1");
  CHECK(data.at("platform") == "onlyfans");

  // Rescheduled: due again at the new time, once.
  content::PostFields later{.scheduled_at = t0 + 5h};
  CHECK(f.block(f.posts->update(ws, id, later)).at("due_at").is_null());
  CHECK(f.block(f.posts->due(std::nullopt, t0 + 5h)) == 1);
  CHECK(f.block(f.posts->due(std::nullopt, t0 + 6h)) == 0);
  CHECK(f.events("post.due") == 2);
  // The connector reports it published; a second report keeps the first.
  auto published = f.block(f.posts->mark_published(ws, id, std::string("p-1"), t0 + 5h + 1min));
  CHECK(published.at("status") == "published");
  auto again = f.block(f.posts->mark_published(ws, id, std::string("p-2"), t0 + 6h));
  CHECK(again.at("platform_post_id") == "p-1");
  content::PostFields edit{.caption = "changed"};
  CHECK_THROWS_AS(f.block(f.posts->update(ws, id, edit)), ApiError);
}

TEST_CASE("offers and posts over HTTP: validation, live moves, tenancy", "[content][offers][posts]") {
  using namespace huntaze::test::contentt;
  ContentApp t;
  auto u = t.sign_up_and_log_in("creator@example.com");
  // Starts in a moment, ends a moment later: the queue's workers move it.
  const auto now = SystemClock().now();
  json::object offer{{"title", "Flash sale"}, {"kind", "discount"}, {"discount_percent", 20},
                     {"starts_at", format_iso8601(now + 1s)}, {"ends_at", format_iso8601(now + 3s)}};
  Reply made = t.as(u.access, "POST", "/api/v1/offers", json::serialize(offer));
  REQUIRE(made.status == 201);
  const std::string id = made.str("id");
  CHECK(test::eventually([&] { return t.as(u.access, "GET", "/api/v1/offers/" + id).str("status") == "active"; }, 20s));
  CHECK(test::eventually([&] { return t.as(u.access, "GET", "/api/v1/offers/" + id).str("status") == "expired"; }, 20s));

  // An offer already running is active at once.
  json::object running{{"title", "PPV drop"}, {"kind", "ppv"}, {"price_cents", 1500},
                       {"starts_at", format_iso8601(now - 1h)}, {"ends_at", format_iso8601(now + 24h)}};
  Reply live = t.as(u.access, "POST", "/api/v1/offers", json::serialize(running));
  CHECK(live.str("status") == "active");
  CHECK(t.as(u.access, "GET", "/api/v1/offers?status=active").body.at("items").as_array().size() == 1);
  Reply bad = t.as(u.access, "POST", "/api/v1/offers",
                   R"({"title":"x","kind":"bundle","starts_at":"2030-01-02T00:00:00Z","ends_at":"2030-01-01T00:00:00Z"})");
  CHECK(bad.status == 400);
  CHECK(bad.body.at("error").at("details").as_array().size() == 2);  // no price, ends before it starts

  Reply post = t.as(u.access, "POST", "/api/v1/posts", R"({"platform":"onlyfans","caption":"hello","status":"draft"})");
  REQUIRE(post.status == 201);
  CHECK(post.str("status") == "draft");
  CHECK(t.as(u.access, "PATCH", "/api/v1/posts/" + post.str("id"), R"({"status":"scheduled"})").status == 400);
  Reply scheduled = t.as(u.access, "PATCH", "/api/v1/posts/" + post.str("id"),
                         json::serialize(json::object{{"scheduled_at", format_iso8601(now + 1s)}, {"status", "scheduled"}}));
  CHECK(scheduled.str("status") == "scheduled");
  CHECK(test::eventually([&] { return !t.as(u.access, "GET", "/api/v1/posts/" + post.str("id")).body.at("due_at").is_null(); }, 20s));
  CHECK(t.as(u.access, "GET", "/api/v1/posts?status=scheduled").body.at("items").as_array().size() == 1);
  Reply draft = t.as(u.access, "POST", "/api/v1/posts", R"({"platform":"onlyfans","caption":"maybe later"})");
  CHECK(t.as(u.access, "POST", "/api/v1/posts/" + draft.str("id") + "/cancel").str("status") == "canceled");
  CHECK(t.as(u.access, "POST", "/api/v1/posts/" + draft.str("id") + "/cancel").status == 409);
  CHECK(t.as(u.access, "POST", "/api/v1/posts/" + draft.str("id") + "/published", "{}").status == 409);

  // Another workspace sees none of it.
  auto other = t.sign_up_and_log_in("other@example.com");
  CHECK(t.as(other.access, "GET", "/api/v1/offers/" + id).status == 404);
  CHECK(t.as(other.access, "POST", "/api/v1/offers/" + id + "/cancel").status == 404);
  CHECK(t.as(other.access, "PATCH", "/api/v1/posts/" + post.str("id"), R"({"caption":"x"})").status == 404);
  CHECK(t.as(other.access, "POST", "/api/v1/posts/" + post.str("id") + "/published", "{}").status == 404);
  CHECK(t.as(other.access, "GET", "/api/v1/offers").body.at("items").as_array().empty());
  CHECK(t.as(other.access, "GET", "/api/v1/posts").body.at("items").as_array().empty());
}
