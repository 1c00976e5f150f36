// Per-workspace request and token rate limits for the model router (part of
// Budgets, budgets.hpp): the algorithms, once as a Redis Lua script shared by
// every instance and once in process for when Redis is down.
//
// RPM is a GCRA (generic cell rate algorithm): each request pushes a
// "theoretical arrival time" forward by 60 s / rpm, and a request is refused
// when that would put it more than a minute ahead of now. That allows a burst
// of `rpm` requests and then one every 60 s / rpm, with one number of state.
//
// TPM is a token bucket of `tpm` tokens refilled continuously over a minute.
// admit() takes the caller's estimate out of it (a request larger than the
// whole bucket is clamped to it, so that it can pass when the bucket is
// full); correct() later takes out the difference between the real count and
// the estimate, which may leave the bucket in debt (at most an hour's worth
// of tokens) until it refills.
//
// Time comes from the caller (Budgets' Clock, in microseconds), not from the
// Redis server, so that tests can move a ManualClock.
//
// Thread-safety: RedisRateLimiter is stateless apart from its references;
// LocalRateLimiter locks internally. Both are safe from any thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "huntaze/redis/redis.hpp"

namespace huntaze::ai_router {

struct RateLimits {
  int rpm = 0;  // 0 = unlimited
  int tpm = 0;  // 0 = unlimited
};

struct RateDecision {
  enum class Verdict { ok, rpm, tpm };
  Verdict verdict = Verdict::ok;
  std::chrono::milliseconds retry_after{0};  // > 0 unless ok
};

// Keys: huntaze:ai:rate:rpm:<workspace> and huntaze:ai:rate:tpm:<workspace>,
// expiring two minutes after their last use (by then they hold nothing a
// fresh key would not), or for a bucket in debt once it would be full again.
class RedisRateLimiter {
 public:
  RedisRateLimiter(redis::Redis& redis, RateLimits limits) : redis_(redis), limits_(limits) {}
  // One atomic script: both limits are checked and only consumed when both pass.
  // Throws RedisUnavailable / RedisError when Redis cannot answer.
  boost::asio::awaitable<RateDecision> admit(const std::string& workspace, int64_t now_us, int64_t tokens);
  // Takes `delta` more tokens out of the bucket (negative: gives them back).
  boost::asio::awaitable<void> correct(const std::string& workspace, int64_t now_us, int64_t delta);

 private:
  redis::Redis& redis_;
  RateLimits limits_;
};

// The same limits per process: what applies while Redis is down. Each
// instance then allows the full rate on its own, which is the price of not
// failing requests.
class LocalRateLimiter {
 public:
  explicit LocalRateLimiter(RateLimits limits) : limits_(limits) {}
  RateDecision admit(const std::string& workspace, int64_t now_us, int64_t tokens);
  void correct(const std::string& workspace, int64_t now_us, int64_t delta);

 private:
  struct State {
    double tat = 0;       // GCRA theoretical arrival time (µs); 0 = none yet
    double tokens = 0;    // bucket content (may be negative: debt after a correction)
    double ts = 0;        // when the bucket was last refilled (µs)
    bool bucket = false;  // the bucket was initialised
    int64_t last_use = 0;
  };
  void fill(State& s, double now) const;
  void prune(int64_t now_us);

  RateLimits limits_;
  std::mutex mutex_;
  std::unordered_map<std::string, State> states_;
  size_t prune_at_ = 4096;  // the size at which the next prune() scans
};

}  // namespace huntaze::ai_router
