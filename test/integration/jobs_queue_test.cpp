// The job queue against real PostgreSQL: transactional enqueue, unique keys,
// workers, retries and dead letters, timeouts, shutdown, rescue, events.
#include <boost/system/system_error.hpp>
#include <catch2/catch.hpp>

#include "huntaze/core/time_format.hpp"
#include "jobs/maintenance.hpp"
#include "jobs_fixture.hpp"

using namespace huntaze;
using namespace std::chrono_literals;
using test::jobst::JobsFixture;
using test::jobst::Journal;
using test::jobst::pause;
namespace asio = boost::asio;

namespace {

jobs::Handler record_into(Journal& journal) {
  return [&journal](jobs::JobContext& job) -> asio::awaitable<void> {
    journal.add(job.id());
    co_return;
  };
}

jobs::Handler always_fail() {
  return [](jobs::JobContext& job) -> asio::awaitable<void> {
    throw std::runtime_error("boom on attempt " + std::to_string(job.attempt()));
    co_return;
  };
}

jobs::RetryPolicy policy(int max_attempts, std::chrono::milliseconds base, std::chrono::milliseconds timeout = 1min) {
  return {.max_attempts = max_attempts, .backoff_base = base, .backoff_max = 1h, .jitter = 0.0, .timeout = timeout};
}

std::string iso(SysTime t) {
  return format_iso8601(t);
}

}  // namespace

TEST_CASE("jobs: a job enqueued in a transaction commits with the caller's row or not at all", "[jobs]") {
  // Declared before the fixture: handlers may still touch them while it stops the worker.
  Journal journal;
  JobsFixture f;
  f.kinds.add("test.ok", record_into(journal));
  f.query("CREATE TABLE public.things (id int)");

  auto attempt = [&](bool commit) {
    return f.block(f.db->transaction([&](db::Transaction& tx) -> asio::awaitable<int64_t> {
      co_await tx.query("INSERT INTO public.things VALUES (1)");
      jobs::NewJob job{.kind = "test.ok", .payload = R"({"thing":1})"};
      auto r = co_await f.queue().enqueue(tx, std::move(job));
      if (!commit) throw std::runtime_error("caller failed after enqueueing");
      co_return r.id;
    }));
  };
  CHECK_THROWS_WITH(attempt(false), "caller failed after enqueueing");
  CHECK(f.count("true") == 0);
  CHECK(test::admin_scalar(f.url, "SELECT count(*) FROM public.things") == "0");

  int64_t id = attempt(true);
  CHECK(f.state_of(id) == "available");
  CHECK(test::admin_scalar(f.url, "SELECT count(*) FROM public.things") == "1");
  CHECK(test::admin_scalar(f.url, "SELECT payload->>'thing' FROM jobs.jobs WHERE id = " + std::to_string(id)) == "1");
}

TEST_CASE("jobs: enqueue validates kinds and fields", "[jobs]") {
  Journal journal;
  JobsFixture f;
  f.kinds.add("test.ok", record_into(journal));
  CHECK_THROWS_AS(f.enqueue({.kind = "test.unknown"}), std::invalid_argument);
  CHECK_THROWS_AS(f.enqueue({.kind = "test.ok", .payload = "[1,2]"}), std::invalid_argument);
  CHECK_THROWS_AS(f.enqueue({.kind = "test.ok", .queue = "Bad Queue"}), std::invalid_argument);
  CHECK_THROWS_AS(f.enqueue({.kind = "test.ok", .priority = -1}), std::invalid_argument);
  CHECK_THROWS_AS(f.enqueue({.kind = "test.ok", .payload = "{not json"}), db::DbError);
  CHECK(f.count("true") == 0);
}

