// bench_jobs: throughput and pickup latency of the PostgreSQL job queue, run
// by bench/jobs against a private PostgreSQL. One process, two I/O threads,
// one pool, as a single huntaze instance would run it:
//
//   1. insert  --jobs no-op jobs with enqueue_many, --batch per statement
//   2. work    one Worker runs them all; timed from start() until the last
//              one is written completed (not merely handled)
//   3. pickup  --pickups single jobs on the idle queue, one at a time: from
//              just before enqueue() to the handler's first instruction
//              (LISTEN/NOTIFY wake-up, claim, start)
//
//   bench_jobs --db <url> [--jobs 100000] [--batch 1000] [--concurrency 256] [--prefetch 256]
//              [--completion-batch 512] [--pool-max 16] [--pickups 1000] [--pause-ms 5]
//
// Prints a summary, then one `BENCH <name> <value> <unit>` line per figure.
#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <cstdio>
#include <future>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.hpp"
#include "db/pg_pool.hpp"
#include "huntaze/core/clock.hpp"
#include "huntaze/core/log.hpp"
#include "huntaze/core/metrics.hpp"
#include "huntaze/db/migrations.hpp"
#include "huntaze/jobs/job_queue.hpp"
#include "huntaze/jobs/registry.hpp"
#include "jobs/pg_job_queue.hpp"
#include "jobs/worker.hpp"

namespace {

namespace asio = boost::asio;
using namespace huntaze;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

bench::Options parse(int argc, char** argv) {
  bench::Options o("bench_jobs",
                   "--db <url> [--jobs N] [--batch N] [--concurrency N] [--prefetch N] [--completion-batch N] "
                   "[--pool-max N] [--pickups N] [--pause-ms N]");
  o.text("db", true);
  o.number("jobs", 100000, 1);
  o.number("batch", 1000, 1, 10000);
  o.number("concurrency", 256, 1);
  o.number("prefetch", 256, 0);
  o.number("completion-batch", 512, 1);
  o.number("pool-max", 16, 1);
  o.number("pickups", 1000, 0);
  o.number("pause-ms", 5, 0);
  o.parse(argc, argv);
  return o;
}

// The I/O context and its two threads; block() runs a coroutine on them and
// waits from the calling (main) thread.
class Io {
 public:
  Io() : ioc_(2), work_(asio::make_work_guard(ioc_)) {
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { ioc_.run(); });
  }
  ~Io() {
    work_.reset();
    for (auto& t : threads_) t.join();
  }
  asio::any_io_executor executor() { return ioc_.get_executor(); }
  template <class T>
  T block(asio::awaitable<T> work) {
    return asio::co_spawn(ioc_, std::move(work), asio::use_future).get();
  }

 private:
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
};

// Hands the pickup handler's start time to the main thread, one job at a time.
class StartProbe {
 public:
  std::future<Steady::time_point> arm() {
    std::lock_guard lock(mutex_);
    promise_ = std::promise<Steady::time_point>();
    armed_ = true;
    return promise_.get_future();
  }
  void started(Steady::time_point at) {
    std::lock_guard lock(mutex_);
    if (!armed_) return;
    armed_ = false;
    promise_.set_value(at);
  }

 private:
  std::mutex mutex_;
  std::promise<Steady::time_point> promise_;
  bool armed_ = false;
};

asio::awaitable<int> migrate(db::Database& db) {
  db::Migrator migrator(db, db::embedded_migrations());
  int applied = co_await migrator.apply();
  // A rerun on the same database starts from an empty queue.
  co_await db.execute_script("TRUNCATE jobs.jobs, jobs.workers");
  co_return applied;
}

asio::awaitable<int64_t> completed(db::Database& db) {
  auto res = co_await db.query("SELECT count(*) FROM jobs.jobs WHERE state = 'completed'");
  co_return res.front().get<int64_t>(0);
}

// Polls `count` every `every` until it reaches `target`; throws when it
// stops moving for a minute (a stuck worker must not hang the benchmark).
template <class Count>
void wait_for_progress(Count count, int64_t target, Steady::duration every) {
  int64_t last = -1;
  auto moved = Steady::now();
  for (int64_t n; (n = count()) < target; std::this_thread::sleep_for(every)) {
    if (n != last) {
      last = n;
      moved = Steady::now();
    } else if (Steady::now() - moved > 60s) {
      throw std::runtime_error("stuck at " + std::to_string(n) + " of " + std::to_string(target) + " jobs");
    }
  }
}

