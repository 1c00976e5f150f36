// AI budgets and rate limits against real Redis and PostgreSQL: RPM and TPM
// windows with their retry_after, workspace and platform budgets (refusal or
// downgrade), alerts once per month, months starting from zero,
// reconciliation from the usage log, tenant isolation and the in-process
// fallback while Redis is down.
//
// Each test runs in a random month of a future year so that its platform
// counter (shared by every workspace) is its own; workspaces are fresh UUIDs.
#include <catch2/catch.hpp>
#include <future>
#include <mutex>
#include <optional>
#include <random>
#include <tuple>
#include <vector>

#include "ai_router/budget_events.hpp"
#include "ai_router/budget_rate.hpp"
#include "ai_router/budgets.hpp"
#include "ai_router/usage_partitions.hpp"
#include "db_fixture.hpp"
#include "huntaze/core/time_format.hpp"
#include "huntaze/core/uuid.hpp"
#include "huntaze/jobs/job_queue.hpp"
#include "huntaze/jobs/registry.hpp"
#include "jobs/pg_job_queue.hpp"
#include "redis_fixture.hpp"
#include "support/fake_job_context.hpp"

using namespace huntaze;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using ai_router::AiError;
using ai_router::BudgetConfig;
using ai_router::Budgets;

namespace {

// Years before 2255 keep microsecond timestamps exact in Lua's doubles.
std::chrono::year_month random_month() {
  std::random_device rd;
  std::uniform_int_distribution<int> year(2040, 2230), month(1, 12);
  return std::chrono::year(year(rd)) / std::chrono::month(static_cast<unsigned>(month(rd)));
}

SysTime mid_month(std::chrono::year_month ym) {
  return SysTime(std::chrono::sys_days(ym / 10).time_since_epoch()) + 12h;
}


std::string workspace() { return Uuid::v7().str(); }

struct Alert {
  std::string workspace;
  int percent;
  int64_t spent, budget;
  bool operator==(const Alert&) const = default;
};

// A fresh database, a Redis client (the shared server unless told), a
// clock stopped in the middle of a random month and a Budgets on them.
struct Env {
  explicit Env(BudgetConfig c, std::optional<redis::RedisConfig> rc = std::nullopt)
      : redis(rc ? *rc : test::shared_redis_config()), month(random_month()), clock(mid_month(month)), config(c) {
    // Leftovers of an earlier run that drew the same month.
    for (auto ym : {month, month + std::chrono::months(1)}) {
      const std::string key = "huntaze:ai:budget:" + format_year_month(ym) + ":platform";
      redis.io.block(redis.redis->command("DEL", key, key + ":alert80", key + ":alert100"));
    }
    budgets = make();
  }

  std::unique_ptr<Budgets> make() {
    auto b = std::make_unique<Budgets>(*redis.redis, *db.db, clock, registry, config);
    b->on_alert([this](const ai_router::BudgetAlert& a) {
      std::lock_guard lock(alerts_mutex);
      alerts.push_back(Alert{a.workspace, a.percent, a.spent, a.budget});
    });
    return b;
  }

  Budgets::Admission admit(const std::string& ws, int64_t tokens = 0) {
    return redis.io.block(budgets->admit(ws, tokens));
  }
  void charge(const std::string& ws, int64_t cost, int64_t tokens = 0, int64_t estimated = 0) {
    redis.io.block(budgets->charge(ws, cost, tokens, estimated));
  }
  int64_t spent(const std::string& ws) { return redis.io.block(budgets->spent(ws)); }

  // The AiError admit() throws; fails the test when it admits.
  AiError refused(const std::string& ws, int64_t tokens = 0) {
    try {
      admit(ws, tokens);
    } catch (const AiError& e) {
      return e;
    }
    FAIL("admitted");
    throw std::logic_error("unreachable");
  }

  double rejections(const char* reason) {
    return registry.counter("huntaze_ai_budget_rejections_total", "", {"reason"}).with({reason}).value();
  }
  double counter(const char* name) { return registry.counter(name, "").with({}).value(); }
  double alerts_metric(const char* percent) {
    return registry.counter("huntaze_ai_budget_alerts_total", "", {"percent"}).with({percent}).value();
  }
  std::vector<Alert> sent_alerts() {
    std::lock_guard lock(alerts_mutex);
    return alerts;
  }

