// Value types of the job queue: what a job is, how it is retried, and the
// exceptions a handler throws to steer its own retries.
// Thread-safety: value types.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "huntaze/core/clock.hpp"

namespace huntaze::jobs {

enum class JobState { available, scheduled, running, retryable, completed, cancelled, discarded };

std::string_view to_string(JobState state) noexcept;
std::optional<JobState> parse_job_state(std::string_view text) noexcept;

// A job to enqueue. Only kind is required; everything else falls back to the
// kind's registration (queue, retry policy) or to "now".
struct NewJob {
  std::string kind;
  std::string payload = "{}";  // a JSON object, stored as jsonb
  std::string queue;           // empty: the queue the kind was registered with
  int priority = 0;            // 0..32767, lower runs first
  std::optional<SysTime> run_at;  // absent or past: ready now
  int max_attempts = 0;           // 0: the kind's policy
  std::chrono::milliseconds timeout{0};  // 0: the kind's policy
  // Deduplicates among live jobs (available, scheduled, running, retryable):
  // enqueueing a second live job with the same key returns the first one.
  std::optional<std::string> unique_key;
};

struct EnqueueResult {
  int64_t id = 0;
  // False when unique_key matched a live job; id is then that job's.
  bool inserted = true;
};

// How a kind is retried. Backoff for attempt n (1-based, the attempt that
// failed) is min(backoff_max, backoff_base * 2^(n-1)), then scaled by a
// random factor in [1 - jitter, 1 + jitter].
struct RetryPolicy {
  int max_attempts = 20;
  std::chrono::milliseconds backoff_base{1000};
  std::chrono::milliseconds backoff_max{std::chrono::hours(1)};
  double jitter = 0.2;
  // Per-attempt time limit: the handler is cancelled when it runs longer.
  std::chrono::milliseconds timeout{std::chrono::minutes(15)};
};

// Thrown by a handler: fail this attempt and run the next one at `when`
// (still bounded by max_attempts).
class RetryAt : public std::runtime_error {
 public:
  RetryAt(SysTime when, std::string reason) : std::runtime_error(std::move(reason)), when_(when) {}
  SysTime when() const noexcept { return when_; }

 private:
  SysTime when_;
};

// Thrown by a handler: the job can never succeed; move it to the dead
// letters now, whatever attempts remain.
class DiscardJob : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown by JobContext::heartbeat() once the job was cancelled (timeout,
// shutdown, or an operator cancelling it).
class JobCancelled : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace huntaze::jobs
