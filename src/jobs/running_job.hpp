// One claimed job while its handler runs: the JobContext the handler sees,
// plus the cancellation plumbing the worker uses.
//
// Cancellation may be requested from any thread (timeout timer, operator
// notification, shutdown); the first reason wins and the signal is emitted
// on the job's own strand, where the handler coroutine runs.
#pragma once

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <atomic>
#include <chrono>
#include <memory>

#include "huntaze/core/clock.hpp"
#include "huntaze/core/uuid.hpp"
#include "huntaze/db/database.hpp"
#include "huntaze/jobs/job.hpp"
#include "huntaze/jobs/job_context.hpp"

namespace huntaze::jobs {

namespace asio = boost::asio;

// A row as the claim statement returns it.
struct ClaimedJob {
  int64_t id = 0;
  std::string queue;
  std::string kind;
  std::string payload;
  int attempt = 0;
  int max_attempts = 0;
  SysTime run_at;
  std::chrono::milliseconds timeout{0};
  int priority = 0;
  int64_t lease = 0;  // the claim's fencing token (sql/0003_jobs_lease.sql)
};

enum class CancelReason { none = 0, timeout = 1, shutdown = 2, operator_request = 3 };

class RunningJob final : public JobContext, public std::enable_shared_from_this<RunningJob> {
 public:
  RunningJob(ClaimedJob claimed, asio::any_io_executor io, db::Database& db, const Clock& clock, Uuid worker_id);

  int64_t id() const override { return claimed_.id; }
  const std::string& kind() const override { return claimed_.kind; }
  const std::string& queue() const override { return claimed_.queue; }
  int attempt() const override { return claimed_.attempt; }
  int max_attempts() const override { return claimed_.max_attempts; }
  const boost::json::value& payload() const override { return payload_; }
  SysTime deadline() const override { return deadline_; }
  bool cancelled() const override { return reason_.load() != 0; }
  asio::awaitable<void> heartbeat() override;

  // Thread-safe; the first reason is kept.
  void cancel(CancelReason reason);
  CancelReason reason() const { return static_cast<CancelReason>(reason_.load()); }
  // Arms the per-attempt timeout. Call once, on the job's strand: the worker
  // posts it there right after spawning the handler, so the handler may
  // already have run up to its first suspension (the timer counts from here,
  // deadline() from construction); the disarm, posted once the handler
  // returned, always comes after it on the strand.
  void arm_timeout();
  // Thread-safe: stops the timeout timer once the handler returned.
  void disarm_timeout();

  const ClaimedJob& claimed() const { return claimed_; }
  asio::strand<asio::any_io_executor>& strand() { return strand_; }
  asio::cancellation_slot slot() { return signal_.slot(); }
  std::chrono::steady_clock::time_point started() const { return started_; }

 private:
  ClaimedJob claimed_;
  boost::json::value payload_;
  asio::strand<asio::any_io_executor> strand_;
  asio::cancellation_signal signal_;
  asio::steady_timer timeout_timer_;
  std::atomic<int> reason_{0};
  db::Database& db_;
  const Clock& clock_;
  Uuid worker_id_;
  SysTime deadline_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point last_beat_{};
};

}  // namespace huntaze::jobs
