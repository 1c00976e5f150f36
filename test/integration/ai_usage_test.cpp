// The AI usage log against a real database: the partitioned table the
// migration makes, batched writes from many threads, the bounds that drop
// rows (and count them), tenant-isolated reports and spend, and the monthly
// partitions created ahead, dropped past retention and created on demand by
// the writer when a row has no partition.
#include <boost/asio/co_spawn.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <set>
#include <thread>

#include "ai_router/prompt_samples.hpp"
#include "ai_router/usage_log.hpp"
#include "ai_router/usage_partitions.hpp"
#include "ai_router/usage_query.hpp"
#include "db_fixture.hpp"
#include "huntaze/core/time_format.hpp"
#include "huntaze/core/uuid.hpp"
#include "huntaze/jobs/job_context.hpp"
#include "huntaze/jobs/registry.hpp"
#include "support/fake_job_context.hpp"

using namespace huntaze;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using ai_router::UsageLog;
using ai_router::UsageLogConfig;
using ai_router::UsageRecord;
using test::dbt::DbFixture;

namespace {

const SysTime kNow = *parse_iso8601("2026-11-21T10:00:00Z");

SysTime at(const char* iso) { return *parse_iso8601(iso); }

UsageRecord usage(SysTime when, std::string workspace, std::string task, std::string model, int64_t in,
                  int64_t out, int64_t cost, std::string outcome = "ok") {
  UsageRecord r;
  r.at = when;
  r.workspace = std::move(workspace);
  r.task = std::move(task);
  r.deployment = "openai-eu";
  r.model = std::move(model);
  r.input_tokens = in;
  r.output_tokens = out;
  r.cost_micros = cost;
  r.latency = 1500ms;
  r.time_to_first_token = 200ms;
  r.cache_hit = outcome == "cache_hit";
  r.attempts = 1;
  r.outcome = std::move(outcome);
  r.request_id = "req-" + std::to_string(in);
  return r;
}

// A database, a stopped clock and a usage log (not started unless a test
// starts it). The log is declared after the fixture so that it goes first.
struct Usage {
  explicit Usage(UsageLogConfig c = {}) : config(c) { make_log(); }
  ~Usage() {
    if (started) f.block(log->stop());
  }

  void make_log() { log = std::make_unique<UsageLog>(f.io.executor(), *f.db, clock, f.registry, config); }
  void start() {
    f.block(log->start());
    started = true;
  }
  void stop() {
    f.block(log->stop());
    started = false;
  }
  void flush() { f.block(log->flush()); }

  int64_t scalar(const std::string& sql) { return std::stoll(test::admin_scalar(f.url, sql)); }
  int64_t rows() { return scalar("SELECT count(*) FROM ai.usage"); }
  double counter(const std::string& name) { return f.registry.counter(name, "").with({}).value(); }
  double written() { return counter("huntaze_ai_usage_rows_written_total"); }
  double dropped() { return counter("huntaze_ai_usage_rows_dropped_total"); }
  double failures() { return counter("huntaze_ai_usage_write_failures_total"); }

