// The model router's exact-match response cache: answers in Redis under
// cache_key() (per workspace), and single flight so that identical requests
// arriving together make one upstream call: in this process through
// SingleFlight, across instances through a short Redis lock.
//
//   auto key = cache_key(request, route);
//   if (auto hit = co_await cache.get(key)) co_return *hit;
//   std::function<asio::awaitable<Completion>()> produce = [&]() -> asio::awaitable<Completion> {
//     auto c = co_await call_upstream();
//     co_await cache.put(key, c, ttl);
//     co_return c;
//   };  // named, not written inside the co_await (GCC 12)
//   Flight flight = co_await cache.once(key, std::move(produce), remaining_deadline);
//
// The cache is an optimisation, never a dependency: when Redis is down, slow
// (redis.command_timeout) or answers an error, get() misses, put() does
// nothing and once() runs produce() itself; the trouble is counted in the
// metrics, not thrown. Cancellation (operation_aborted) is not swallowed.
//
// Stored value: a JSON object with every Completion field except those that
// describe one call (latency, time_to_first_token, attempts, cost_micros,
// cache_hit). get() returns them zero, with cache_hit = true.
//
// Metrics: huntaze_ai_cache_lookups_total{result=hit|miss|error},
// huntaze_ai_cache_stores_total{result=ok|skipped|error},
// huntaze_ai_single_flight_joined_total{scope=process|instances}.
//
// Thread-safety: every member is safe from any number of coroutines on any
// thread. The Redis client and the metrics registry must outlive the cache.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "ai_router/single_flight.hpp"
#include "huntaze/ai_router/router.hpp"
#include "huntaze/core/metrics.hpp"
#include "huntaze/redis/redis.hpp"

namespace huntaze::ai_router {

struct CacheConfig {
  bool enabled = true;
  std::chrono::milliseconds lock_ttl{15'000};  // the cross-instance single-flight lock
  std::chrono::milliseconds poll_every{50};    // how often a follower in another process looks for the answer
  size_t max_value_bytes = 1 << 20;            // larger answers are not cached
};

struct Flight {
  Completion completion;
  // false: the answer came from another caller's upstream call (in this
  // process: the leader's Completion as its produce() returned it, cost and
  // attempts included; from another instance: read from the cache).
  bool leader = true;
};

class ResponseCache {
 public:
  ResponseCache(redis::Redis& redis, metrics::Registry& metrics, CacheConfig config);
  ResponseCache(const ResponseCache&) = delete;
  ResponseCache& operator=(const ResponseCache&) = delete;

  // nullopt on a miss, when disabled, when Redis is unavailable, slow or
  // answers an error, or when the stored value cannot be read or is over
  // max_value_bytes (it is then deleted).
  boost::asio::awaitable<std::optional<Completion>> get(const std::string& key);

  // Stores `completion` for `ttl`. Never throws for Redis trouble. Skips
  // (counted as skipped) values over max_value_bytes and a ttl under 1 ms.
  boost::asio::awaitable<void> put(const std::string& key, const Completion& completion, std::chrono::seconds ttl);

  // Single flight for `key`:
  // - In this process the first caller runs produce() (in its own coroutine,
  //   so produce() may capture its locals by reference); callers arriving
  //   meanwhile wait and get Flight{its result, leader=false}, or its
  //   exception. They wait `wait` at most (their own deadline): then
  //   AiError(deadline), while the flight goes on for the others.
  // - Across instances (when enabled and Redis answers), the leader first
  //   takes `<key>:lock` (SET NX PX lock_ttl). If another instance holds it,
  //   it reads the cache every poll_every until the answer appears (returned
  //   with leader=false), the lock is free (it takes it) or `wait` has passed;
  //   then it runs produce() itself. The lock holder releases it after
  //   produce() (success or failure) with a compare-and-delete on its token.
  //   A produce() that outlives lock_ttl loses the lock: another instance may
  //   then call upstream too (harmless, only wasteful).
  // - produce() stores the answer (put()); once() never does.
  // - A cancelled caller stops waiting; the flight goes on for the others. A
  //   cancelled leader's followers start over and one of them leads.
  boost::asio::awaitable<Flight> once(const std::string& key,
                                      std::function<boost::asio::awaitable<Completion>()> produce,
                                      std::chrono::milliseconds wait);

 private:
  enum class Found { hit, miss, error };
  struct Lookup {
    Found found = Found::miss;
    std::optional<Completion> value;
  };
  // A read without the lookup metrics (followers polling use it too).
  boost::asio::awaitable<Lookup> read(const std::string& key);
  // SET NX PX: true when taken; `answered` false when Redis failed.
  boost::asio::awaitable<bool> try_lock(const std::string& lock_key, const std::string& token, bool& answered);
  boost::asio::awaitable<void> unlock(const std::string& lock_key, const std::string& token);
  // The leader's part: the cross-instance lock, waiting, then produce().
  boost::asio::awaitable<Flight> across_instances(const std::string& key,
                                                  const std::function<boost::asio::awaitable<Completion>()>& produce,
                                                  std::chrono::milliseconds wait);

  redis::Redis& redis_;
  CacheConfig config_;
  metrics::Counter& hits_;
  metrics::Counter& misses_;
  metrics::Counter& lookup_errors_;
  metrics::Counter& stored_;
  metrics::Counter& skipped_;
  metrics::Counter& store_errors_;
  metrics::Counter& joined_process_;
  metrics::Counter& joined_instances_;
  SingleFlight<Flight> flights_;
};

// The stored form (exposed for tests): JSON, without the per-call fields.
std::string encode_cached(const Completion& completion);
// nullopt when `text` is not a value encode_cached() wrote.
std::optional<Completion> decode_cached(std::string_view text);

}  // namespace huntaze::ai_router