TEST_CASE("jobs: scheduled and batch enqueues land in the right states in input order", "[jobs]") {
  Journal journal;
  JobsFixture f;
  f.kinds.add("test.ok", record_into(journal), {.queue = "media"});
  std::vector<jobs::NewJob> batch;
  for (int i = 0; i < 5; ++i)
    batch.push_back({.kind = "test.ok", .payload = "{\"i\":" + std::to_string(i) + "}", .priority = i});
  batch.push_back({.kind = "test.ok", .run_at = f.clock.now() + 1h});
  auto results = f.block(f.queue().enqueue_many(*f.db, std::move(batch)));
  REQUIRE(results.size() == 6);
  for (int i = 0; i < 5; ++i) {
    CHECK(results[i].inserted);
    auto id = std::to_string(results[i].id);
    CHECK(test::admin_scalar(f.url, "SELECT payload->>'i' FROM jobs.jobs WHERE id = " + id) == std::to_string(i));
    CHECK(test::admin_scalar(f.url, "SELECT queue FROM jobs.jobs WHERE id = " + id) == "media");
  }
  CHECK(f.state_of(results[5].id) == "scheduled");
  CHECK(test::admin_scalar(f.url, "SELECT run_at = '" + iso(f.clock.now() + 1h) +
                                      "'::timestamptz FROM jobs.jobs WHERE id = " + std::to_string(results[5].id)) ==
        "t");
}

TEST_CASE("jobs: a unique key deduplicates among live jobs only", "[jobs]") {
  Journal journal;
  JobsFixture f;
  f.kinds.add("test.ok", record_into(journal));
  auto first = f.block(f.queue().enqueue(*f.db, {.kind = "test.ok", .unique_key = "report:42"}));
  auto second = f.block(f.queue().enqueue(*f.db, {.kind = "test.ok", .unique_key = "report:42"}));
  CHECK(first.inserted);
  CHECK_FALSE(second.inserted);
  CHECK(second.id == first.id);

  // Duplicates inside one batch resolve to one job too.
  std::vector<jobs::NewJob> batch{{.kind = "test.ok", .unique_key = "k"}, {.kind = "test.ok", .unique_key = "k"},
                                  {.kind = "test.ok"}};
  auto results = f.block(f.queue().enqueue_many(*f.db, std::move(batch)));
  CHECK(results[0].inserted);
  CHECK_FALSE(results[1].inserted);
  CHECK(results[1].id == results[0].id);
  CHECK(results[2].inserted);

  // Once the job finished (or died), the key is free again.
  f.start_worker();
  REQUIRE(f.reaches(first.id, "completed"));
  auto third = f.block(f.queue().enqueue(*f.db, {.kind = "test.ok", .unique_key = "report:42"}));
  CHECK(third.inserted);
  CHECK(third.id != first.id);
}

TEST_CASE("jobs: a worker runs every job once and writes them completed", "[jobs]") {
  Journal journal;
  JobsFixture f;
  f.kinds.add("test.ok", record_into(journal));
  f.config.queues = {{"default", 4}};
  f.config.prefetch = 2;
  std::vector<jobs::NewJob> batch(300, jobs::NewJob{.kind = "test.ok"});
  f.block(f.queue().enqueue_many(*f.db, std::move(batch)));
  f.start_worker();
  REQUIRE(test::eventually([&] { return f.count("state = 'completed'") == 300; }));
  std::sort(journal.ids.begin(), journal.ids.end());
  CHECK(std::adjacent_find(journal.ids.begin(), journal.ids.end()) == journal.ids.end());
  CHECK(journal.size() == 300);
  CHECK(f.count("attempt = 1 AND finished_at IS NOT NULL AND worker_id IS NULL") == 300);
  CHECK(f.registry.counter("huntaze_jobs_completed_total", "", {"kind"}).with({"test.ok"}).value() == 300);

  // A job enqueued on the idle queue is picked up through NOTIFY.
  auto late = f.enqueue({.kind = "test.ok"});
  CHECK(f.reaches(late, "completed"));
}

TEST_CASE("jobs: higher priority (lower number) runs first", "[jobs]") {
  Journal journal;
  JobsFixture f;
  f.kinds.add("test.ok", record_into(journal));
  f.config.queues = {{"default", 1}};
  f.config.prefetch = 0;
  auto low = f.enqueue({.kind = "test.ok", .priority = 5});
  auto high = f.enqueue({.kind = "test.ok", .priority = 0});
  f.start_worker();
  REQUIRE(test::eventually([&] { return journal.size() == 2; }));
  CHECK(journal.ids == std::vector<int64_t>{high, low});
}

