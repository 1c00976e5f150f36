// Cron against real PostgreSQL: several instances (each with its own pool, as
// separate processes have) share one database and one manual clock; every
// due tick must become exactly one job.
#include "huntaze/cron/cron.hpp"

#include <catch2/catch.hpp>
#include <future>
#include <list>

#include "db_fixture.hpp"
#include "huntaze/core/clock.hpp"
#include "huntaze/core/config.hpp"
#include "huntaze/core/time_format.hpp"
#include "huntaze/jobs/registry.hpp"
#include "jobs/pg_job_queue.hpp"

using namespace huntaze;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

SysTime at(const std::string& iso) {
  auto t = parse_iso8601(iso);
  if (!t) throw std::invalid_argument("bad test time " + iso);
  return *t;
}

jobs::Handler nothing() {
  return [](jobs::JobContext&) -> asio::awaitable<void> { co_return; };
}

// One process's worth of cron: its own pool, queue and Cron object. The
// metrics registry belongs to the fixture: a closed pool's background work
// may still touch its gauges until the I/O threads stop.
struct Instance {
  Instance(asio::any_io_executor executor, const std::string& url, const jobs::JobRegistry& kinds, const Clock& clock,
           metrics::Registry& metrics, cron::CronConfig config) {
    auto pool_config = test::dbt::config_for(url);
    pool_config.pool_max = 3;
    db = db::make_pg_pool(std::move(executor), pool_config, metrics);
    queue = jobs::make_pg_job_queue(kinds, clock, metrics);
    cron = std::make_unique<cron::Cron>(*db, *queue, clock, std::move(config));
  }
  ~Instance() {
    cron.reset();
    queue.reset();
    db->close();
  }

  std::shared_ptr<db::Database> db;
  std::unique_ptr<jobs::JobQueue> queue;
  std::unique_ptr<cron::Cron> cron;
};

const cron::Schedule kEveryMinute{
    .name = "test.minutely", .spec = "* * * * *", .kind = "test.tick", .payload = R"({"source":"minutely"})"};
const cron::Schedule kHourly{.name = "test.hourly", .spec = "0 * * * *", .kind = "test.tick"};

struct CronFixture {
  CronFixture() : url(test::fresh_database_url()) {
    kinds.add("test.tick", nothing());
    kinds.add("test.other", nothing());
  }
  ~CronFixture() { instances.clear(); }  // pools close while the I/O threads still run

  // A new instance with `schedules` registered, as a process starting up.
  Instance& start(const std::vector<cron::Schedule>& schedules, cron::CronConfig config = {}) {
    auto& metrics = registries.emplace_back();
    instances.push_back(std::make_unique<Instance>(io.executor(), url, kinds, clock, metrics, std::move(config)));
    for (const auto& s : schedules) instances.back()->cron->add(s);
    return *instances.back();
  }

  // Every running instance ticks at the same time; returns the total enqueued.
  int tick_all() {
    std::vector<std::future<int>> pending;
    for (auto& i : instances) pending.push_back(io.spawn(i->cron->tick()));
    int total = 0;
    for (auto& p : pending) total += p.get();
    return total;
  }

  std::string scalar(const std::string& sql) { return test::admin_scalar(url, sql); }
  int jobs_where(const std::string& condition) {
    return std::stoi(scalar("SELECT count(*) FROM jobs.jobs WHERE " + condition));
  }
  int jobs_of(const std::string& schedule) { return jobs_where("unique_key LIKE 'cron:" + schedule + ":%'"); }
  // The ticks of a schedule's jobs in insertion order, from their payloads.
  std::string ticks_of(const std::string& schedule) {
    return scalar(
        "SELECT coalesce(string_agg(payload->>'tick', ',' ORDER BY id), '') FROM jobs.jobs "
        "WHERE unique_key LIKE 'cron:" +
        schedule + ":%'");
  }
  std::string last_tick(const std::string& schedule) {
    return scalar(
        "SELECT coalesce(to_char(last_tick AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'null') "
        "FROM jobs.schedules WHERE name = '" +
        schedule + "'");
  }

  // Declared before the I/O threads, so they outlive everything those run.
  std::string url;
  ManualClock clock{at("2026-11-21T10:00:30Z")};
  jobs::JobRegistry kinds;
  std::list<metrics::Registry> registries;  // one per instance, stable addresses
  test::IoThreads io{2};
  std::vector<std::unique_ptr<Instance>> instances;
};

}  // namespace

