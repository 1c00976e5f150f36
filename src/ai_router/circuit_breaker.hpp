// A per-deployment circuit breaker: stop sending requests to a model
// deployment that keeps failing, let one probe through after a cool-down,
// and close again when the probe succeeds.
//
//   closed ──(N consecutive failures, or failure ratio over the window)──▶ open
//   open ──(cooldown elapsed)──▶ half_open ──(probe succeeds)──▶ closed
//                                          └─(probe fails)────▶ open
//
// Every allow() that returned true must be followed by exactly one of
// on_success(), on_failure() or on_abandoned() (a cancelled call says
// nothing about the deployment's health).
// Thread-safety: all members are safe to call from any thread.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string_view>

namespace huntaze::ai_router {

struct BreakerConfig {
  int consecutive_failures = 5;  // trips at once after this many in a row
  double failure_ratio = 0.5;    // ...or when this share of the window's calls failed
  int min_calls = 20;            // ...and the window saw at least this many calls
  std::chrono::milliseconds window{60'000};
  std::chrono::milliseconds cooldown{30'000};
  int half_open_probes = 1;  // calls let through at once while half-open

  bool operator==(const BreakerConfig&) const = default;
};

enum class BreakerState { closed, open, half_open };
std::string_view to_string(BreakerState state) noexcept;

class CircuitBreaker {
 public:
  using Clock = std::chrono::steady_clock;
  explicit CircuitBreaker(BreakerConfig config = {});

  // Whether a call may go to the deployment now.
  bool allow(Clock::time_point now);
  void on_success(Clock::time_point now);
  void on_failure(Clock::time_point now);
  void on_abandoned();

  BreakerState state(Clock::time_point now) const;

 private:
  // The window is kept as ten buckets so that old calls age out smoothly.
  static constexpr int kBuckets = 10;
  struct Bucket {
    int64_t epoch = -1;  // which slice of time this bucket counts
    int calls = 0;
    int failures = 0;
  };
  void record(Clock::time_point now, bool failed);
  void trip(Clock::time_point now);
  void close();
  int64_t bucket_epoch(Clock::time_point now) const;

  BreakerConfig config_;
  mutable std::mutex mutex_;
  BreakerState state_ = BreakerState::closed;
  Clock::time_point opened_at_{};
  int consecutive_ = 0;
  int probes_in_flight_ = 0;
  std::array<Bucket, kBuckets> buckets_{};
};

}  // namespace huntaze::ai_router