double seconds(Steady::duration d) {
  return std::chrono::duration<double>(d).count();
}
double millis(Steady::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Options opt = parse(argc, argv);
  log::init({.level = log::Level::warn});

  // Declared before the I/O threads, so that they outlive anything still
  // running on them at the end.
  metrics::Registry metrics;
  SystemClock clock;
  std::atomic<int64_t> handled{0};
  StartProbe probe;
  Io io;
  db::DatabaseConfig db_config;
  db_config.url = Secret(opt.text_value("db"));
  db_config.pool_min = std::min(4, opt["pool-max"]);
  db_config.pool_max = opt["pool-max"];
  db_config.acquire_timeout = 10s;
  db_config.statement_timeout = 120s;
  auto db = db::make_pg_pool(io.executor(), db_config, metrics);

  jobs::JobRegistry registry;
  registry.add("bench.noop", [&handled](jobs::JobContext&) -> asio::awaitable<void> {
    handled.fetch_add(1, std::memory_order_relaxed);
    co_return;
  });
  registry.add("bench.pickup", [&probe](jobs::JobContext&) -> asio::awaitable<void> {
    probe.started(Steady::now());
    co_return;
  });
  auto queue = jobs::make_pg_job_queue(registry, clock, metrics);

  jobs::JobsConfig config;
  config.queues = {{"default", opt["concurrency"]}};
  config.prefetch = opt["prefetch"];
  config.completion_batch = opt["completion-batch"];
  jobs::Worker worker(io.executor(), *db, registry, clock, metrics, config);

  int code = 0;
  try {
    io.block(migrate(*db));
    const int total = opt["jobs"];
    const int batch = opt["batch"];

    // 1. Insert.
    const auto insert_start = Steady::now();
    for (int done = 0; done < total; done += batch) {
      std::vector<jobs::NewJob> jobs(static_cast<size_t>(std::min(batch, total - done)),
                                     jobs::NewJob{.kind = "bench.noop"});
      io.block(queue->enqueue_many(*db, std::move(jobs)));
    }
    const double insert_s = seconds(Steady::now() - insert_start);

    // 2. Work: handlers count in memory; the clock stops when the database
    // says every job is completed (results are written back in batches).
    const auto work_start = Steady::now();
    io.block(worker.start());
    wait_for_progress([&] { return handled.load(std::memory_order_relaxed); }, total, 1ms);
    wait_for_progress([&] { return io.block(completed(*db)); }, total, 2ms);
    const double work_s = seconds(Steady::now() - work_start);

    // 3. Pickup latency on the now idle queue.
    std::vector<double> pickup_ms;
    for (int i = 0; i < opt["pickups"]; ++i) {
      auto started = probe.arm();
      const auto before = Steady::now();
      io.block(queue->enqueue(*db, jobs::NewJob{.kind = "bench.pickup"}));
      if (started.wait_for(30s) != std::future_status::ready) throw std::runtime_error("a pickup job never started");
      pickup_ms.push_back(millis(started.get() - before));
      std::this_thread::sleep_for(std::chrono::milliseconds(opt["pause-ms"]));
    }
    std::sort(pickup_ms.begin(), pickup_ms.end());

    io.block(worker.stop(1s));

    const double insert_rate = total / insert_s;
    const double work_rate = total / work_s;
    const double p50 = bench::percentile(pickup_ms, 50), p99 = bench::percentile(pickup_ms, 99);
    std::printf("insert: %d jobs in %.3f s (batches of %d)\n", total, insert_s, batch);
    std::printf("work:   %d jobs in %.3f s (concurrency %d, prefetch %d, completion batch %d, pool %d)\n", total,
                work_s, opt["concurrency"], opt["prefetch"], config.completion_batch, opt["pool-max"]);
    std::printf("pickup: %zu jobs, min %.3f p50 %.3f p90 %.3f p99 %.3f max %.3f ms\n", pickup_ms.size(),
                pickup_ms.empty() ? 0.0 : pickup_ms.front(), p50, bench::percentile(pickup_ms, 90), p99,
                pickup_ms.empty() ? 0.0 : pickup_ms.back());
    std::printf("BENCH jobs_insert %.0f jobs/s\n", insert_rate);
    std::printf("BENCH jobs_worked %.0f jobs/s\n", work_rate);
    std::printf("BENCH jobs_pickup_p50 %.3f ms\n", p50);
    std::printf("BENCH jobs_pickup_p99 %.3f ms\n", p99);
    std::fflush(stdout);
  } catch (const std::exception& e) {
    std::cerr << "bench_jobs: " << e.what() << '\n';
    code = 1;
    try {
      io.block(worker.stop(0ms));
    } catch (const std::exception&) {
      // Already failing; the database may be gone.
    }
  }
  db->close();
  return code;
}
