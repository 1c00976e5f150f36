// The GCRA (generic cell rate algorithm) behind RateLimiter, twice: once as
// a Redis Lua script shared by every instance, once in process for when
// Redis cannot answer. Both do the same integer arithmetic on microseconds,
// so they decide alike (test/integration/auth_rate_limit_test.cpp checks it).
//
// Per key one number is kept: the theoretical arrival time (TAT). With the
// emission interval T = period / limit in whole µs (rounded up) and the
// burst tolerance B = limit * T (the period, or a hair over it), a request
// costing c is allowed when max(TAT, now) + c*T - now <= B, and then moves
// TAT there. That is a burst of exactly `limit`, then one every T: never
// more than the configured rate (rounding up makes it slower by under one
// part in T, nothing a client notices). A key lives until its TAT: after
// that it holds nothing a fresh key would not.
//
// Several keys are checked together, all or nothing: when one refuses, none
// is charged.
//
// Thread-safety: check_in_redis is stateless; LocalGcra locks internally.
// Both are safe from any thread.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "huntaze/redis/redis.hpp"

namespace huntaze::auth::gcra {

// One rule in microseconds.
struct Params {
  int64_t interval_us = 0;   // T = ceil(period / limit)
  int64_t tolerance_us = 0;  // B = limit * T
  int64_t limit = 0;
};
// Throws std::invalid_argument for a disabled rule or a non-positive period.
Params params_of(int64_t limit, int64_t period_ms);

// What a backend decided, before any reporting.
struct Outcome {
  int64_t now_us = 0;                 // the time it used
  bool allowed = false;               // every key passed, so every key was charged
  std::vector<int64_t> prior_tat_us;  // per key: max(stored TAT, now) before this request
  bool denied = false;                // a deny key exists (Redis only); nothing was charged
};

// The one comparison both backends make.
inline bool refuses(const Params& p, int64_t prior_tat_us, int64_t now_us, int64_t cost) {
  return prior_tat_us + cost * p.interval_us - now_us > p.tolerance_us;
}

// The script, with the server's TIME, or at `now_us` when given (tests drive
// both backends at the same chosen times). Throws RedisUnavailable when
// Redis cannot answer and RedisError on an error or unexpected reply.
// `keys` and `params` are parallel; 1 <= cost <= every limit. `deny_keys`:
// keys whose existence refuses the request without charging it (the
// session deny-list), looked up in the same script call.
boost::asio::awaitable<Outcome> check_in_redis(redis::Redis& redis, std::vector<std::string> keys,
                                               std::vector<Params> params, int64_t cost,
                                               std::optional<int64_t> now_us = std::nullopt,
                                               std::vector<std::string> deny_keys = {});

// The in-process store: sharded maps of key -> TAT, one mutex per shard.
// Memory is bounded: a shard that would exceed its share of `max_keys`
// first drops expired keys (TAT passed), then, if that is not enough, the
// live keys closest to expiring (what is needed and an eighth of the shard
// more, so that a full shard is not scanned for every new key). Those hold
// the least: dropping one forgives what is left of that subject's wait. New
// subjects are never refused for lack of room.
class LocalGcra {
 public:
  explicit LocalGcra(size_t max_keys = 100'000);
  Outcome check(const std::vector<std::string>& keys, const std::vector<Params>& params, int64_t cost, int64_t now_us);
  // The stored TAT (tests).
  std::optional<int64_t> tat(const std::string& key) const;
  size_t size() const;
  // Live (unexpired) keys dropped for room so far.
  uint64_t evictions() const noexcept { return evictions_.load(std::memory_order_relaxed); }

 private:
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, int64_t> tats;
  };
  static constexpr size_t kShards = 16;
  size_t shard_of(const std::string& key) const;
  void make_room(Shard& shard, size_t incoming, int64_t now_us);

  std::unique_ptr<Shard[]> shards_;
  size_t shard_cap_;
  std::atomic<uint64_t> evictions_{0};
};

}  // namespace huntaze::auth::gcra