TEST_CASE("cron: three instances with their own pools turn each due tick into exactly one job", "[cron]") {
  CronFixture f;
  for (int i = 0; i < 3; ++i) f.start({kEveryMinute, kHourly});

  // First sight at 10:00:30: the 10:00 ticks count as done, nothing fires.
  CHECK(f.tick_all() == 0);
  CHECK(f.jobs_where("true") == 0);
  CHECK(f.last_tick("test.minutely") == "2026-11-21T10:00:00Z");
  CHECK(f.last_tick("test.hourly") == "2026-11-21T10:00:00Z");

  for (int minute = 1; minute <= 5; ++minute) {
    f.clock.advance(1min);
    CHECK(f.tick_all() == 1);
    CHECK(f.jobs_of("test.minutely") == minute);
  }
  CHECK(f.ticks_of("test.minutely") ==
        "2026-11-21T10:01:00Z,2026-11-21T10:02:00Z,2026-11-21T10:03:00Z,2026-11-21T10:04:00Z,2026-11-21T10:05:00Z");
  CHECK(f.jobs_of("test.hourly") == 0);

  // The job carries the schedule's payload plus its tick, under the tick's unique key.
  CHECK(f.scalar("SELECT payload::text FROM jobs.jobs WHERE unique_key = 'cron:test.minutely:2026-11-21T10:05:00Z'") ==
        R"({"tick": "2026-11-21T10:05:00Z", "source": "minutely"})");
  CHECK(f.scalar("SELECT kind FROM jobs.jobs WHERE unique_key = 'cron:test.minutely:2026-11-21T10:05:00Z'") ==
        "test.tick");
  CHECK(f.scalar("SELECT last_job_id = (SELECT max(id) FROM jobs.jobs) FROM jobs.schedules WHERE name = "
                 "'test.minutely'") == "t");

  // At 11:00:05 both schedules are due: one job each.
  f.clock.set(at("2026-11-21T11:00:05Z"));
  CHECK(f.tick_all() == 2);
  CHECK(f.jobs_of("test.hourly") == 1);
  CHECK(f.ticks_of("test.hourly") == "2026-11-21T11:00:00Z");
  CHECK(f.jobs_where("true") == 7);
}

TEST_CASE("cron: a restarted instance at the same instant enqueues nothing", "[cron]") {
  CronFixture f;
  f.start({kEveryMinute});
  CHECK(f.tick_all() == 0);
  f.clock.advance(1min);
  CHECK(f.tick_all() == 1);

  // The job already ran, so its unique key no longer deduplicates: only the
  // claim in jobs.schedules stands between the restart and a second job.
  test::admin_exec(f.url, "UPDATE jobs.jobs SET state = 'completed', finished_at = now()");
  f.instances.clear();  // the process restarts within the same minute
  f.start({kEveryMinute});
  CHECK(f.tick_all() == 0);
  CHECK(f.jobs_of("test.minutely") == 1);
}

TEST_CASE("cron: after downtime only the latest missed tick runs", "[cron]") {
  CronFixture f;
  f.start({kEveryMinute, kHourly});
  CHECK(f.tick_all() == 0);

  f.instances.clear();
  f.clock.advance(3h + 17min);  // down from 10:00:30 to 13:17:30
  f.start({kEveryMinute, kHourly});
  CHECK(f.tick_all() == 2);
  CHECK(f.ticks_of("test.minutely") == "2026-11-21T13:17:00Z");
  CHECK(f.ticks_of("test.hourly") == "2026-11-21T13:00:00Z");
  CHECK(f.tick_all() == 0);
}

TEST_CASE("cron: a new schedule waits for its next tick", "[cron]") {
  CronFixture f;
  f.clock.set(at("2026-11-21T10:05:30Z"));
  const cron::Schedule every_five{.name = "test.five", .spec = "*/5 * * * *", .kind = "test.tick"};
  f.start({every_five});
  // 10:05 is due, but the schedule was never seen before: it does not fire.
  CHECK(f.tick_all() == 0);
  CHECK(f.jobs_where("true") == 0);

  f.clock.set(at("2026-11-21T10:09:59Z"));
  CHECK(f.tick_all() == 0);
  f.clock.set(at("2026-11-21T10:10:00Z"));
  CHECK(f.tick_all() == 1);
  CHECK(f.ticks_of("test.five") == "2026-11-21T10:10:00Z");
}