TEST_CASE("jobs: a kind this process does not know stays available for a process that knows it", "[jobs]") {
  // Declared before the fixture: the second worker's handler may still touch them while it stops.
  Journal journal, newer_journal;
  jobs::JobRegistry newer_kinds;
  JobsFixture f;
  f.kinds.add("test.ok", record_into(journal));
  // A job of a kind only a newer version registers, inserted as that version
  // would (enqueue() refuses kinds its registry lacks), and more urgent than
  // the known ones: a claim that did not filter on kinds would take it first.
  const db::Timestamp t0 = f.clock.now();
  auto inserted = f.query("INSERT INTO jobs.jobs (queue, kind, priority, run_at, max_attempts, timeout_ms, created_at) "
                          "VALUES ('default', 'test.newer', 0, $1, 3, 60000, $1) RETURNING id",
                          {t0});
  const int64_t newer_id = inserted.front().get<int64_t>(0);
  const auto newer = std::to_string(newer_id);
  std::vector<jobs::NewJob> batch(5, jobs::NewJob{.kind = "test.ok", .priority = 1});
  f.block(f.queue().enqueue_many(*f.db, std::move(batch)));
  f.clock.advance(30s);
  f.start_worker();
  REQUIRE(test::eventually([&] { return f.count("kind = 'test.ok' AND state = 'completed'") == 5; }));
  CHECK(journal.size() == 5);
  // Never claimed: no attempt burnt, no error, no lease taken.
  CHECK(test::admin_scalar(f.url, "SELECT state || ':' || attempt || ':' || lease || ':' || errors::text "
                                  "FROM jobs.jobs WHERE id = " +
                                      newer) == "available:0:0:[]");
  // Operators see it: the queue's oldest ready job keeps its age.
  CHECK(test::eventually([&] {
    return f.registry.gauge("huntaze_jobs_oldest_ready_seconds", "", {"queue"}).with({"default"}).value() ==
           Approx(30.0);
  }));

  // A process of the version that knows the kind runs it.
  newer_kinds.add("test.newer", record_into(newer_journal));
  jobs::Worker other(f.io.executor(), *f.db, newer_kinds, f.clock, f.registry, f.config);
  f.block(other.start());
  const bool ran = f.reaches(newer_id, "completed");
  f.block(other.stop(0ms));
  REQUIRE(ran);
  CHECK(newer_journal.size() == 1);
  CHECK(test::admin_scalar(f.url, "SELECT attempt FROM jobs.jobs WHERE id = " + newer) == "1");
}

TEST_CASE("jobs: failures retry with exponential backoff and end in the dead letters", "[jobs]") {
  JobsFixture f;
  f.kinds.add("test.fail", always_fail(), {.policy = policy(3, 10s)});
  auto id = f.enqueue({.kind = "test.fail"});
  const SysTime t0 = f.clock.now();
  f.start_worker();
  auto run_at_is = [&](SysTime expected) {
    return test::admin_scalar(f.url, "SELECT run_at = '" + iso(expected) + "'::timestamptz FROM jobs.jobs WHERE id = " +
                                         std::to_string(id)) == "t";
  };

  REQUIRE(f.reaches(id, "retryable"));
  CHECK(run_at_is(t0 + 10s));  // base * 2^0
  // Not before its time: a wake-up with the clock unchanged leaves it waiting.
  f.worker->wake();
  CHECK_FALSE(test::eventually([&] { return f.count("attempt > 1") > 0; }, 300ms));

  f.clock.advance(10s);
  f.worker->wake();
  REQUIRE(test::eventually([&] { return f.count("attempt = 2 AND state = 'retryable'") == 1; }));
  CHECK(run_at_is(t0 + 10s + 20s));  // base * 2^1

  f.clock.advance(20s);
  f.worker->wake();
  REQUIRE(f.reaches(id, "discarded"));
  CHECK(test::admin_scalar(f.url, "SELECT jsonb_array_length(errors) FROM jobs.jobs WHERE id = " +
                                      std::to_string(id)) == "3");
  CHECK(test::admin_scalar(f.url, "SELECT errors->2->>'error' FROM jobs.jobs WHERE id = " + std::to_string(id)) ==
        "boom on attempt 3");
  CHECK(f.registry.counter("huntaze_jobs_discarded_total", "", {"kind"}).with({"test.fail"}).value() == 1);
}

