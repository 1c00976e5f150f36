#include "ai_router/circuit_breaker.hpp"

#include <algorithm>

namespace huntaze::ai_router {

std::string_view to_string(BreakerState state) noexcept {
  switch (state) {
    case BreakerState::closed:
      return "closed";
    case BreakerState::open:
      return "open";
    case BreakerState::half_open:
      return "half_open";
  }
  return "unknown";
}

CircuitBreaker::CircuitBreaker(BreakerConfig config) : config_(config) {
  config_.consecutive_failures = std::max(1, config_.consecutive_failures);
  config_.half_open_probes = std::max(1, config_.half_open_probes);
  config_.window = std::max(config_.window, std::chrono::milliseconds(kBuckets));
}

int64_t CircuitBreaker::bucket_epoch(Clock::time_point now) const {
  const auto slice = config_.window / kBuckets;
  return std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) / slice;
}

bool CircuitBreaker::allow(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (state_ == BreakerState::open) {
    if (now - opened_at_ < config_.cooldown) return false;
    state_ = BreakerState::half_open;
    probes_in_flight_ = 0;
  }
  if (state_ == BreakerState::half_open) {
    if (probes_in_flight_ >= config_.half_open_probes) return false;
    ++probes_in_flight_;
  }
  return true;
}

void CircuitBreaker::on_success(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (state_ == BreakerState::half_open) {
    close();
    return;
  }
  consecutive_ = 0;
  record(now, false);
}

void CircuitBreaker::on_failure(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (state_ == BreakerState::half_open) {
    trip(now);  // the probe failed: another full cool-down
    return;
  }
  if (state_ == BreakerState::open) return;  // a call that started before the trip
  ++consecutive_;
  record(now, true);
  if (consecutive_ >= config_.consecutive_failures) {
    trip(now);
    return;
  }
  int calls = 0, failures = 0;
  const int64_t current = bucket_epoch(now);
  for (const auto& b : buckets_) {
    if (b.epoch > current - kBuckets) {
      calls += b.calls;
      failures += b.failures;
    }
  }
  if (calls >= config_.min_calls && failures >= config_.failure_ratio * calls) trip(now);
}

void CircuitBreaker::on_abandoned() {
  std::lock_guard lock(mutex_);
  if (state_ == BreakerState::half_open && probes_in_flight_ > 0) --probes_in_flight_;
}

BreakerState CircuitBreaker::state(Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  if (state_ == BreakerState::open && now - opened_at_ >= config_.cooldown) return BreakerState::half_open;
  return state_;
}

void CircuitBreaker::record(Clock::time_point now, bool failed) {
  const int64_t epoch = bucket_epoch(now);
  auto& b = buckets_[static_cast<size_t>(epoch % kBuckets)];
  if (b.epoch != epoch) b = Bucket{epoch, 0, 0};
  ++b.calls;
  if (failed) ++b.failures;
}

void CircuitBreaker::trip(Clock::time_point now) {
  state_ = BreakerState::open;
  opened_at_ = now;
  probes_in_flight_ = 0;
}

void CircuitBreaker::close() {
  state_ = BreakerState::closed;
  consecutive_ = 0;
  probes_in_flight_ = 0;
  buckets_.fill(Bucket{});
}

}  // namespace huntaze::ai_router