TEST_CASE("cron: run_now enqueues a job outside the ticks", "[cron]") {
  CronFixture f;
  auto& instance = f.start({kEveryMinute});
  CHECK(f.tick_all() == 0);

  auto result = f.io.block(instance.cron->run_now("test.minutely"));
  REQUIRE(result);
  CHECK(result->inserted);
  CHECK(f.scalar("SELECT unique_key || ' ' || (payload->>'tick') || ' ' || (payload->>'source') FROM jobs.jobs "
                 "WHERE id = " +
                 std::to_string(result->id)) ==
        "cron:test.minutely:manual:2026-11-21T10:00:30Z 2026-11-21T10:00:30Z minutely");
  // It does not take the schedule's next tick.
  CHECK(f.last_tick("test.minutely") == "2026-11-21T10:00:00Z");
  f.clock.advance(1min);
  CHECK(f.tick_all() == 1);

  CHECK_FALSE(f.io.block(instance.cron->run_now("test.nope")));
}

TEST_CASE("cron: list shows every schedule with its last and next tick", "[cron]") {
  CronFixture f;
  cron::CronConfig config;
  config.schedules["test.hourly"] = cron::ScheduleOverride{.spec = "30 * * * *", .enabled = false};
  auto& instance = f.start({kEveryMinute, kHourly}, config);

  auto before = f.io.block(instance.cron->list());
  REQUIRE(before.size() == 2);
  CHECK(before[0].name == "test.minutely");
  CHECK(before[0].spec == "* * * * *");
  CHECK(before[0].timezone == "UTC");
  CHECK(before[0].kind == "test.tick");
  CHECK(before[0].enabled);
  CHECK_FALSE(before[0].last_tick);
  CHECK_FALSE(before[0].last_job_id);
  CHECK(format_iso8601(before[0].next_tick) == "2026-11-21T10:01:00Z");
  CHECK(before[1].name == "test.hourly");
  CHECK(before[1].spec == "30 * * * *");  // the override
  CHECK_FALSE(before[1].enabled);
  CHECK(format_iso8601(before[1].next_tick) == "2026-11-21T10:30:00Z");

  CHECK(f.tick_all() == 0);
  f.clock.advance(1min);
  CHECK(f.tick_all() == 1);
  auto after = f.io.block(instance.cron->list());
  REQUIRE(after.size() == 2);
  REQUIRE(after[0].last_tick);
  CHECK(format_iso8601(*after[0].last_tick) == "2026-11-21T10:01:00Z");
  REQUIRE(after[0].last_job_id);
  CHECK(std::to_string(*after[0].last_job_id) == f.scalar("SELECT max(id) FROM jobs.jobs"));
  CHECK(format_iso8601(after[0].next_tick) == "2026-11-21T10:02:00Z");
  // A disabled schedule is never evaluated, so it has no row.
  CHECK_FALSE(after[1].last_tick);
  CHECK(f.jobs_of("test.hourly") == 0);
}

TEST_CASE("cron: a schedule in a time zone ticks at the zone's local time", "[cron]") {
  CronFixture f;
  // 09:00 in Paris is 08:00 UTC in November (CET, UTC+1).
  const cron::Schedule paris{
      .name = "test.paris", .spec = "0 9 * * *", .timezone = "Europe/Paris", .kind = "test.tick"};
  f.clock.set(at("2026-11-21T07:59:30Z"));
  f.start({paris});
  CHECK(f.tick_all() == 0);
  CHECK(f.last_tick("test.paris") == "2026-11-20T08:00:00Z");
  f.clock.set(at("2026-11-21T07:59:59Z"));
  CHECK(f.tick_all() == 0);
  f.clock.set(at("2026-11-21T08:00:00Z"));
  CHECK(f.tick_all() == 1);
  CHECK(f.ticks_of("test.paris") == "2026-11-21T08:00:00Z");
}

TEST_CASE("cron: config overrides change, disable or wrongly name schedules", "[cron]") {
  CronFixture f;
  cron::CronConfig config;
  config.schedules["test.minutely"] = cron::ScheduleOverride{.enabled = false};
  config.schedules["test.hourly"] = cron::ScheduleOverride{.spec = "*/2 * * * *"};
  f.start({kEveryMinute, kHourly}, config);
  CHECK(f.tick_all() == 0);
  f.clock.advance(90s);  // 10:02:00
  CHECK(f.tick_all() == 1);
  CHECK(f.ticks_of("test.hourly") == "2026-11-21T10:02:00Z");
  CHECK(f.jobs_of("test.minutely") == 0);
  CHECK(f.scalar("SELECT spec FROM jobs.schedules WHERE name = 'test.hourly'") == "*/2 * * * *");

  cron::CronConfig typo;
  typo.schedules["test.minutly"] = cron::ScheduleOverride{.enabled = false};
  auto& wrong = f.start({kEveryMinute}, typo);
  CHECK_THROWS_WITH(wrong.cron->check_overrides(), "cron.schedules.test.minutly: no such schedule");
  CHECK_THROWS_AS(f.io.block(wrong.cron->tick()), config::ConfigError);
  CHECK_THROWS_AS(f.io.block(wrong.cron->run()), config::ConfigError);
}