  test::dbt::DbFixture db;
  test::RedisFixture redis;
  std::chrono::year_month month;
  ManualClock clock;
  BudgetConfig config;
  metrics::Registry registry;
  std::mutex alerts_mutex;
  std::vector<Alert> alerts;
  std::unique_ptr<Budgets> budgets;  // last: goes first
};

BudgetConfig limits(int rpm, int tpm) {
  BudgetConfig c;
  c.workspace_rpm = rpm;
  c.workspace_tpm = tpm;
  return c;
}

}  // namespace

TEST_CASE("ai budgets: the request over the RPM limit is refused with retry_after, then allowed", "[ai_budgets]") {
  Env env(limits(3, 0));
  const auto a = workspace(), b = workspace();
  for (int i = 0; i < 3; ++i) REQUIRE(env.admit(a) == Budgets::Admission::ok);

  auto e = env.refused(a);
  REQUIRE(e.kind() == AiError::Kind::rate_limited);
  REQUIRE(e.http_status() == 429);
  REQUIRE(e.retry_after() == std::optional<std::chrono::milliseconds>(20'000ms));  // 60 s / 3
  REQUIRE(env.rejections("rpm") == 1);

  // Another workspace has its own window.
  REQUIRE(env.admit(b) == Budgets::Admission::ok);

  // Not yet, then exactly when told.
  env.clock.advance(19'000ms);
  REQUIRE(env.refused(a).kind() == AiError::Kind::rate_limited);
  env.clock.advance(1'000ms);
  REQUIRE(env.admit(a) == Budgets::Admission::ok);
  REQUIRE(env.refused(a).kind() == AiError::Kind::rate_limited);

  // After a whole quiet minute the full burst is back.
  env.clock.advance(60s);
  for (int i = 0; i < 3; ++i) REQUIRE(env.admit(a) == Budgets::Admission::ok);
  REQUIRE(env.refused(a).kind() == AiError::Kind::rate_limited);
  REQUIRE(env.rejections("rpm") == 4);
  REQUIRE(env.rejections("tpm") == 0);
  REQUIRE(env.counter("huntaze_ai_budget_fallback_total") == 0);  // all of it through Redis
}

TEST_CASE("ai budgets: concurrent requests through two instances share one RPM window", "[ai_budgets]") {
  Env env(limits(10, 0));
  auto other = env.make();
  const auto a = workspace();
  std::vector<std::future<Budgets::Admission>> results;
  for (int i = 0; i < 30; ++i) {
    Budgets& b = i % 2 ? *other : *env.budgets;
    results.push_back(env.redis.io.spawn(b.admit(a, 0)));
  }
  int admitted = 0, limited = 0;
  for (auto& r : results) {
    try {
      r.get();
      ++admitted;
    } catch (const AiError& e) {
      if (e.kind() == AiError::Kind::rate_limited) ++limited;
    }
  }
  REQUIRE(admitted == 10);
  REQUIRE(limited == 20);
  REQUIRE(env.rejections("rpm") == 20);
}

TEST_CASE("ai budgets: TPM takes the estimate before and the correction after", "[ai_budgets]") {
  Env env(limits(0, 1000));
  const auto a = workspace(), b = workspace();
  REQUIRE(env.admit(a, 600) == Budgets::Admission::ok);  // 400 left

  auto e = env.refused(a, 600);
  REQUIRE(e.kind() == AiError::Kind::rate_limited);
  REQUIRE(e.retry_after());
  // 200 missing tokens at 1000 per minute (rounded up to the millisecond).
  REQUIRE(*e.retry_after() >= 12'000ms);
  REQUIRE(*e.retry_after() <= 12'001ms);
  REQUIRE(env.rejections("tpm") == 1);
  REQUIRE(env.admit(b, 600) == Budgets::Admission::ok);  // its own bucket

  // The call used 100 tokens, not 600: 500 come back at once.
  env.charge(a, 10, 100, 600);
  REQUIRE(env.admit(a, 600) == Budgets::Admission::ok);  // 900 - 600 = 300 left
  e = env.refused(a, 600);
  REQUIRE(*e.retry_after() >= 18'000ms);
  REQUIRE(*e.retry_after() <= 18'001ms);
  env.clock.advance(*e.retry_after());
  REQUIRE(env.admit(a, 600) == Budgets::Admission::ok);

  // A call that used more than estimated leaves the bucket in debt.
  env.clock.advance(60s);                                 // full again: 1000
  REQUIRE(env.admit(a, 100) == Budgets::Admission::ok);  // 900
  env.charge(a, 10, 1500, 100);                           // -500
  REQUIRE(env.refused(a, 0).kind() == AiError::Kind::rate_limited);
  env.clock.advance(30s);  // back to 0
  REQUIRE(env.admit(a, 0) == Budgets::Admission::ok);

  // A deep debt outlives the keys' usual two minutes: idling does not forgive it.
  env.charge(a, 10, 4000, 0);  // -4000: full again in five minutes
  const int64_t pttl =
      env.redis.io.block(env.redis.redis->command("PTTL", "huntaze:ai:rate:tpm:" + a)).integer;
  REQUIRE(pttl > 120'000);
  REQUIRE(pttl <= 300'000);
  env.clock.advance(150s);  // -1500
  REQUIRE(env.refused(a, 0).kind() == AiError::Kind::rate_limited);
  REQUIRE(env.counter("huntaze_ai_budget_fallback_total") == 0);
}

TEST_CASE("ai budgets: a workspace over its month's budget is refused, or downgraded", "[ai_budgets]") {
  BudgetConfig c;
  c.workspace_monthly_micros = 1000;
  Env env(c);
  const auto a = workspace(), b = workspace();

  REQUIRE(env.admit(a) == Budgets::Admission::ok);
  env.charge(a, 600);
  env.charge(a, 0);  // a cache hit charges nothing
  REQUIRE(env.spent(a) == 600);
  REQUIRE(env.admit(a) == Budgets::Admission::ok);
  env.charge(a, 400);
  REQUIRE(env.spent(a) == 1000);
  // The month's counter, kept ~40 days.
  const std::string key = "huntaze:ai:budget:" + format_year_month(env.month) + ":ws:" + a;
  REQUIRE(env.redis.io.block(env.redis.redis->command("GET", key)).str == "1000");
  const int64_t ttl = env.redis.io.block(env.redis.redis->command("TTL", key)).integer;
  REQUIRE(ttl > 39 * 86400);
  REQUIRE(ttl <= 40 * 86400);

  auto e = env.refused(a);
  REQUIRE(e.kind() == AiError::Kind::budget_exceeded);
  REQUIRE(e.http_status() == 402);
  REQUIRE(env.rejections("workspace_budget") == 1);

  // Tenant isolation: A's spend never counts for B.
  REQUIRE(env.spent(b) == 0);
  REQUIRE(env.admit(b) == Budgets::Admission::ok);
  // The platform total has both (there is no platform budget here).
  REQUIRE(env.spent("") == 1000);

  // The same counters seen with downgrade on.
  env.config.downgrade = true;
  env.budgets = env.make();
  REQUIRE(env.admit(a) == Budgets::Admission::downgrade);
  REQUIRE(env.counter("huntaze_ai_budget_downgrades_total") == 1);
  REQUIRE(env.admit(b) == Budgets::Admission::ok);
  REQUIRE(env.rejections("workspace_budget") == 1);

  // Any case of the same UUID is the same workspace.
  std::string upper = a;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  REQUIRE(env.spent(upper) == 1000);

  // Only UUIDs or "".
  auto bad = std::string("not-a-workspace");
  try {
    env.admit(bad);
    FAIL("admitted");
  } catch (const AiError& err) {
    REQUIRE(err.kind() == AiError::Kind::bad_request);
  }
  REQUIRE_THROWS_AS(env.charge(bad, 10), AiError);
}

TEST_CASE("ai budgets: the platform budget counts every workspace and the platform's own calls", "[ai_budgets]") {
  BudgetConfig c;
  c.platform_monthly_micros = 1000;
  Env env(c);
  const auto a = workspace(), b = workspace(), fresh = workspace();

  env.charge(a, 500);
  env.charge("", 200);
  REQUIRE(env.admit(fresh) == Budgets::Admission::ok);
  REQUIRE(env.admit("") == Budgets::Admission::ok);
  env.charge(b, 300);
  REQUIRE(env.spent("") == 1000);
  REQUIRE(env.spent(a) == 500);

  REQUIRE(env.refused(fresh).kind() == AiError::Kind::budget_exceeded);
  REQUIRE(env.refused("").kind() == AiError::Kind::budget_exceeded);
  REQUIRE(env.rejections("platform_budget") == 2);
  REQUIRE(env.rejections("workspace_budget") == 0);
}

TEST_CASE("ai budgets: alerts at 80% and 100% once per month, across instances, and again next month",
          "[ai_budgets]") {
  BudgetConfig c;
  c.workspace_monthly_micros = 1000;
  c.platform_monthly_micros = 1300;
  Env env(c);
  const auto a = workspace();
  auto other = env.make();  // another instance on the same Redis

  env.charge(a, 700);  // 70%, platform 54%
  REQUIRE(env.sent_alerts().empty());
  env.charge(a, 100);  // 80%
  REQUIRE(env.sent_alerts() == std::vector<Alert>{{a, 80, 800, 1000}});
  env.redis.io.block(other->charge(a, 50, 0));  // 85%: nothing new, in no instance
  REQUIRE(env.sent_alerts().size() == 1);
  env.redis.io.block(other->charge(a, 200, 0));  // 105%, platform 81%
  env.charge(a, 10);
  REQUIRE(env.sent_alerts() == std::vector<Alert>{{a, 80, 800, 1000}, {a, 100, 1050, 1000}, {"", 80, 1050, 1300}});
  REQUIRE(env.alerts_metric("80") == 2);
  REQUIRE(env.alerts_metric("100") == 1);

  // A new month starts from zero: admitted again, and a single charge
  // crossing both thresholds sends both alerts.
  env.clock.set(mid_month(env.month + std::chrono::months(1)));
  REQUIRE(env.spent(a) == 0);
  REQUIRE(env.spent("") == 0);
  REQUIRE(env.admit(a) == Budgets::Admission::ok);
  env.charge(a, 1000);
  auto alerts = env.sent_alerts();
  REQUIRE(alerts.size() == 5);
  REQUIRE(alerts[3] == Alert{a, 80, 1000, 1000});
  REQUIRE(alerts[4] == Alert{a, 100, 1000, 1000});
  env.charge(a, 300);  // platform 100%
  alerts = env.sent_alerts();
  REQUIRE(alerts.size() == 7);
  REQUIRE(alerts[5] == Alert{"", 80, 1300, 1300});
  REQUIRE(alerts[6] == Alert{"", 100, 1300, 1300});
  REQUIRE(env.refused(a).kind() == AiError::Kind::budget_exceeded);
  REQUIRE(env.counter("huntaze_ai_budget_fallback_total") == 0);
}

TEST_CASE("ai budgets: reconcile rebuilds the month's counters from the usage log", "[ai_budgets]") {
  BudgetConfig c;
  c.workspace_monthly_micros = 1000;
  Env env(c);
  const auto a = workspace(), b = workspace(), quiet = workspace();
  const auto previous = env.month - std::chrono::months(1), next = env.month + std::chrono::months(1);
  std::vector<std::chrono::year_month> months{previous, env.month, next};
  env.db.block(ai_router::ensure_usage_partitions(*env.db.db, months));

  auto insert = [&](SysTime at, std::optional<std::string> ws, int64_t cost) {
    std::optional<Uuid> id;
    if (ws) id = *Uuid::parse(*ws);
    const db::Timestamp when = at;
    env.db.query(
        "INSERT INTO ai.usage (at, workspace_id, task, model, input_tokens, output_tokens, cost_micros, "
        "latency_us, ttft_us, cache_hit, attempts, outcome) "
        "VALUES ($1, $2, 'generate', 'm', 10, 20, $3, 1000, 100, false, 1, 'ok')",
        test::dbt::params(when, id, cost));
  };
  auto first_of = [](std::chrono::year_month ym) { return SysTime(std::chrono::sys_days(ym / 1).time_since_epoch()); };
  const SysTime now = env.clock.now();
  insert(now - 1h, a, 300);
  insert(now, a, 200);
  insert(now - 2h, b, 1200);
  insert(first_of(env.month), b, 1);         // the month's first microsecond counts
  insert(now, std::nullopt, 50);             // the platform's own
  insert(mid_month(previous), a, 5000);      // last month
  insert(first_of(next), b, 7);              // next month
  insert(first_of(next) - 1us, b, 10);       // this month's last microsecond
  // The counters drifted: A was charged what the log never got, B nothing.
  env.charge(a, 999);
  env.charge(quiet, 10);
  const int64_t b_expected = 1200 + 1 + 10;

  REQUIRE(env.redis.io.block(env.budgets->reconcile()) == 2);
  REQUIRE(env.spent(a) == 500);
  REQUIRE(env.spent(b) == b_expected);
  REQUIRE(env.spent("") == 500 + b_expected + 50);
  REQUIRE(env.spent(quiet) == 10);  // no rows this month: left as it was

  REQUIRE(env.admit(a) == Budgets::Admission::ok);
  REQUIRE(env.refused(b).kind() == AiError::Kind::budget_exceeded);

  // The job kind runs the same.
  jobs::JobRegistry registry;
  ai_router::register_budget_jobs(registry, *env.budgets);
  const auto* kind = registry.find(ai_router::kBudgetReconcileKind);
  REQUIRE(kind != nullptr);
  REQUIRE(kind->queue == "default");
  env.charge(a, 77);  // drift again
  REQUIRE(env.spent(a) == 577);
  test::FakeJobContext context(ai_router::kBudgetReconcileKind);
  env.redis.io.block(kind->handler(context));
  REQUIRE(env.spent(a) == 500);
  REQUIRE(env.spent("") == 500 + b_expected + 50);
}

TEST_CASE("ai budgets: while Redis is down admit and charge work in process and count the fallback",
          "[ai_budgets]") {
  test::RedisProcess server;
  BudgetConfig c = limits(2, 0);
  c.workspace_monthly_micros = 1000;
  Env env(c, server.config());
  const auto a = workspace(), b = workspace();

  REQUIRE(env.admit(a) == Budgets::Admission::ok);
  env.charge(a, 850);  // 85%: the 80% alert, through Redis
  REQUIRE(env.sent_alerts().size() == 1);
  REQUIRE(env.counter("huntaze_ai_budget_fallback_total") == 0);

  server.stop();
  REQUIRE(test::eventually([&] { return !env.redis.redis->connected(); }));

  // Rate limits per process: two a minute.
  REQUIRE(env.admit(a) == Budgets::Admission::ok);  // spend seeded from the last value read (850)
  REQUIRE(env.admit(a) == Budgets::Admission::ok);
  auto e = env.refused(a);
  REQUIRE(e.kind() == AiError::Kind::rate_limited);
  REQUIRE(e.retry_after() == std::optional<std::chrono::milliseconds>(30'000ms));
  REQUIRE(env.counter("huntaze_ai_budget_fallback_total") >= 3);

  // Spend counts in process: over budget after this charge; the 80% alert
  // (already sent through Redis) is not sent again, the 100% one is.
  env.charge(a, 200);
  REQUIRE(env.spent(a) == 1050);
  REQUIRE(env.sent_alerts() == std::vector<Alert>{{a, 80, 850, 1000}, {a, 100, 1050, 1000}});
  env.clock.advance(60s);
  REQUIRE(env.refused(a).kind() == AiError::Kind::budget_exceeded);
  REQUIRE(env.admit(b) == Budgets::Admission::ok);
  // A new month starts from zero in process too: the copies and the markers
  // of the old month are dropped.
  env.clock.set(mid_month(env.month + std::chrono::months(1)));
  REQUIRE(env.spent(a) == 0);
  REQUIRE(env.admit(a) == Budgets::Admission::ok);
  env.charge(a, 900);  // 90%: this month's 80% alert
  REQUIRE(env.sent_alerts() ==
          std::vector<Alert>{{a, 80, 850, 1000}, {a, 100, 1050, 1000}, {a, 80, 900, 1000}});
  const double fallbacks = env.counter("huntaze_ai_budget_fallback_total");
  REQUIRE(fallbacks >= 10);

  // Back up: Redis answers again (this server keeps nothing across restarts:
  // reconcile is what restores the month from the usage log).
  server.start();
  REQUIRE(test::eventually([&] { return env.redis.answers(); }));
  REQUIRE(env.admit(b) == Budgets::Admission::ok);
  REQUIRE(env.spent(a) == 0);
  REQUIRE(env.counter("huntaze_ai_budget_fallback_total") == fallbacks);
}

TEST_CASE("ai budgets: alerts are published as ai.budget_threshold events for subscribers", "[ai_budgets]") {
  BudgetConfig c;
  c.workspace_monthly_micros = 1000;
  c.platform_monthly_micros = 100000;
  Env env(c);
  jobs::JobRegistry kinds;
  kinds.subscribe({.name = "budget-mail", .topic = "ai", .filter = {.types = {"ai.budget_threshold"}},
                   .handler = [](jobs::JobContext&) -> asio::awaitable<void> { co_return; }});
  auto queue = jobs::make_pg_job_queue(kinds, env.clock, env.registry);
  ai_router::BudgetAlertPublisher publisher(env.db.io.executor(), *env.db.db, *queue);
  env.budgets->on_alert(publisher.callback());

  const auto a = workspace();
  env.charge(a, 850);  // 85%
  auto events = [&] {
    return std::stoi(test::admin_scalar(env.db.url, "SELECT count(*) FROM jobs.jobs WHERE kind = 'event:budget-mail'"));
  };
  REQUIRE(test::eventually([&] { return events() == 1; }));
  const auto payload = boost::json::parse(
      test::admin_scalar(env.db.url, "SELECT payload::text FROM jobs.jobs WHERE kind = 'event:budget-mail'"));
  CHECK(payload.at("topic") == "ai");
  CHECK(payload.at("type") == "ai.budget_threshold");
  const auto& data = payload.at("data");
  CHECK(data.at("scope") == "workspace");
  CHECK(data.at("workspace_id") == a.c_str());
  CHECK(data.at("percent") == 80);
  CHECK(data.at("spent_microdollars") == 850);
  CHECK(data.at("budget_microdollars") == 1000);
  CHECK(data.at("month") == format_year_month(env.month, '-').c_str());
  CHECK(payload.at("attributes").at("workspace_id") == a.c_str());

  env.charge(a, 10);  // still 86%: no second event
  env.charge(a, 200);  // 106%: the 100% one
  REQUIRE(test::eventually([&] { return events() == 2; }));
  CHECK(test::admin_scalar(env.db.url, "SELECT string_agg(payload->'data'->>'percent', ',' ORDER BY id) FROM "
                                       "jobs.jobs WHERE kind = 'event:budget-mail'") == "80,100");
  env.db.io.block(publisher.drain());
}

TEST_CASE("ai budgets: the in-process rate limiter decides exactly as the Redis script does", "[ai_budgets]") {
  test::RedisFixture redis;
  const ai_router::RateLimits limits{3, 1000};  // 3 requests and 1,000 tokens a minute
  ai_router::RedisRateLimiter remote(*redis.redis, limits);
  ai_router::LocalRateLimiter local(limits);
  const auto ws = workspace();
  const int64_t t0 = 2'000'000'000'000'000;  // µs since the epoch (2033)
  struct Step {
    int64_t at_ms;
    bool admit;  // else correct
    int64_t tokens;
  };
  const std::vector<Step> steps = {
      {0, true, 400},         {0, true, 400},           {0, true, 400},  // the bucket runs short
      {1000, true, 100},      {1000, true, 10},                          // the request window is full
      {2000, false, 100'000},                                            // a huge real count: debt, capped
      {3000, true, 1},        {61 * 60'000, true, 1},   {61 * 60'000, false, -50},
      {61 * 60'000, true, 900}, {61 * 60'000 + 30'000, true, 900},
  };
  std::vector<ai_router::RateDecision> decisions;
  for (const auto& step : steps) {
    const int64_t now = t0 + step.at_ms * 1000;
    if (!step.admit) {
      redis.io.block(remote.correct(ws, now, step.tokens));
      local.correct(ws, now, step.tokens);
      continue;
    }
    const auto r = redis.io.block(remote.admit(ws, now, step.tokens));
    const auto l = local.admit(ws, now, step.tokens);
    CHECK(static_cast<int>(r.verdict) == static_cast<int>(l.verdict));
    CHECK(r.retry_after == l.retry_after);
    decisions.push_back(r);
  }
  using V = ai_router::RateDecision::Verdict;
  REQUIRE(decisions.size() == 9);
  CHECK(decisions[0].verdict == V::ok);
  CHECK(decisions[2].verdict == V::tpm);
  CHECK(decisions[3].verdict == V::ok);
  CHECK(decisions[4].verdict == V::rpm);
  // In debt by at most an hour of tokens: the wait is about an hour, not 100 minutes.
  CHECK(decisions[5].verdict != V::ok);
  CHECK(decisions[5].retry_after <= std::chrono::milliseconds(61 * 60'000));
  CHECK(decisions[5].retry_after > std::chrono::milliseconds(59 * 60'000));
  CHECK(decisions[6].verdict == V::ok);
}