TEST_CASE("jobs: a handler may ask to retry at a time or to discard now", "[jobs]") {
  JobsFixture f;
  const SysTime when = f.clock.now() + 2h;
  f.kinds.add(
      "test.later",
      [when](jobs::JobContext&) -> asio::awaitable<void> {
        throw jobs::RetryAt(when, "upstream asked us to come back later");
        co_return;
      },
      {.policy = policy(5, 1s)});
  f.kinds.add(
      "test.hopeless",
      [](jobs::JobContext&) -> asio::awaitable<void> {
        throw jobs::DiscardJob("the referenced media no longer exists");
        co_return;
      },
      {.policy = policy(5, 1s)});
  auto later = f.enqueue({.kind = "test.later"});
  auto hopeless = f.enqueue({.kind = "test.hopeless"});
  f.start_worker();
  REQUIRE(f.reaches(later, "retryable"));
  CHECK(test::admin_scalar(f.url, "SELECT run_at = '" + iso(when) + "'::timestamptz FROM jobs.jobs WHERE id = " +
                                      std::to_string(later)) == "t");
  REQUIRE(f.reaches(hopeless, "discarded"));
  CHECK(test::admin_scalar(f.url, "SELECT attempt || ':' || (errors->0->>'reason') FROM jobs.jobs WHERE id = " +
                                      std::to_string(hopeless)) == "1:discard");
}

TEST_CASE("jobs: a handler's retry time is kept within now and now + 366 days", "[jobs]") {
  std::atomic<int> past_runs{0};
  JobsFixture f;
  f.kinds.add(
      "test.never",
      [](jobs::JobContext&) -> asio::awaitable<void> {
        throw jobs::RetryAt(SysTime::max(), "come back at the end of time");
        co_return;
      },
      {.policy = policy(5, 1s)});
  f.kinds.add(
      "test.past",
      [&](jobs::JobContext& job) -> asio::awaitable<void> {
        ++past_runs;
        if (job.attempt() == 1) throw jobs::RetryAt(SysTime::min(), "come back before the epoch");
        co_return;
      },
      {.policy = policy(5, 1h)});
  auto never = f.enqueue({.kind = "test.never"});
  auto past = f.enqueue({.kind = "test.past"});
  const SysTime t0 = f.clock.now();
  f.start_worker();
  // Written (a time out of timestamptz's range would be rejected), a year and a day ahead at most.
  REQUIRE(f.reaches(never, "retryable"));
  CHECK(test::admin_scalar(f.url, "SELECT run_at = '" + iso(t0 + std::chrono::days(366)) +
                                      "'::timestamptz FROM jobs.jobs WHERE id = " + std::to_string(never)) == "t");
  CHECK(test::admin_scalar(f.url, "SELECT attempt || ':' || (errors->0->>'reason') || ':' || (errors->0->>'error') "
                                  "FROM jobs.jobs WHERE id = " +
                                      std::to_string(never)) == "1:retry_at:come back at the end of time");
  // A time in the past means now: it runs again at once, the clock unmoved.
  REQUIRE(f.reaches(past, "completed"));
  CHECK(past_runs == 2);
  CHECK(test::admin_scalar(f.url, "SELECT attempt || ':' || (errors->0->>'reason') FROM jobs.jobs WHERE id = " +
                                      std::to_string(past)) == "2:retry_at");
}

TEST_CASE("jobs: the per-attempt timeout cancels the handler", "[jobs]") {
  std::atomic<bool> saw_cancel{false};
  JobsFixture f;
  f.kinds.add(
      "test.stuck",
      [&](jobs::JobContext& job) -> asio::awaitable<void> {
        try {
          co_await pause(60s);
        } catch (const boost::system::system_error& e) {
          saw_cancel = e.code() == asio::error::operation_aborted && job.cancelled();
          throw;
        }
      },
      {.policy = policy(2, 1s, 200ms)});
  auto id = f.enqueue({.kind = "test.stuck"});
  f.start_worker();
  REQUIRE(f.reaches(id, "retryable"));
  CHECK(saw_cancel);
  CHECK(test::admin_scalar(f.url, "SELECT errors->0->>'reason' FROM jobs.jobs WHERE id = " + std::to_string(id)) ==
        "timeout");
}