  std::set<std::string> partitions() {
    auto res = f.query(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'ai.usage'::regclass");
    std::set<std::string> names;
    for (const auto& row : res) names.insert(row.get<std::string>(0));
    return names;
  }
  std::pair<int, int> maintain(SysTime now, std::chrono::hours retention) {
    return f.block(ai_router::maintain_usage_partitions(*f.db, now, retention));
  }
  void ensure(const std::vector<std::chrono::year_month>& months) {
    f.block(ai_router::ensure_usage_partitions(*f.db, months));
  }

  DbFixture f;
  ManualClock clock{kNow};
  UsageLogConfig config;
  std::unique_ptr<UsageLog> log;
  bool started = false;
};

UsageLogConfig small(int batch = 500, std::chrono::milliseconds every = 20ms) {
  UsageLogConfig c;
  c.batch = batch;
  c.flush_every = every;
  return c;
}

const std::string kWsA = "0190b7c2-1111-7000-8000-00000000000a";
const std::string kWsB = "0190b7c2-2222-7000-8000-00000000000b";

std::chrono::year_month ym(int y, unsigned m) { return std::chrono::year(y) / std::chrono::month(m); }

}  // namespace

TEST_CASE("the migration creates ai.usage with this month's partition and the next two", "[ai_usage]") {
  Usage u;
  std::set<std::string> expected;
  for (int i = 0; i < 3; ++i)
    expected.insert(test::admin_scalar(
        u.f.url, "SELECT 'usage_' || to_char(date_trunc('month', now() AT TIME ZONE 'UTC') + interval '" +
                     std::to_string(i) + " month', 'YYYYMM')"));
  CHECK(u.partitions() == expected);
  // No DEFAULT partition, range on `at`.
  CHECK(u.scalar("SELECT partdefid::bigint FROM pg_partitioned_table WHERE partrelid = 'ai.usage'::regclass") == 0);
  CHECK(test::admin_scalar(u.f.url, "SELECT pg_get_partkeydef('ai.usage'::regclass)") == "RANGE (at)");
  // The key starts with `at` (time-range scans); workspaces have their own index.
  CHECK(test::admin_scalar(u.f.url,
                           "SELECT pg_get_indexdef(conindid) FROM pg_constraint "
                           "WHERE conrelid = 'ai.usage'::regclass AND contype = 'p'")
            .find("(at, id)") != std::string::npos);
  CHECK(test::admin_scalar(u.f.url, "SELECT indexdef FROM pg_indexes WHERE schemaname = 'ai' "
                                    "AND indexname = 'usage_workspace_at'")
            .find("(workspace_id, at)") != std::string::npos);
}

TEST_CASE("recorded rows are written in batches with exact totals", "[ai_usage]") {
  Usage u(small(500));
  int64_t in = 0, out = 0, cost = 0;
  for (int i = 0; i < 1200; ++i) {
    auto r = usage(kNow + std::chrono::seconds(i), i % 2 ? kWsA : "", "chat.reply", "gpt-4o-mini", 100 + i, 7 * i,
                   1000 + 3 * i);
    in += r.input_tokens;
    out += r.output_tokens;
    cost += r.cost_micros;
    u.log->record(std::move(r));
  }
  CHECK(u.log->pending() == 1200);
  CHECK(u.f.gauge("huntaze_ai_usage_pending") == 1200);
  u.flush();
  CHECK(u.log->pending() == 0);
  CHECK(u.f.gauge("huntaze_ai_usage_pending") == 0);
  CHECK(u.rows() == 1200);
  CHECK(u.scalar("SELECT sum(input_tokens) FROM ai.usage") == in);
  CHECK(u.scalar("SELECT sum(output_tokens) FROM ai.usage") == out);
  CHECK(u.scalar("SELECT sum(cost_micros) FROM ai.usage") == cost);
  // One INSERT (one transaction) per batch of at most 500: 500 + 500 + 200.
  CHECK(u.scalar("SELECT count(DISTINCT xmin::text) FROM ai.usage") == 3);
  CHECK(u.scalar("SELECT count(*) FROM ai.usage WHERE workspace_id IS NULL") == 600);
  CHECK(u.scalar("SELECT count(*) FROM ai.usage WHERE workspace_id = '" + kWsA + "'") == 600);
  CHECK(u.written() == 1200);
  CHECK(u.dropped() == 0);

  // Every field lands in its column.
  auto res = u.f.query(
      "SELECT at, task, deployment, model, latency_us, ttft_us, cache_hit, attempts, outcome, request_id "
      "FROM ai.usage WHERE input_tokens = 101");
  REQUIRE(res.size() == 1);
  const auto row = res.front();
  CHECK(row.get<db::Timestamp>(0) == kNow + 1s);
  CHECK(row.get<std::string>(1) == "chat.reply");
  CHECK(row.get<std::string>(2) == "openai-eu");
  CHECK(row.get<std::string>(3) == "gpt-4o-mini");
  CHECK(row.get<int32_t>(4) == 1'500'000);
  CHECK(row.get<int32_t>(5) == 200'000);
  CHECK_FALSE(row.get<bool>(6));
  CHECK(row.get<int32_t>(7) == 1);
  CHECK(row.get<std::string>(8) == "ok");
  CHECK(row.get<std::string>(9) == "req-101");
}

TEST_CASE("the background loop writes rows recorded from several threads at once", "[ai_usage]") {
  Usage u(small(100, 10ms));
  u.start();
  constexpr int kThreads = 4, kEach = 1000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i)
        u.log->record(usage(kNow + std::chrono::milliseconds(i), t % 2 ? kWsA : kWsB, "t" + std::to_string(t),
                            "m", 1, 2, 3));
    });
  for (auto& th : threads) th.join();
  // No flush(): the loop alone gets them there.
  CHECK(test::eventually([&] { return u.rows() == kThreads * kEach; }));
  u.stop();
  CHECK(u.rows() == kThreads * kEach);
  CHECK(u.scalar("SELECT sum(output_tokens) FROM ai.usage") == 2 * kThreads * kEach);
  CHECK(u.scalar("SELECT count(DISTINCT task) FROM ai.usage") == kThreads);
  CHECK(u.written() == kThreads * kEach);
  CHECK(u.dropped() == 0);
  CHECK(u.log->pending() == 0);
}