TEST_CASE("cron: cron.enabled = false evaluates nothing in this process", "[cron]") {
  CronFixture f;
  cron::CronConfig off;
  off.enabled = false;
  auto& instance = f.start({kEveryMinute}, off);
  CHECK(f.tick_all() == 0);
  CHECK(f.scalar("SELECT count(*) FROM jobs.schedules") == "0");
  f.io.block(instance.cron->run());  // returns at once
}

TEST_CASE("cron: a failing schedule is retried next time and does not stop the others", "[cron]") {
  CronFixture f;
  // "test.unregistered" is no registered job kind: enqueueing it throws.
  const cron::Schedule broken{.name = "test.broken", .spec = "* * * * *", .kind = "test.unregistered"};
  f.start({broken, kEveryMinute});
  CHECK(f.tick_all() == 0);
  f.clock.advance(1min);
  CHECK(f.tick_all() == 1);
  CHECK(f.jobs_of("test.minutely") == 1);
  // The failed claim rolled back with its enqueue, so the tick is still due.
  CHECK(f.last_tick("test.broken") == "2026-11-21T10:00:00Z");
  f.kinds.add("test.unregistered", nothing());
  CHECK(f.tick_all() == 1);
  CHECK(f.ticks_of("test.broken") == "2026-11-21T10:01:00Z");
}

TEST_CASE("cron: add() rejects bad schedules", "[cron]") {
  CronFixture f;
  auto& instance = f.start({kEveryMinute});
  auto& c = *instance.cron;
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(c.add(kEveryMinute), "cron schedule \"test.minutely\": registered twice");
  CHECK_THROWS_WITH(c.add({.name = "Bad Name", .spec = "* * * * *", .kind = "k"}),
                    Contains("invalid cron schedule name"));
  CHECK_THROWS_WITH(c.add({.name = "", .spec = "* * * * *", .kind = "k"}), Contains("invalid cron schedule name"));
  CHECK_THROWS_WITH(c.add({.name = std::string(101, 'a'), .spec = "* * * * *", .kind = "k"}),
                    Contains("invalid cron schedule name"));
  CHECK_THROWS_WITH(c.add({.name = "a", .spec = "61 * * * *", .kind = "k"}),
                    "cron schedule \"a\": minute: 61 is out of range 0-59");
  CHECK_THROWS_WITH(c.add({.name = "a", .spec = "* * * * *", .timezone = "Nowhere/City", .kind = "k"}),
                    "cron schedule \"a\": unknown time zone \"Nowhere/City\"");
  CHECK_THROWS_WITH(c.add({.name = "a", .spec = "* * * * *"}), "cron schedule \"a\": kind must be 1 to 128 characters");
  CHECK_THROWS_WITH(c.add({.name = "a", .spec = "* * * * *", .kind = "k", .payload = "[1]"}),
                    "cron schedule \"a\": payload must be a JSON object");
  CHECK_THROWS_WITH(c.add({.name = "a", .spec = "* * * * *", .kind = "k", .payload = "{"}),
                    "cron schedule \"a\": payload must be a JSON object");
  // None of the rejected ones was registered.
  CHECK(f.io.block(c.list()).size() == 1);
}

TEST_CASE("cron: run() ticks after each minute boundary until stop()", "[cron]") {
  CronFixture f;
  auto& instance = f.start({kEveryMinute});
  CHECK(f.tick_all() == 0);  // the row exists, 10:00 is done

  // 50 ms before 10:01:01, where run() evaluates minute 10:01; the wait is
  // at least 100 ms whatever the clock says.
  f.clock.set(at("2026-11-21T10:01:00.950Z"));
  auto running = f.io.spawn(instance.cron->run());
  CHECK(test::eventually([&] { return f.jobs_of("test.minutely") == 1; }));
  CHECK(f.ticks_of("test.minutely") == "2026-11-21T10:01:00Z");

  instance.cron->stop();
  REQUIRE(running.wait_for(10s) == std::future_status::ready);
  running.get();
  // stop() is final: a later run() returns at once.
  f.io.block(instance.cron->run());
  CHECK(f.jobs_of("test.minutely") == 1);
}