TEST_CASE("jobs: graceful shutdown finishes short jobs and hands long ones back", "[jobs]") {
  std::atomic<int> started{0};
  JobsFixture f;
  f.kinds.add("test.sleep", [&](jobs::JobContext& job) -> asio::awaitable<void> {
    ++started;
    co_await pause(std::chrono::milliseconds(job.payload().at("ms").as_int64()));
  });
  auto quick = f.enqueue({.kind = "test.sleep", .payload = R"({"ms":300})"});
  auto slow = f.enqueue({.kind = "test.sleep", .payload = R"({"ms":60000})"});
  f.start_worker();
  REQUIRE(test::eventually([&] { return started == 2; }));
  f.stop_worker(2s);
  CHECK(f.state_of(quick) == "completed");
  CHECK(f.state_of(slow) == "available");
  CHECK(test::admin_scalar(f.url, "SELECT attempt FROM jobs.jobs WHERE id = " + std::to_string(slow)) == "0");
  CHECK(test::admin_scalar(f.url, "SELECT count(*) FROM jobs.workers") == "0");
}

TEST_CASE("jobs: an operator's cancellation reaches the running handler", "[jobs]") {
  std::atomic<bool> running{false}, cancelled{false};
  JobsFixture f;
  f.kinds.add("test.long", [&](jobs::JobContext& job) -> asio::awaitable<void> {
    running = true;
    try {
      co_await pause(60s);
    } catch (const boost::system::system_error&) {
      cancelled = job.cancelled();
      throw;
    }
  });
  auto id = f.enqueue({.kind = "test.long"});
  f.start_worker();
  REQUIRE(test::eventually([&] { return running.load(); }));
  // What the admin API does: mark it cancelled and tell the workers.
  f.query("UPDATE jobs.jobs SET state = 'cancelled', worker_id = NULL, finished_at = now() WHERE id = $1", {id});
  f.query("SELECT pg_notify('huntaze_jobs_control', $1)", {"cancel:" + std::to_string(id)});
  REQUIRE(test::eventually([&] { return cancelled.load(); }));
  REQUIRE(test::eventually([&] { return f.worker->running() == 0; }));
  CHECK(f.state_of(id) == "cancelled");  // the worker did not overwrite it
}

TEST_CASE("jobs: a cancelled claim still unwinding cannot write over the job's next claim", "[jobs]") {
  std::atomic<int> starts{0};
  std::atomic<bool> first_cancelled{false}, release_first{false}, release_second{false};
  JobsFixture f;
  f.kinds.add("test.fenced", [&](jobs::JobContext& job) -> asio::awaitable<void> {
    if (++starts == 1) {
      bool cancelled = false;
      try {
        co_await pause(60s);
      } catch (const boost::system::system_error&) {
        cancelled = true;
      }
      if (!cancelled) co_return;
      first_cancelled = job.cancelled();
      // A handler that ignores its cancellation and finishes "successfully"
      // much later, after the job was retried and claimed again.
      co_await asio::this_coro::reset_cancellation_state();
      while (!release_first) co_await pause(5ms);
      co_return;
    }
    while (!release_second) co_await pause(5ms);
  });
  auto id = f.enqueue({.kind = "test.fenced"});
  f.start_worker();
  REQUIRE(test::eventually([&] { return starts == 1; }));
  // The admin API's cancel, then its retry.
  f.query("UPDATE jobs.jobs SET state = 'cancelled', worker_id = NULL, finished_at = now() WHERE id = $1", {id});
  f.query("SELECT pg_notify('huntaze_jobs_control', 'cancel:' || id || ':' || lease) FROM jobs.jobs WHERE id = $1",
          {id});
  REQUIRE(test::eventually([&] { return first_cancelled.load(); }));
  f.query("UPDATE jobs.jobs SET state = 'available', attempt = 0, finished_at = NULL WHERE id = $1", {id});
  f.worker->wake();
  REQUIRE(test::eventually([&] { return starts == 2; }));

  // The stale success must not complete the running second claim.
  release_first = true;
  REQUIRE(test::eventually([&] { return f.worker->running() == 1; }));
  f.worker->wake();  // let the write-back happen
  CHECK_FALSE(test::eventually([&] { return f.state_of(id) != "running"; }, 300ms));
  CHECK(test::admin_scalar(f.url, "SELECT attempt || ':' || lease FROM jobs.jobs WHERE id = " + std::to_string(id)) ==
        "1:2");

  release_second = true;
  CHECK(f.reaches(id, "completed"));
}