TEST_CASE("stop() writes what is still pending", "[ai_usage]") {
  Usage u(small(500, 1h));  // the loop will not tick during the test
  u.start();
  for (int i = 0; i < 3; ++i) u.log->record(usage(kNow, kWsA, "x", "m", 10, 20, 30));
  CHECK(u.log->pending() == 3);
  u.stop();
  CHECK(u.log->pending() == 0);
  CHECK(u.rows() == 3);
}

TEST_CASE("a full batch is written without waiting for the tick", "[ai_usage]") {
  Usage u(small(10, 1h));  // the loop will not tick during the test
  u.start();
  for (int i = 0; i < 10; ++i) u.log->record(usage(kNow, kWsA, "x", "m", i, 0, 0));
  // No flush(): the tenth row wakes the loop.
  CHECK(test::eventually([&] { return u.rows() == 10; }));
  u.stop();
  CHECK(u.written() == 10);
}

TEST_CASE("the loop keeps the rows of a failed write and writes them on a later pass", "[ai_usage]") {
  Usage u(small(500, 10ms));
  test::admin_exec(u.f.url, "ALTER TABLE ai.usage RENAME TO usage_away");
  u.start();
  for (int i = 0; i < 5; ++i) u.log->record(usage(kNow, kWsA, "x", "m", i, 0, 100));
  REQUIRE(test::eventually([&] { return u.failures() >= 1; }));
  test::admin_exec(u.f.url, "ALTER TABLE ai.usage_away RENAME TO usage");
  CHECK(test::eventually([&] { return u.rows() == 5; }));
  u.stop();
  CHECK(u.scalar("SELECT sum(cost_micros) FROM ai.usage") == 500);
  CHECK(u.written() == 5);
  CHECK(u.dropped() == 0);
}

TEST_CASE("beyond max_pending new rows are dropped and counted", "[ai_usage]") {
  auto config = small();
  config.max_pending = 10;
  Usage u(config);
  for (int i = 0; i < 15; ++i) u.log->record(usage(kNow, "", "x", "m", i, 0, 0));
  CHECK(u.log->pending() == 10);
  CHECK(u.dropped() == 5);
  u.flush();
  CHECK(u.rows() == 10);
  // The first ten were kept, the late ones dropped.
  CHECK(u.scalar("SELECT max(input_tokens) FROM ai.usage") == 9);
}

TEST_CASE("a workspace that is not a UUID is dropped, the platform's rows are stored with NULL", "[ai_usage]") {
  Usage u;
  u.log->record(usage(kNow, "not-a-uuid", "x", "m", 1, 0, 0));
  u.log->record(usage(kNow, "0190b7c2-1111-7000-8000", "x", "m", 2, 0, 0));  // truncated
  CHECK(u.log->pending() == 0);
  CHECK(u.dropped() == 2);
  u.log->record(usage(kNow, "", "x", "m", 3, 0, 0));
  u.log->record(usage(kNow, "0190B7C2-1111-7000-8000-00000000000A", "x", "m", 4, 0, 0));  // upper case is a UUID
  u.flush();
  CHECK(u.rows() == 2);
  CHECK(u.scalar("SELECT input_tokens FROM ai.usage WHERE workspace_id IS NULL") == 3);
  CHECK(u.scalar("SELECT input_tokens FROM ai.usage WHERE workspace_id = '" + kWsA + "'") == 4);
}

