// The router with its Redis cache: hits, tenant separation, cache control,
// single-flight, and Redis being away.
#include "ai_router/budgets.hpp"
#include "ai_router/response_cache.hpp"
#include "db_fixture.hpp"
#include "huntaze/core/uuid.hpp"
#include "ai_router_fixture.hpp"
#include "redis/redis_client.hpp"
#include "support/harness.hpp"

using namespace huntaze;
using namespace std::chrono_literals;
using test::FakeOpenAi;
using test::FakeReply;
using test::ait::ask;
using test::ait::RouterFixture;

namespace {

// A fresh word per test run, so entries cached by earlier runs never match.
std::string unique_text(const std::string& what) {
  static std::atomic<int> n{0};
  return what + " " + std::to_string(::getpid()) + "-" + std::to_string(n++) + "-" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
}

struct CachedRouter {
  explicit CachedRouter(redis::RedisConfig redis_config = test::shared_redis_config()) {
    redis = redis::make_redis_client(rf.io.executor(), std::move(redis_config), rf.registry);
    cache = std::make_unique<ai_router::ResponseCache>(*redis, rf.registry, ai_router::CacheConfig{});
    rf.catalog.deployments = {test::ait::deployment(rf.fake, "primary", "primary"), test::ait::templates_deployment()};
    rf.catalog.routes = {{"generate", {"primary", "templates"}}};
  }
  ~CachedRouter() {
    rf.router.reset();
    cache.reset();
    redis->close();
  }
  // Starts the router with the cache (and `budgets`), once Redis is connected.
  void start(ai_router::Budgets* budgets = nullptr) {
    rf.start(cache.get(), nullptr, budgets);
    REQUIRE(test::eventually([&] { return redis->connected(); }));
  }
  RouterFixture rf;
  std::shared_ptr<redis::Redis> redis;
  std::unique_ptr<ai_router::ResponseCache> cache;
};

}  // namespace

TEST_CASE("ai_router cache: a repeated request is a free cache hit, another workspace misses", "[ai_router][cache]") {
  CachedRouter c;
  c.start();
  auto req = ask("generate", unique_text("hello"));
  req.workspace = "ws-a";
  auto first = c.rf.complete(req);
  CHECK_FALSE(first.cache_hit);
  CHECK(first.cost_micros > 0);
  auto second = c.rf.complete(req);
  CHECK(second.cache_hit);
  CHECK(second.content == first.content);
  CHECK(second.cost_micros == 0);
  CHECK(c.rf.fake.request_count() == 1);

  auto other = req;
  other.workspace = "ws-b";
  CHECK_FALSE(c.rf.complete(other).cache_hit);
  CHECK(c.rf.fake.request_count() == 2);
  CHECK(c.rf.counter("huntaze_ai_requests_total", {"task", "outcome"}, {"generate", "cache_hit"}) == 1);
}

TEST_CASE("ai_router cache: no-cache refreshes, no-store bypasses, errors and canned replies are not kept",
          "[ai_router][cache]") {
  CachedRouter c;
  c.start();
  auto req = ask("generate", unique_text("control"));

  SECTION("no-store neither reads nor writes") {
    req.cache = ai_router::CacheMode::bypass;
    c.rf.complete(req);
    c.rf.complete(req);
    CHECK(c.rf.fake.request_count() == 2);
    req.cache = ai_router::CacheMode::use;
    CHECK_FALSE(c.rf.complete(req).cache_hit);
  }
  SECTION("no-cache skips the read but stores the fresh answer") {
    c.rf.complete(req);
    req.cache = ai_router::CacheMode::refresh;
    c.rf.fake.script("/models/chat/completions", FakeReply{.body = FakeOpenAi::completion("fresher")});
    CHECK(c.rf.complete(req).content == "fresher");
    req.cache = ai_router::CacheMode::use;
    auto hit = c.rf.complete(req);
    CHECK(hit.cache_hit);
    CHECK(hit.content == "fresher");
  }
  SECTION("a failed answer is not cached; the templates' fallback is not cached either") {
    c.rf.fake.script("/models/chat/completions", FakeOpenAi::error(400, "content_filter", "no"));
    CHECK(c.rf.complete(req).deployment == "templates");
    auto again = c.rf.complete(req);
    CHECK_FALSE(again.cache_hit);
    CHECK(again.deployment == "primary");
  }
}

