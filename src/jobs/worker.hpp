// The worker: claims ready jobs of this process's queues and runs their
// handlers as coroutines on the I/O context, with per-queue concurrency.
//
//   Worker worker(ex, db, registry, clock, compute, metrics, config);
//   co_await worker.start();          // heartbeat row, LISTEN, claim loops
//   ...
//   co_await worker.stop(grace);      // finish in-flight jobs, hand back the rest
//
// One process = one Worker = one row in jobs.workers, beating every
// jobs.heartbeat_interval. Any worker rescues the running jobs of a process
// that stopped beating for jobs.rescue_after.
//
// Thread-safety: start/stop from one coroutine; wake() from anywhere.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>

#include "huntaze/core/clock.hpp"
#include "huntaze/core/compute.hpp"
#include "huntaze/core/metrics.hpp"
#include "huntaze/core/uuid.hpp"
#include "huntaze/db/database.hpp"
#include "huntaze/jobs/config.hpp"
#include "huntaze/jobs/registry.hpp"

namespace huntaze::jobs {

class Worker {
 public:
  // Everything passed by reference must outlive the worker.
  Worker(boost::asio::any_io_executor executor, db::Database& db, const JobRegistry& registry, const Clock& clock,
         metrics::Registry& metrics, JobsConfig config);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Writes the heartbeat row, then starts the background loops (listener,
  // claim loop per queue, completer, heartbeat, rescuer, depth sampler).
  boost::asio::awaitable<void> start();
  // Stops claiming; running jobs get `grace` to finish, then are cancelled.
  // Unstarted and cancelled jobs are handed back (available again, attempt
  // not counted); finished ones are written; the heartbeat row is removed.
  boost::asio::awaitable<void> stop(std::chrono::milliseconds grace);

  // Looks for work now instead of at the next notification or poll.
  void wake();
  // One rescue pass: running jobs of processes silent for rescue_after go
  // back to retryable (discarded when out of attempts). Returns how many.
  boost::asio::awaitable<int> rescue();

  const Uuid& id() const;
  // Jobs currently running in this process.
  int running() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace huntaze::jobs