TEST_CASE("text PostgreSQL would reject is cleaned, so the batch is written", "[ai_usage]") {
  Usage u;
  auto r = usage(kNow, kWsA, std::string("bad\0task", 8), "m\xff\xfe", 1, 0, 0);
  r.request_id = std::string(1000, 'r');
  u.log->record(std::move(r));
  u.log->record(usage(kNow, kWsA, "fine", "m", 2, 0, 0));
  u.flush();
  CHECK(u.rows() == 2);
  CHECK(u.scalar("SELECT length(request_id) FROM ai.usage WHERE input_tokens = 1") == 200);
  CHECK(test::admin_scalar(u.f.url, "SELECT task FROM ai.usage WHERE input_tokens = 1") == "bad?task");
  CHECK(u.dropped() == 0);
}

TEST_CASE("a row with an impossible time is dropped alone, not with its batch", "[ai_usage]") {
  Usage u;
  // PostgreSQL cannot store these two: turned away by record().
  u.log->record(usage(SysTime::max(), kWsA, "x", "m", 1, 0, 0));
  u.log->record(usage(SysTime::min(), kWsA, "x", "m", 2, 0, 0));
  CHECK(u.log->pending() == 0);
  CHECK(u.dropped() == 2);
  // Storable but absurdly far ahead: dropped when its partition is missing.
  u.log->record(usage(at("2100-01-01T00:00:00Z"), kWsA, "x", "m", 3, 0, 0));
  u.log->record(usage(kNow, kWsA, "x", "m", 4, 0, 0));
  u.flush();
  CHECK(u.rows() == 1);
  CHECK(u.scalar("SELECT input_tokens FROM ai.usage") == 4);
  CHECK(u.dropped() == 3);
  CHECK(u.failures() == 0);
  CHECK_FALSE(u.partitions().contains("usage_210001"));
}

TEST_CASE("a failed write keeps its rows and a later flush writes them", "[ai_usage]") {
  Usage u;
  for (int i = 0; i < 5; ++i) u.log->record(usage(kNow, kWsA, "x", "m", i, 0, 100));
  test::admin_exec(u.f.url, "ALTER TABLE ai.usage RENAME TO usage_away");
  CHECK_THROWS_AS(u.flush(), db::DbError);
  CHECK(u.log->pending() == 5);
  CHECK(u.failures() == 1);
  test::admin_exec(u.f.url, "ALTER TABLE ai.usage_away RENAME TO usage");
  u.flush();
  CHECK(u.log->pending() == 0);
  CHECK(u.rows() == 5);
  CHECK(u.scalar("SELECT sum(cost_micros) FROM ai.usage") == 500);
  CHECK(u.written() == 5);
}