TEST_CASE("ai_router cache: 50 identical concurrent requests make one upstream call", "[ai_router][cache]") {
  CachedRouter c;
  c.rf.fake.set_default([](const test::FakeRequest& r) {
    FakeReply slow = FakeOpenAi::default_reply(r);
    slow.delay = 300ms;  // long enough for all 50 to arrive while the first is out
    return slow;
  });
  c.start();
  auto req = ask("generate", unique_text("together"));
  std::vector<std::future<ai_router::Completion>> answers;
  for (int i = 0; i < 50; ++i) answers.push_back(c.rf.io.spawn(c.rf.router->complete(req)));
  int leaders = 0;
  for (auto& a : answers) {
    auto completion = a.get();
    CHECK(completion.content == "ok");
    leaders += completion.cache_hit ? 0 : 1;
  }
  CHECK(leaders == 1);
  CHECK(c.rf.fake.request_count() == 1);
}

TEST_CASE("ai_router cache: with Redis away requests still succeed, uncached", "[ai_router][cache]") {
  test::RedisProcess private_redis;
  CachedRouter c(private_redis.config());
  c.start();
  private_redis.stop();
  REQUIRE(test::eventually([&] { return !c.redis->connected(); }));
  auto req = ask("generate", unique_text("offline"));
  CHECK(c.rf.complete(req).content == "ok");
  CHECK(c.rf.complete(req).content == "ok");
  CHECK(c.rf.fake.request_count() == 2);
}

TEST_CASE("ai_router budgets: a spent workspace budget refuses with 402, or downgrades to the templates",
          "[ai_router][budgets]") {
  test::dbt::DbFixture dbf;
  CachedRouter c;
  ai_router::BudgetConfig config;
  config.workspace_monthly_micros = 30;  // one default answer costs 10 x 1.14 + 5 x 4.56 = 34 micro-dollars
  bool downgrade = GENERATE(false, true);
  config.downgrade = downgrade;
  ai_router::Budgets budgets(*c.redis, *dbf.db, c.rf.clock, c.rf.registry, config);
  c.start(&budgets);
  auto req = ask("generate", unique_text("budget"));
  req.workspace = Uuid::v7().str();
  req.cache = ai_router::CacheMode::bypass;
  CHECK(c.rf.complete(req).deployment == "primary");
  CHECK(c.rf.io.block(budgets.spent(req.workspace)) == 34);
  if (downgrade) {
    auto cheap = c.rf.complete(req);
    CHECK(cheap.deployment == "templates");
    CHECK(cheap.cost_micros == 0);
  } else {
    CHECK(c.rf.failure(req) == ai_router::AiError::Kind::budget_exceeded);
  }
  CHECK(c.rf.fake.request_count() == 1);
  // Another workspace has its own budget.
  auto other = req;
  other.workspace = Uuid::v7().str();
  CHECK(c.rf.complete(other).deployment == "primary");
}

TEST_CASE("ai_router cache: degraded answers are not kept — canned ones by provider, downgraded ones by budget",
          "[ai_router][cache]") {
  SECTION("a templates deployment under another name") {
    CachedRouter c;
    auto canned = test::ait::templates_deployment();
    canned.name = canned.alias = "canned";
    c.rf.catalog.deployments = {canned};
    c.rf.catalog.routes = {{"generate", {"canned"}}};
    c.start();
    auto req = ask("generate", unique_text("canned"));
    CHECK(c.rf.complete(req).deployment == "canned");
    CHECK_FALSE(c.rf.complete(req).cache_hit);
  }
  SECTION("the cheaper step of a route without templates, over budget") {
    test::dbt::DbFixture dbf;
    CachedRouter c;
    c.rf.catalog.deployments = {test::ait::deployment(c.rf.fake, "primary", "primary"),
                                test::ait::deployment(c.rf.fake, "backup", "backup")};
    c.rf.catalog.routes = {{"generate", {"primary", "backup"}}};
    ai_router::BudgetConfig config;
    config.workspace_monthly_micros = 30;  // spent by the first answer (34 micro-dollars)
    config.downgrade = true;
    ai_router::Budgets budgets(*c.redis, *dbf.db, c.rf.clock, c.rf.registry, config);
    c.start(&budgets);
    auto spend = ask("generate", unique_text("spend"));
    spend.workspace = Uuid::v7().str();
    CHECK(c.rf.complete(spend).deployment == "primary");
    auto req = ask("generate", unique_text("downgraded"));
    req.workspace = spend.workspace;
    CHECK(c.rf.complete(req).deployment == "backup");
    const auto calls = c.rf.fake.request_count();
    // Asked again: not a cache hit, the cheaper model answers again.
    auto again = c.rf.complete(req);
    CHECK_FALSE(again.cache_hit);
    CHECK(again.deployment == "backup");
    CHECK(c.rf.fake.request_count() == calls + 1);
  }
}