TEST_CASE("jobs: a claimed job cancelled before it started never runs", "[jobs]") {
  Journal journal;
  std::atomic<bool> release{false};
  JobsFixture f;
  f.kinds.add("test.block", [&](jobs::JobContext& job) -> asio::awaitable<void> {
    journal.add(job.id());
    while (!release) co_await pause(5ms);
  });
  f.config.queues = {{"default", 1}};
  f.config.prefetch = 2;
  f.config.poll_interval = 1h;  // claims follow notifications only, in their order
  auto blocker = f.enqueue({.kind = "test.block", .priority = 0});
  auto waiting = f.enqueue({.kind = "test.block", .priority = 1});
  f.start_worker();
  // Both claimed: one runs, the other sits in the worker's prefetch.
  REQUIRE(test::eventually([&] { return f.count("state = 'running'") == 2 && journal.size() == 1; }));
  f.query("UPDATE jobs.jobs SET state = 'cancelled', worker_id = NULL, finished_at = now() WHERE id = $1", {waiting});
  f.query("SELECT pg_notify('huntaze_jobs_control', 'cancel:' || id || ':' || lease) FROM jobs.jobs WHERE id = $1",
          {waiting});
  // The listener handles notifications in order: once the marker job's
  // wake-up has been acted on (it is claimed), so has the cancellation.
  auto marker = f.enqueue({.kind = "test.block", .priority = 2});
  REQUIRE(test::eventually([&] { return f.state_of(marker) == "running"; }));
  release = true;
  REQUIRE(f.reaches(blocker, "completed"));
  REQUIRE(f.reaches(marker, "completed"));
  CHECK(f.state_of(waiting) == "cancelled");
  std::lock_guard lock(journal.mutex);
  CHECK(std::find(journal.ids.begin(), journal.ids.end(), waiting) == journal.ids.end());
}

TEST_CASE("jobs: error text with broken UTF-8 is stored cleaned, never lost", "[jobs]") {
  JobsFixture f;
  f.kinds.add(
      "test.garbage",
      [](jobs::JobContext&) -> asio::awaitable<void> {
        throw std::runtime_error("bad byte \xff\xfe caf\xc3\xa9 \xe2\x82");
        co_return;
      },
      {.policy = policy(1, 1s)});
  auto id = f.enqueue({.kind = "test.garbage"});
  f.start_worker();
  REQUIRE(f.reaches(id, "discarded"));
  CHECK(test::admin_scalar(f.url, "SELECT errors->0->>'error' FROM jobs.jobs WHERE id = " + std::to_string(id)) ==
        "bad byte \xef\xbf\xbd\xef\xbf\xbd caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd");
}

TEST_CASE("jobs: a failure the database rejects even on its own ends discarded, holding up no other write",
          "[jobs]") {
  Journal journal;
  JobsFixture f;
  f.kinds.add("test.fail", always_fail(), {.policy = policy(5, 10s)});
  f.kinds.add("test.ok", record_into(journal));
  // A row whose content breaks every failure write (jobs.append_error wants
  // an array): the batch, the row alone, the row with a stand-in message.
  auto poisoned = f.enqueue({.kind = "test.fail"});
  f.query("UPDATE jobs.jobs SET errors = '\"not an array\"' WHERE id = $1", {poisoned});
  auto healthy = f.enqueue({.kind = "test.fail"});
  const SysTime t0 = f.clock.now();
  f.start_worker();
  REQUIRE(f.reaches(poisoned, "discarded"));
  const auto id = std::to_string(poisoned);
  CHECK(test::admin_scalar(f.url, "SELECT attempt || ':' || jsonb_array_length(errors) || ':' || (errors->0->>'reason') "
                                  "FROM jobs.jobs WHERE id = " +
                                      id) == "1:1:unstorable_result");
  const auto why = test::admin_scalar(f.url, "SELECT errors->0->>'error' FROM jobs.jobs WHERE id = " + id);
  CHECK_THAT(why, Catch::Matchers::Contains("could not be stored") && Catch::Matchers::Contains("22023"));
  CHECK(test::admin_scalar(f.url, "SELECT finished_at IS NOT NULL AND worker_id IS NULL FROM jobs.jobs WHERE id = " +
                                      id) == "t");
  CHECK(f.registry.counter("huntaze_jobs_discarded_total", "", {"kind"}).with({"test.fail"}).value() == 1);
  // The other failure is written as usual, and later results still flow.
  REQUIRE(f.reaches(healthy, "retryable"));
  CHECK(test::admin_scalar(f.url, "SELECT run_at = '" + iso(t0 + 10s) + "'::timestamptz AND errors->0->>'error' = "
                                  "'boom on attempt 1' FROM jobs.jobs WHERE id = " +
                                      std::to_string(healthy)) == "t");
  auto later = f.enqueue({.kind = "test.ok"});
  CHECK(f.reaches(later, "completed"));
}