TEST_CASE("rows put back after a failed write drop the oldest beyond max_pending", "[ai_usage]") {
  auto config = small();
  config.max_pending = 5;
  Usage u(config);
  for (int i = 0; i < 5; ++i) u.log->record(usage(kNow, kWsA, "x", "m", i, 0, 0));
  // Hold the table so that the flush's insert waits, record newer rows
  // meanwhile, then make the waiting insert fail.
  auto tx = u.f.block(u.f.db->begin());
  u.f.block(tx->query("LOCK TABLE ai.usage IN ACCESS EXCLUSIVE MODE"));
  auto flushing = u.f.io.spawn(u.log->flush());
  REQUIRE(test::eventually([&] { return test::dbt::backends(u.f.url, "wait_event_type = 'Lock'") == 1; }));
  CHECK(u.log->pending() == 0);  // the batch is out, in flight
  for (int i = 10; i < 15; ++i) u.log->record(usage(kNow, kWsA, "x", "m", i, 0, 0));
  test::admin_exec(u.f.url,
                   "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                   "AND wait_event_type = 'Lock'");
  CHECK_THROWS_AS(flushing.get(), db::DbError);
  u.f.block(tx->rollback());
  CHECK(u.log->pending() == 5);
  CHECK(u.dropped() == 5);
  CHECK(u.failures() == 1);
  u.flush();
  CHECK(u.rows() == 5);
  CHECK(u.scalar("SELECT min(input_tokens) FROM ai.usage") == 10);  // the newest were kept
}

TEST_CASE("query_usage groups by UTC day, task and model, one tenant at a time", "[ai_usage]") {
  Usage u;
  const SysTime d1 = at("2026-11-20T23:59:59Z"), d2 = at("2026-11-21T00:00:00Z");
  // Workspace A.
  u.log->record(usage(d1, kWsA, "chat.reply", "gpt-4o", 10, 20, 300));
  u.log->record(usage(d1, kWsA, "chat.reply", "gpt-4o", 1, 2, 30, "cache_hit"));
  u.log->record(usage(d1, kWsA, "chat.reply", "gpt-4o", 5, 0, 0, "timeout"));
  u.log->record(usage(d1, kWsA, "chat.reply", "gpt-4o-mini", 7, 8, 9));
  u.log->record(usage(d2, kWsA, "caption", "gpt-4o", 100, 200, 3000));
  // Workspace B: same day, task and model as A's first group.
  u.log->record(usage(d1, kWsB, "chat.reply", "gpt-4o", 1000, 2000, 30000));
  u.log->record(usage(d2, kWsB, "b.only", "claude", 1, 1, 1, "rate_limited"));
  // The platform.
  u.log->record(usage(d2, "", "ops.summary", "gpt-4o", 50, 60, 70));
  u.flush();

  const SysTime from = at("2026-11-20T00:00:00Z"), to = at("2026-11-22T00:00:00Z");
  auto query = [&](std::optional<std::string> ws, SysTime f = SysTime{}, SysTime t = SysTime{}) {
    ai_router::UsageFilter filter{.workspace = std::move(ws), .from = f == SysTime{} ? from : f,
                                  .to = t == SysTime{} ? to : t};
    return u.f.block(ai_router::query_usage(*u.f.db, filter));
  };

  auto a = query(kWsA);
  REQUIRE(a.size() == 3);
  CHECK(a[0].day == "2026-11-20");
  CHECK(a[0].task == "chat.reply");
  CHECK(a[0].model == "gpt-4o");
  CHECK(a[0].calls == 3);
  CHECK(a[0].cache_hits == 1);
  CHECK(a[0].errors == 1);
  CHECK(a[0].input_tokens == 16);
  CHECK(a[0].output_tokens == 22);
  CHECK(a[0].cost_micros == 330);
  CHECK(a[1].day == "2026-11-20");
  CHECK(a[1].model == "gpt-4o-mini");
  CHECK(a[1].calls == 1);
  CHECK(a[1].errors == 0);
  CHECK(a[2].day == "2026-11-21");
  CHECK(a[2].task == "caption");
  CHECK(a[2].cost_micros == 3000);

  auto b = query(kWsB);
  REQUIRE(b.size() == 2);
  CHECK(b[0].task == "chat.reply");
  CHECK(b[0].calls == 1);  // A's three calls in the same group are not here
  CHECK(b[0].cost_micros == 30000);
  CHECK(b[1].task == "b.only");
  CHECK(b[1].errors == 1);
  for (const auto& row : a) CHECK(row.task != "b.only");

  auto platform = query(std::string());
  REQUIRE(platform.size() == 1);
  CHECK(platform[0].task == "ops.summary");
  CHECK(platform[0].calls == 1);

  auto all = query(std::nullopt);
  REQUIRE(all.size() == 5);  // (d1 chat gpt-4o) holds A and B together
  CHECK(all[0].calls == 4);
  CHECK(all[0].cost_micros == 30330);
  int64_t calls = 0;
  for (const auto& row : all) calls += row.calls;
  CHECK(calls == 8);

  // [from, to): a row exactly at `to` is out, one exactly at `from` is in.
  auto day2 = query(kWsA, d2, d2 + 24h);
  REQUIRE(day2.size() == 1);
  CHECK(day2[0].task == "caption");
  CHECK(query(kWsA, from, d2).size() == 2);

  // An unknown workspace sees nothing; a malformed one is refused, not widened.
  CHECK(query(std::string("0190b7c2-3333-7000-8000-00000000000c")).empty());
  CHECK_THROWS_AS(query(std::string("' OR true --")), std::invalid_argument);
}

TEST_CASE("spend_micros sums a workspace's, the platform's or all costs from one time to another", "[ai_usage]") {
  Usage u;
  u.log->record(usage(at("2026-11-01T00:00:00Z"), kWsA, "x", "m", 0, 0, 1'000'000));
  u.log->record(usage(at("2026-11-15T12:00:00Z"), kWsA, "x", "m", 0, 0, 250));
  u.log->record(usage(at("2026-12-01T00:00:00Z"), kWsA, "x", "m", 0, 0, 7));  // next month: outside
  u.log->record(usage(at("2026-11-10T00:00:00Z"), kWsB, "x", "m", 0, 0, 40));
  u.log->record(usage(at("2026-11-10T00:00:00Z"), "", "x", "m", 0, 0, 3));
  u.flush();
  const SysTime from = at("2026-11-01T00:00:00Z"), to = at("2026-12-01T00:00:00Z");
  auto spend = [&](std::optional<std::string> ws) {
    return u.f.block(ai_router::spend_micros(*u.f.db, std::move(ws), from, to));
  };
  CHECK(spend(kWsA) == 1'000'250);
  CHECK(spend(kWsB) == 40);
  CHECK(spend(std::string()) == 3);
  CHECK(spend(std::nullopt) == 1'000'293);
  CHECK(spend(std::string("0190b7c2-3333-7000-8000-00000000000c")) == 0);
  CHECK_THROWS_AS(spend(std::string("nope")), std::invalid_argument);
}

TEST_CASE("maintain_usage_partitions creates months ahead, drops expired ones, and is idempotent", "[ai_usage]") {
  Usage u;
  u.ensure({ym(2025, 1), ym(2026, 4), ym(2026, 5)});
  const auto before = u.partitions();
  REQUIRE(before.contains("usage_202501"));

  // 400 days before 2027-06-15 is 2026-05-11: April's partition (up to
  // 2026-05-01) is wholly older, May's (up to 2026-06-01) is not.
  const SysTime now = at("2027-06-15T08:00:00Z");
  int missing = 0;
  for (const char* name : {"usage_202706", "usage_202707", "usage_202708"}) missing += before.contains(name) ? 0 : 1;
  const auto [created, dropped] = u.maintain(now, 24h * 400);
  CHECK(created == missing);
  const auto after = u.partitions();
  CHECK(after.contains("usage_202706"));
  CHECK(after.contains("usage_202707"));
  CHECK(after.contains("usage_202708"));
  CHECK_FALSE(after.contains("usage_202709"));
  CHECK_FALSE(after.contains("usage_202501"));
  CHECK_FALSE(after.contains("usage_202604"));
  CHECK(after.contains("usage_202605"));
  CHECK(dropped == static_cast<int>(before.size() + missing - after.size()));
  CHECK(dropped >= 2);

  // Again: nothing to do.
  CHECK(u.maintain(now, 24h * 400) == std::pair<int, int>(0, 0));
  CHECK(u.partitions() == after);

  // Rows go to the new months.
  u.log->record(usage(at("2027-08-31T23:59:59Z"), kWsA, "x", "m", 1, 1, 1));
  u.flush();
  CHECK(u.scalar("SELECT count(*) FROM ai.usage_202708") == 1);
}

TEST_CASE("concurrent maintenance passes create each partition once", "[ai_usage]") {
  Usage u;
  const SysTime now = at("2031-02-10T00:00:00Z");
  auto one = u.f.io.spawn(ai_router::maintain_usage_partitions(*u.f.db, now, 24h * 400));
  auto two = u.f.io.spawn(ai_router::maintain_usage_partitions(*u.f.db, now, 24h * 400));
  const auto r1 = one.get(), r2 = two.get();
  CHECK(r1.first + r2.first == 3);
  const auto names = u.partitions();
  CHECK(names == std::set<std::string>{"usage_203102", "usage_203103", "usage_203104"});
}

TEST_CASE("a row for a month with no partition is written once the log creates it", "[ai_usage]") {
  Usage u;
  u.clock.set(at("2029-05-10T12:00:00Z"));
  REQUIRE_FALSE(u.partitions().contains("usage_202905"));
  u.log->record(usage(at("2029-05-10T11:00:00Z"), kWsA, "x", "m", 1, 2, 3));
  u.log->record(usage(at("2029-06-01T00:00:00Z"), kWsA, "x", "m", 4, 5, 6));  // next month, same batch
  u.flush();
  CHECK(u.rows() == 2);
  CHECK(u.partitions().contains("usage_202905"));
  CHECK(u.partitions().contains("usage_202906"));
  CHECK(u.written() == 2);
  CHECK(u.failures() == 0);

  // A row whose month is past retention gets no partition: it is dropped,
  // and does not block the rows behind it.
  u.log->record(usage(at("2020-01-15T00:00:00Z"), kWsA, "x", "m", 7, 0, 0));
  u.log->record(usage(at("2029-05-11T00:00:00Z"), kWsA, "x", "m", 8, 0, 0));
  u.flush();
  CHECK(u.log->pending() == 0);
  CHECK(u.rows() == 3);
  CHECK(u.dropped() == 1);
  CHECK_FALSE(u.partitions().contains("usage_202001"));
}

TEST_CASE("the partitions job kind is registered on the default queue", "[ai_usage]") {
  Usage u;
  jobs::JobRegistry registry;
  ai_router::register_usage_jobs(registry, *u.f.db, u.clock, u.config);
  const auto* kind = registry.find(ai_router::kUsagePartitionsKind);
  REQUIRE(kind != nullptr);
  CHECK(kind->queue == "default");
  CHECK(registry.find(ai_router::kPromptSamplesPruneKind) != nullptr);

  // Its handler maintains the partitions at the clock's time.
  test::FakeJobContext context(ai_router::kUsagePartitionsKind);
  u.clock.set(at("2032-03-03T00:00:00Z"));
  u.f.block(kind->handler(context));
  CHECK(u.partitions() == std::set<std::string>{"usage_203203", "usage_203204", "usage_203205"});
}

TEST_CASE("the prompt samples job prunes with sample_retention, not the usage log's retention", "[ai_usage]") {
  UsageLogConfig config;
  config.sample_retention = 24h * 7;
  config.retention = 24h * 400;
  Usage u(config);
  for (auto when : {kNow - 10 * 24h, kNow - 8 * 24h, kNow - 6 * 24h}) {
    auto row = usage(when, kWsA, "generate", "m", 1, 1, 1);
    row.sample = std::make_shared<const UsageRecord::Sample>(UsageRecord::Sample{"{}", "answer"});
    u.log->record(row);
  }
  u.flush();
  REQUIRE(u.scalar("SELECT count(*) FROM ai.prompt_samples") == 3);
  jobs::JobRegistry registry;
  ai_router::register_usage_jobs(registry, *u.f.db, u.clock, u.config);
  const auto* kind = registry.find(ai_router::kPromptSamplesPruneKind);
  REQUIRE(kind != nullptr);
  CHECK(kind->queue == "default");
  test::FakeJobContext context(ai_router::kPromptSamplesPruneKind);
  u.f.block(kind->handler(context));
  CHECK(u.scalar("SELECT count(*) FROM ai.prompt_samples") == 1);
  CHECK(u.rows() == 3);
}

TEST_CASE("prune_prompt_samples deletes in batches with a heartbeat between them", "[ai_usage]") {
  Usage u;
  for (int i = 0; i < 5; ++i) {
    auto row = usage(kNow - 30 * 24h + std::chrono::minutes(i), kWsA, "generate", "m", i, 1, 1);
    row.sample = std::make_shared<const UsageRecord::Sample>(UsageRecord::Sample{"{}", "old"});
    u.log->record(row);
  }
  u.flush();
  test::FakeJobContext context(ai_router::kPromptSamplesPruneKind);
  CHECK(u.f.block(ai_router::prune_prompt_samples(*u.f.db, kNow, 24h * 7, &context, 2)) == 5);
  CHECK(context.heartbeats == 2);  // after the two full batches of 2; the last batch (1) ends the loop
  CHECK(u.scalar("SELECT count(*) FROM ai.prompt_samples") == 0);
}

TEST_CASE("samples waiting to be written are bounded in bytes: beyond it rows queue without theirs", "[ai_usage]") {
  Usage u;
  const std::string request(ai_router::kMaxSampleRequestBytes + 1000, 'q');  // cut to the maximum on record()
  const std::string response(ai_router::kMaxSampleResponseBytes + 1000, 'r');
  const size_t per_sample = ai_router::kMaxSampleRequestBytes + ai_router::kMaxSampleResponseBytes;
  const size_t fit = (64u << 20) / per_sample;
  for (size_t i = 0; i < fit + 10; ++i) {
    auto row = usage(kNow, kWsA, "generate", "m", static_cast<int64_t>(i), 1, 1);
    row.sample = std::make_shared<const UsageRecord::Sample>(UsageRecord::Sample{request, response});
    u.log->record(row);
  }
  CHECK(u.f.registry.counter("huntaze_ai_prompt_samples_total", "", {"result"}).with({"lost"}).value() == 10);
  u.flush();
  CHECK(u.rows() == static_cast<int64_t>(fit + 10));
  CHECK(u.scalar("SELECT count(*) FROM ai.prompt_samples") == static_cast<int64_t>(fit));
  CHECK(u.scalar("SELECT max(octet_length(request)) FROM ai.prompt_samples") ==
        static_cast<int64_t>(ai_router::kMaxSampleRequestBytes));
}

TEST_CASE("sampled rows write their bodies, cleaned and cut, and prune deletes samples past retention", "[ai_usage]") {
  Usage u;
  auto sampled = usage(kNow - 9 * 24h, kWsA, "generate", "m", 10, 1, 5);
  sampled.sample = std::make_shared<const UsageRecord::Sample>(
      UsageRecord::Sample{R"({"messages":[]})", std::string("bad \xFF byte") + std::string(20'000, 'x')});
  auto recent = usage(kNow - 1h, kWsB, "generate", "m", 20, 1, 5);
  recent.sample = std::make_shared<const UsageRecord::Sample>(UsageRecord::Sample{"{}", "fresh"});
  u.log->record(sampled);
  u.log->record(recent);
  u.log->record(usage(kNow, kWsA, "generate", "m", 30, 1, 5));  // not sampled
  u.flush();
  CHECK(u.rows() == 3);
  CHECK(u.scalar("SELECT count(*) FROM ai.prompt_samples") == 2);
  CHECK(u.scalar("SELECT max(octet_length(response)) FROM ai.prompt_samples") ==
        static_cast<int64_t>(ai_router::kMaxSampleResponseBytes));
  CHECK(test::admin_scalar(u.f.url, "SELECT left(response, 10) FROM ai.prompt_samples WHERE request_id = 'req-10'") ==
        "bad \xEF\xBF\xBD byte");
  CHECK(u.f.registry.counter("huntaze_ai_prompt_samples_total", "", {"result"}).with({"written"}).value() == 2);

  // Seven days' retention: the nine-day-old sample goes, its usage row stays.
  CHECK(u.f.block(ai_router::prune_prompt_samples(*u.f.db, kNow, 24h * 7)) == 1);
  CHECK(test::admin_scalar(u.f.url, "SELECT string_agg(request_id, ',') FROM ai.prompt_samples") == "req-20");
  CHECK(u.rows() == 3);
  CHECK(u.f.block(ai_router::prune_prompt_samples(*u.f.db, kNow, 24h * 7)) == 0);
}

TEST_CASE("sample() follows sample_rate: never at 0, always at 1", "[ai_usage]") {
  UsageLogConfig never;
  Usage off(never);
  UsageLogConfig always;
  always.sample_rate = 1;
  Usage on(always);
  int off_yes = 0, on_yes = 0;
  for (int i = 0; i < 1000; ++i) {
    off_yes += off.log->sample() ? 1 : 0;
    on_yes += on.log->sample() ? 1 : 0;
  }
  CHECK(off_yes == 0);
  CHECK(on_yes == 1000);
}
