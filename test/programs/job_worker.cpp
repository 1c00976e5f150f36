// test_job_worker: a real job worker process for the multi-process tests
// (test/integration/jobs_processes_test.cpp), so that exactly-once claiming,
// crash rescue and shutdown hand-back are tested across processes the way a
// deployment runs them.
//
//   test_job_worker --db <url> [--concurrency N] [--heartbeat-ms N] [--rescue-after-ms N]
//                   [--poll-ms N] [--grace-ms N]
//
// It works the queue "default" with two kinds that record every run in
// tables the test creates:
//   public.job_runs (job_id bigint, attempt int, pid int)  one row per run
//   public.job_done (job_id bigint, pid int)               test.sleep finished
//
//   test.record  records the run and returns.
//   test.sleep   records the run, then waits payload "ms" milliseconds on the
//                job's first run and "ms_after" (default 0) on any later run
//                (after a rescue or a shutdown hand-back), heartbeating every
//                100 ms; then records completion. "First run" means no earlier
//                row in job_runs: a handed-back job runs as attempt 1 again.
//
// Prints "ready <worker id>" on stdout once the worker has started. SIGTERM
// or SIGINT stops the worker with --grace-ms and exits 0. Logs (warn and up)
// go to stderr so that stdout carries only the ready line.
#include <unistd.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <cerrno>
#include <charconv>
#include <iostream>
#include <string>
#include <thread>

#include "db/pg_pool.hpp"
#include "huntaze/core/clock.hpp"
#include "huntaze/core/log.hpp"
#include "huntaze/core/metrics.hpp"
#include "huntaze/jobs/registry.hpp"
#include "jobs/worker.hpp"

namespace {

namespace asio = boost::asio;
using namespace huntaze;
using namespace std::chrono_literals;

struct Options {
  std::string db_url;
  int concurrency = 8;
  int heartbeat_ms = 100;
  int rescue_after_ms = 1000;
  int poll_ms = 100;
  int grace_ms = 1000;
};

[[noreturn]] void usage(const std::string& problem) {
  std::cerr << "test_job_worker: " << problem
            << "\nusage: test_job_worker --db <url> [--concurrency N] [--heartbeat-ms N] [--rescue-after-ms N] "
               "[--poll-ms N] [--grace-ms N]\n";
  std::exit(2);
}

int positive(const std::string& flag, const std::string& text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value <= 0) usage(flag + " wants a positive integer");
  return value;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) usage(flag + " wants a value");
    const std::string value = argv[++i];
    if (flag == "--db")
      o.db_url = value;
    else if (flag == "--concurrency")
      o.concurrency = positive(flag, value);
    else if (flag == "--heartbeat-ms")
      o.heartbeat_ms = positive(flag, value);
    else if (flag == "--rescue-after-ms")
      o.rescue_after_ms = positive(flag, value);
    else if (flag == "--poll-ms")
      o.poll_ms = positive(flag, value);
    else if (flag == "--grace-ms")
      o.grace_ms = positive(flag, value);
    else
      usage("unknown option " + flag);
  }
  if (o.db_url.empty()) usage("--db is required");
  // The rule jobs.* validation enforces on the YAML: a worker that beats
  // every interval must not be declared dead after less than two of them.
  if (o.rescue_after_ms < 2 * o.heartbeat_ms) usage("--rescue-after-ms must be at least twice --heartbeat-ms");
  return o;
}

const char* kRecordRun = "INSERT INTO public.job_runs (job_id, attempt, pid) VALUES ($1, $2, $3)";

asio::awaitable<void> record_run(db::Database& db, jobs::JobContext& job) {
  co_await db.query(kRecordRun, job.id(), static_cast<int32_t>(job.attempt()), static_cast<int32_t>(::getpid()));
}

asio::awaitable<void> sleep_job(db::Database& db, jobs::JobContext& job) {
  auto earlier = co_await db.query("SELECT count(*) FROM public.job_runs WHERE job_id = $1", job.id());
  const bool first_run = earlier.front().get<int64_t>(0) == 0;
  co_await record_run(db, job);

  const auto& payload = job.payload().as_object();
  const char* field = first_run ? "ms" : "ms_after";
  const auto* ms = payload.if_contains(field);
  const auto wait = std::chrono::milliseconds(ms ? ms->to_number<int64_t>() : 0);
  const auto until = std::chrono::steady_clock::now() + wait;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (std::chrono::steady_clock::now() < until) {
    const std::chrono::steady_clock::duration step = 100ms;
    timer.expires_after(std::min(step, until - std::chrono::steady_clock::now()));
    co_await timer.async_wait(asio::use_awaitable);  // cancellation ends the wait with an exception
    co_await job.heartbeat();
  }
  co_await db.query("INSERT INTO public.job_done (job_id, pid) VALUES ($1, $2)", job.id(),
                    static_cast<int32_t>(::getpid()));
}

void register_kinds(jobs::JobRegistry& registry, db::Database& db) {
  registry.add("test.record", [&db](jobs::JobContext& job) { return record_run(db, job); });
  registry.add("test.sleep", [&db](jobs::JobContext& job) { return sleep_job(db, job); });
}

// Writes the whole line to `fd` (the original stdout) in one write: lines
// shorter than PIPE_BUF reach the reader whole.
void announce(int fd, const std::string& line) {
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);

  // The log writes JSON lines to stdout; send them to stderr and keep the
  // real stdout for the ready line the test waits for.
  const int ready_fd = ::dup(STDOUT_FILENO);
  ::dup2(STDERR_FILENO, STDOUT_FILENO);
  log::init({.level = log::Level::warn});

  asio::io_context ioc(2);
  auto work = asio::make_work_guard(ioc);
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  metrics::Registry metrics;
  SystemClock clock;

  db::DatabaseConfig db_config;
  db_config.url = Secret(options.db_url);
  db_config.pool_min = 1;
  db_config.pool_max = 8;
  db_config.acquire_timeout = 10s;
  auto db = db::make_pg_pool(ioc.get_executor(), db_config, metrics);

  jobs::JobRegistry registry;
  register_kinds(registry, *db);

  jobs::JobsConfig config;
  config.queues = {{"default", options.concurrency}};
  config.heartbeat_interval = std::chrono::milliseconds(options.heartbeat_ms);
  config.rescue_after = std::chrono::milliseconds(options.rescue_after_ms);
  config.poll_interval = std::chrono::milliseconds(options.poll_ms);
  jobs::Worker worker(ioc.get_executor(), *db, registry, clock, metrics, config);

  int exit_code = 0;
  auto run = [&]() -> asio::awaitable<void> {
    co_await worker.start();
    announce(ready_fd, "ready " + worker.id().str() + "\n");
    // A signal that arrived during start-up is queued by the signal_set.
    co_await signals.async_wait(asio::use_awaitable);
    co_await worker.stop(std::chrono::milliseconds(options.grace_ms));
  };
  asio::co_spawn(ioc, run, [&](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log::error("test_job_worker failed", {{"error", ex.what()}});
      }
      exit_code = 1;
      ioc.stop();  // the worker may be half started: do not wait for its loops
      return;
    }
    db->close();
    work.reset();  // the threads return once the pool has unwound
  });

  std::thread second([&] { ioc.run(); });
  ioc.run();
  second.join();
  return exit_code;
}