TEST_CASE("jobs: rescue takes back the jobs of a silent worker, never of a beating one", "[jobs]") {
  std::atomic<bool> long_running{false};
  JobsFixture f;
  f.kinds.add("test.long", [&](jobs::JobContext&) -> asio::awaitable<void> {
    long_running = true;
    co_await pause(60s);
  });
  Journal journal;
  f.kinds.add("test.ok", record_into(journal), {.policy = policy(2, 1s)});
  // A crashed process: its heartbeat row is old and it still holds two jobs,
  // one with attempts left and one without.
  const auto dead = Uuid::v7();
  const db::Timestamp long_ago = f.clock.now() - 10min;
  f.query("INSERT INTO jobs.workers (id, host, pid, queues, started_at, heartbeat_at) VALUES ($1, 'gone', 1, "
          "'{default}', $2, $2)",
          {dead, long_ago});
  auto retry_me = f.enqueue({.kind = "test.ok"});
  auto out_of_attempts = f.enqueue({.kind = "test.ok"});
  f.query("UPDATE jobs.jobs SET state = 'running', worker_id = $1, attempt = 1 WHERE id = $2", {dead, retry_me});
  f.query("UPDATE jobs.jobs SET state = 'running', worker_id = $1, attempt = 2 WHERE id = $2",
          {dead, out_of_attempts});

  f.config.rescue_after = 1min;
  f.config.poll_interval = 10min;  // only explicit wake-ups find work
  f.start_worker();
  auto live = f.enqueue({.kind = "test.long"});
  REQUIRE(test::eventually([&] { return long_running.load(); }));

  // Ten minutes pass for everyone; the live worker keeps beating.
  f.clock.advance(10min);
  const auto beat_after = iso(f.clock.now());
  REQUIRE(test::eventually([&] {
    return test::admin_scalar(f.url, "SELECT heartbeat_at >= '" + beat_after +
                                         "'::timestamptz FROM jobs.workers WHERE id = '" + f.worker->id().str() +
                                         "'") == "t";
  }));
  // Another process rescues (the worker's own rescuer may get there first;
  // the outcome is the same).
  jobs::Worker other(f.io.executor(), *f.db, f.kinds, f.clock, f.registry, f.config);
  f.block(other.rescue());
  CHECK(f.registry.counter("huntaze_jobs_rescued_total", "", {"kind"}).with({"test.ok"}).value() == 2);
  CHECK(f.state_of(live) == "running");
  CHECK(f.state_of(out_of_attempts) == "discarded");
  CHECK(test::admin_scalar(f.url, "SELECT errors->-1->>'reason' FROM jobs.jobs WHERE id = " +
                                      std::to_string(out_of_attempts)) == "rescued");
  // The other one runs again here.
  f.worker->wake();
  REQUIRE(f.reaches(retry_me, "completed"));
  CHECK(test::admin_scalar(f.url, "SELECT attempt FROM jobs.jobs WHERE id = " + std::to_string(retry_me)) == "2");
  CHECK(test::admin_scalar(f.url, "SELECT count(*) FROM jobs.workers WHERE id = '" + dead.str() + "'") == "0");
}

