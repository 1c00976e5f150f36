// What a job handler sees of the job it runs.
//
//   registry.add("media.process", [&](jobs::JobContext& job) -> asio::awaitable<void> {
//     auto id = job.payload().at("media_id").as_string();
//     auto grid = co_await compute.run([&] { return build_grid(id); });  // CPU work off the I/O threads
//     co_await job.heartbeat();   // long jobs: a cancellation point and a sign of life
//     ...
//   });
//
// A handler that returns completes the job; one that throws fails the
// attempt (retried with backoff, dead-lettered after max_attempts). Throw
// RetryAt or DiscardJob (job.hpp) to choose yourself.
//
// Cancellation: when the attempt's timeout passes, the process shuts down, or
// an operator cancels the job, the handler's coroutine receives Asio's
// cancellation signal (pending timers, queries and Redis calls end with
// operation_aborted) and cancelled() turns true for CPU loops to check.
//
// Thread-safety: the context belongs to the handler's coroutine; it lives
// until the handler returns.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <string>

#include "huntaze/core/clock.hpp"

namespace huntaze::jobs {

class JobContext {
 public:
  virtual ~JobContext() = default;

  virtual int64_t id() const = 0;
  virtual const std::string& kind() const = 0;
  virtual const std::string& queue() const = 0;
  // 1 on the first run.
  virtual int attempt() const = 0;
  virtual int max_attempts() const = 0;
  // The parsed payload (a JSON object).
  virtual const boost::json::value& payload() const = 0;
  // When the attempt's timeout expires.
  virtual SysTime deadline() const = 0;

  virtual bool cancelled() const = 0;
  // Throws JobCancelled when cancelled; otherwise records a sign of life on
  // the job row (at most every few seconds) so operators can see progress.
  virtual boost::asio::awaitable<void> heartbeat() = 0;
};

}  // namespace huntaze::jobs
