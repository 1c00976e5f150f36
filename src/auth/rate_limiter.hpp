// The auth module's rate limiter: GCRA rules (rate_limit_config.hpp) kept in
// Redis, so that every instance shares them, by one atomic Lua script per
// check (rate_limit_gcra.hpp). When Redis cannot answer, the same arithmetic
// runs in process: each instance then enforces the limits on its own (a
// client spread over N instances gets up to N times the rate) rather than
// letting every request through; login stays limited through an outage.
//
//   std::vector<RateKey> keys{{&config.login_account, email}, {&config.login_ip, ip_subject(addr)}};
//   RateDecision d = co_await limiter.check(std::move(keys));   // name the list first (GCC 12)
//   if (!d.allowed) throw too_many_requests(d);                  // rate_limit_http.hpp
//
// Redis keys: <prefix><rule name>:<first 128 bits of SHA-256(subject), hex>,
// so that addresses and emails are not stored in the clear; each expires
// when its rule would have forgotten it.
//
// Metrics:
//   huntaze_rate_limit_decisions_total{rule,outcome="allowed|limited",backend="redis|local"}
//     one per rule checked; a refused check counts only the rules that refused
//   huntaze_rate_limit_fallback_total{reason="unavailable|error"}  checks decided in process
//   huntaze_rate_limit_degraded  1 while the last check fell back, else 0
//   huntaze_rate_limit_local_evictions_total  live in-process keys dropped for room
// An outage is logged once when it starts and once when Redis answers again.
//
// Thread-safety: safe to call from any number of coroutines on any thread.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "auth/rate_limit_config.hpp"
#include "auth/rate_limit_gcra.hpp"
#include "huntaze/core/clock.hpp"
#include "huntaze/core/metrics.hpp"
#include "huntaze/redis/redis.hpp"

namespace huntaze::auth {

namespace asio = boost::asio;

struct RateDecision {
  bool allowed = true;
  int64_t limit = 0;                         // of the most restrictive rule checked (0: none was)
  int64_t remaining = 0;                     // requests of cost 1 that rule would still allow now
  std::chrono::milliseconds reset{0};        // until that rule's bucket is full again
  std::chrono::milliseconds retry_after{0};  // 0 when allowed; else until every refusing rule would pass
  bool local = false;                        // decided by the in-process fallback
  bool denied = false;                       // a deny key existed (never when local)
};

struct RateKey {
  const RateRule* rule;  // must outlive the check
  std::string subject;   // e.g. user id, ip_subject(address), lower-cased email
};

// From a backend's outcome to the decision reported to the client. The most
// restrictive rule is, for a refusal, the refusing one with the longest wait;
// otherwise the one with the fewest remaining requests (then the longest
// reset). `limited`, when given, receives per key whether it refused.
RateDecision summarize(const std::vector<gcra::Params>& params, const gcra::Outcome& outcome, int64_t cost,
                       std::vector<bool>* limited = nullptr);

class RateLimiter {
 public:
  RateLimiter(redis::Redis& redis, const Clock& clock, metrics::Registry& metrics,
              std::string key_prefix = "rl:", size_t local_max_keys = 100'000);

  // Checks every key in ONE script call; all-or-nothing: when one key
  // refuses, none is charged. Disabled rules (limit 0) are skipped; with none
  // left the answer is allowed with limit 0. Never throws RedisUnavailable:
  // falls back locally. Throws std::invalid_argument for a null rule, a cost
  // below 1, or a cost above an enabled rule's limit (it could never pass).
  //
  // `deny_keys` (the session deny-list) ride along in the same script call:
  // when one exists the answer is `denied` and nothing is charged. The
  // in-process fallback cannot see them: a `local` answer says nothing about
  // them, and the caller must check another way.
  asio::awaitable<RateDecision> check(std::vector<RateKey> keys, int64_t cost = 1,
                                      std::vector<std::string> deny_keys = {});

  // The Redis key that holds `subject`'s state under `rule`.
  std::string redis_key(const RateRule& rule, const std::string& subject) const;

  // The in-process fallback's store (tests).
  const gcra::LocalGcra& local() const noexcept { return local_; }

 private:
  void fell_back(const char* reason, const std::string& error);
  void answered();

  redis::Redis& redis_;
  const Clock& clock_;
  std::string prefix_;
  gcra::LocalGcra local_;
  metrics::Family<metrics::Counter>& decisions_;
  metrics::Family<metrics::Counter>& fallbacks_;
  metrics::Gauge& degraded_gauge_;
  metrics::Counter& evictions_;
  std::atomic<bool> degraded_{false};
  std::atomic<uint64_t> evictions_seen_{0};
};

}  // namespace huntaze::auth