TEST_CASE("jobs: publish creates one job per matching subscription, in the caller's transaction", "[jobs][events]") {
  std::mutex mutex;
  std::vector<std::string> seen;
  JobsFixture f;
  auto record = [&](std::string who) {
    return [&, who](jobs::JobContext& job) -> asio::awaitable<void> {
      const auto& e = job.payload().as_object();
      std::lock_guard lock(mutex);
      seen.push_back(who + ":" + std::string(e.at("type").as_string()) + ":" +
                     std::string(e.at("data").at("id").as_string()));
      co_return;
    };
  };
  f.kinds.subscribe({.name = "all-media", .topic = "media", .handler = record("all")});
  f.kinds.subscribe({.name = "ready-only", .topic = "media", .filter = {.types = {"media.ready"}},
                     .handler = record("ready")});
  f.kinds.subscribe({.name = "creator-7", .topic = "media",
                     .filter = {.types = {"media.*"}, .attributes = {{"creator_id", "7"}}},
                     .handler = record("c7")});
  f.kinds.subscribe({.name = "offers", .topic = "offers", .handler = record("offers")});

  auto publish = [&](jobs::Event e) {
    return f.block(f.db->transaction([&](db::Transaction& tx) -> asio::awaitable<int> {
      co_return co_await f.queue().publish(tx, e);
    }));
  };
  CHECK(publish({.topic = "media", .type = "media.ready", .data = R"({"id":"a"})",
                 .attributes = {{"creator_id", "7"}}}) == 3);
  CHECK(publish({.topic = "media", .type = "media.failed", .data = R"({"id":"b"})",
                 .attributes = {{"creator_id", "8"}}}) == 1);
  CHECK(publish({.topic = "nobody", .type = "x", .data = R"({"id":"c"})"}) == 0);
  CHECK_THROWS_AS(publish({.topic = "media", .type = "media.ready", .data = "[]"}), std::invalid_argument);
  CHECK(f.count("kind = 'event:ready-only'") == 1);

  f.start_worker();
  REQUIRE(test::eventually([&] { return f.count("state = 'completed'") == 4; }));
  std::sort(seen.begin(), seen.end());
  CHECK(seen == std::vector<std::string>{"all:media.failed:b", "all:media.ready:a", "c7:media.ready:a",
                                         "ready:media.ready:a"});
}

TEST_CASE("jobs: prune deletes finished jobs past their retention in batches", "[jobs]") {
  Journal journal;
  JobsFixture f;
  f.kinds.add("test.ok", record_into(journal));
  f.config.keep_completed = 24h;
  f.config.keep_discarded = 48h;
  f.config.prune_batch = 10;
  std::vector<jobs::NewJob> batch(60, jobs::NewJob{.kind = "test.ok"});
  auto ids = f.block(f.queue().enqueue_many(*f.db, std::move(batch)));
  auto set_state = [&](int from, int to, const std::string& state, std::chrono::hours age) {
    for (int i = from; i < to; ++i)
      f.query("UPDATE jobs.jobs SET state = $1::jobs.job_state, finished_at = $2 WHERE id = $3",
              {state, db::Timestamp(f.clock.now() - age), ids[i].id});
  };
  set_state(0, 25, "completed", 25h);   // expired
  set_state(25, 30, "completed", 1h);   // kept
  set_state(30, 45, "discarded", 25h);  // dead letters are kept longer
  set_state(45, 50, "discarded", 49h);  // expired
  set_state(50, 55, "cancelled", 30h);  // expired
  auto deleted = f.block(jobs::prune_jobs(*f.db, f.clock, f.config));
  CHECK(deleted == 35);
  CHECK(f.count("state = 'completed'") == 5);
  CHECK(f.count("state = 'discarded'") == 15);
  CHECK(f.count("state = 'available'") == 5);
}

TEST_CASE("jobs: depth and the oldest ready job's age are sampled into gauges", "[jobs]") {
  std::atomic<bool> busy{false};
  JobsFixture f;
  f.kinds.add("test.block", [&](jobs::JobContext&) -> asio::awaitable<void> {
    busy = true;
    co_await pause(60s);
  });
  f.config.queues = {{"default", 1}};
  f.config.prefetch = 0;
  f.enqueue({.kind = "test.block"});
  f.enqueue({.kind = "test.block"});
  f.enqueue({.kind = "test.block"});
  f.enqueue({.kind = "test.block", .run_at = f.clock.now() + 1h});
  f.clock.advance(30s);
  f.start_worker();
  REQUIRE(test::eventually([&] { return busy.load(); }));
  auto gauge = [&](const std::string& name, std::vector<std::string> labels, std::vector<std::string> values) {
    return f.registry.gauge(name, "", std::move(labels)).with(values).value();
  };
  CHECK(test::eventually([&] {
    return gauge("huntaze_jobs_depth", {"queue", "state"}, {"default", "available"}) == 2 &&
           gauge("huntaze_jobs_depth", {"queue", "state"}, {"default", "running"}) == 1 &&
           gauge("huntaze_jobs_depth", {"queue", "state"}, {"default", "scheduled"}) == 1;
  }));
  CHECK(gauge("huntaze_jobs_oldest_ready_seconds", {"queue"}, {"default"}) == Approx(30.0));
  CHECK(gauge("huntaze_jobs_running", {"queue"}, {"default"}) == 1);
  f.stop_worker(0ms);
}
