// Shared by the jobs_*_test.cpp files: a fresh database, a manual clock, a
// registry the test fills, the PostgreSQL queue and (once started) one
// in-process worker.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <mutex>

#include "db_fixture.hpp"
#include "huntaze/core/clock.hpp"
#include "huntaze/jobs/job_queue.hpp"
#include "huntaze/jobs/registry.hpp"
#include "jobs/pg_job_queue.hpp"
#include "jobs/worker.hpp"

namespace huntaze::test::jobst {

using namespace std::chrono_literals;
using test::dbt::DbFixture;

// A fixed instant, so that computed run_at values can be asserted exactly.
inline SysTime test_epoch() {
  return SysTime(std::chrono::sys_days(std::chrono::year(2026) / 11 / 21).time_since_epoch()) + 10h;
}

inline jobs::JobsConfig fast_config() {
  jobs::JobsConfig c;
  c.queues = {{"default", 8}};
  c.poll_interval = 50ms;
  c.heartbeat_interval = 50ms;
  c.rescue_after = 1s;
  c.completion_delay = 1ms;
  return c;
}

// Waits on a steady timer; cancellation ends it with an exception.
inline asio::awaitable<void> pause(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

struct JobsFixture : DbFixture {
  JobsFixture() : DbFixture() {}
  ~JobsFixture() { stop_worker(0ms); }

  jobs::JobQueue& queue() {
    if (!queue_) queue_ = jobs::make_pg_job_queue(kinds, clock, registry);
    return *queue_;
  }

  int64_t enqueue(jobs::NewJob job) { return block(queue().enqueue(*db, std::move(job))).id; }

  void start_worker() {
    queue();
    worker = std::make_unique<jobs::Worker>(io.executor(), *db, kinds, clock, registry, config);
    block(worker->start());
  }
  void stop_worker(std::chrono::milliseconds grace) {
    if (!worker) return;
    block(worker->stop(grace));
    worker.reset();
  }

  std::string state_of(int64_t id) {
    return admin_scalar(url, "SELECT state FROM jobs.jobs WHERE id = " + std::to_string(id));
  }
  bool reaches(int64_t id, const std::string& state, std::chrono::milliseconds timeout = 10s) {
    return eventually([&] { return state_of(id) == state; }, timeout);
  }
  int count(const std::string& where) {
    return std::stoi(admin_scalar(url, "SELECT count(*) FROM jobs.jobs WHERE " + where));
  }

  ManualClock clock{test_epoch()};
  jobs::JobRegistry kinds;
  jobs::JobsConfig config = fast_config();
  std::unique_ptr<jobs::JobQueue> queue_;
  std::unique_ptr<jobs::Worker> worker;
};

// Records what handlers saw, from any thread.
struct Journal {
  std::mutex mutex;
  std::vector<int64_t> ids;
  void add(int64_t id) {
    std::lock_guard lock(mutex);
    ids.push_back(id);
  }
  size_t size() {
    std::lock_guard lock(mutex);
    return ids.size();
  }
};

}  // namespace huntaze::test::jobst
