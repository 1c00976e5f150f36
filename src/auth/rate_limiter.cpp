#include "auth/rate_limiter.hpp"

#include <algorithm>
#include <stdexcept>

#include "huntaze/core/digest.hpp"
#include "huntaze/core/log.hpp"

namespace huntaze::auth {

namespace {

std::chrono::milliseconds ceil_ms(int64_t us) {
  return std::chrono::milliseconds(us <= 0 ? 0 : (us + 999) / 1000);
}

}  // namespace

RateDecision summarize(const std::vector<gcra::Params>& params, const gcra::Outcome& outcome, int64_t cost,
                       std::vector<bool>* limited) {
  RateDecision d;
  d.allowed = outcome.allowed;
  if (limited) limited->assign(params.size(), false);
  if (params.empty()) return d;
  const int64_t now = outcome.now_us;
  size_t chosen = params.size();
  int64_t best_retry = -1, best_remaining = 0, best_reset = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    const gcra::Params& p = params[i];
    const int64_t prior = outcome.prior_tat_us[i];
    const bool refuses = gcra::refuses(p, prior, now, cost);
    if (limited) (*limited)[i] = !outcome.allowed && refuses;
    const int64_t tat = outcome.allowed ? prior + cost * p.interval_us : prior;
    const int64_t reset = std::max<int64_t>(0, tat - now);
    const int64_t remaining = std::clamp<int64_t>((p.tolerance_us - reset) / p.interval_us, 0, p.limit);
    if (!outcome.allowed) {
      if (!refuses) continue;
      const int64_t retry = prior + cost * p.interval_us - now - p.tolerance_us;
      if (retry > best_retry) {
        chosen = i;
        best_retry = retry;
        best_remaining = remaining;
        best_reset = reset;
      }
    } else if (chosen == params.size() || remaining < best_remaining ||
               (remaining == best_remaining && reset > best_reset)) {
      chosen = i;
      best_remaining = remaining;
      best_reset = reset;
    }
  }
  if (chosen == params.size()) {
    // Refused by the backend although no key refuses here: cannot happen
    // while both do the same arithmetic; report the first rule, retry soon.
    chosen = 0;
    best_retry = 1;
    best_remaining = 0;
    best_reset = std::max<int64_t>(0, outcome.prior_tat_us[0] - now);
  }
  d.limit = params[chosen].limit;
  d.remaining = best_remaining;
  d.reset = ceil_ms(best_reset);
  if (!outcome.allowed) d.retry_after = std::max(std::chrono::milliseconds(1), ceil_ms(best_retry));
  return d;
}

RateLimiter::RateLimiter(redis::Redis& redis, const Clock& clock, metrics::Registry& metrics, std::string key_prefix,
                         size_t local_max_keys)
    : redis_(redis),
      clock_(clock),
      prefix_(std::move(key_prefix)),
      local_(local_max_keys),
      decisions_(metrics.counter("huntaze_rate_limit_decisions_total", "Rate limit decisions per rule checked",
                                 {"rule", "outcome", "backend"})),
      fallbacks_(metrics.counter("huntaze_rate_limit_fallback_total",
                                 "Rate limit checks decided in process because Redis could not answer", {"reason"})),
      degraded_gauge_(metrics
                          .gauge("huntaze_rate_limit_degraded",
                                 "1 while rate limits are enforced per process because Redis cannot answer")
                          .with({})),
      evictions_(metrics
                     .counter("huntaze_rate_limit_local_evictions_total",
                              "Live in-process rate limit keys dropped to stay within the key cap")
                     .with({})) {}

std::string RateLimiter::redis_key(const RateRule& rule, const std::string& subject) const {
  // The first 128 bits of the digest: 32 hex digits.
  return prefix_ + rule.name + ":" + hex_digest(DigestKind::sha256, subject).substr(0, 32);
}

// Counted every time, logged once per outage: during one, every request
// would otherwise log it.
void RateLimiter::fell_back(const char* reason, const std::string& error) {
  fallbacks_.with({reason}).inc();
  if (!degraded_.exchange(true)) {
    degraded_gauge_.set(1);
    log::warn("rate limits: Redis cannot answer, enforcing them per process",
              {{"module", "auth"}, {"reason", reason}, {"error", error}});
  }
}

void RateLimiter::answered() {
  if (degraded_.load(std::memory_order_relaxed) && degraded_.exchange(false)) {
    degraded_gauge_.set(0);
    log::info("rate limits: Redis answers again", {{"module", "auth"}});
  }
}

asio::awaitable<RateDecision> RateLimiter::check(std::vector<RateKey> keys, int64_t cost,
                                                std::vector<std::string> deny_keys) {
  if (cost < 1) throw std::invalid_argument("rate limit: the cost must be at least 1");
  std::vector<const RateRule*> rules;
  std::vector<std::string> storage;
  std::vector<gcra::Params> params;
  for (const RateKey& k : keys) {
    if (k.rule == nullptr) throw std::invalid_argument("rate limit: a key without a rule");
    if (!k.rule->enabled()) continue;
    if (cost > k.rule->limit)
      throw std::invalid_argument("rate limit: a cost above rule " + k.rule->name + "'s limit can never pass");
    rules.push_back(k.rule);
    storage.push_back(redis_key(*k.rule, k.subject));
    params.push_back(gcra::params_of(k.rule->limit, k.rule->period.count()));
  }
  if (rules.empty() && deny_keys.empty()) co_return RateDecision{};

  gcra::Outcome outcome;
  const char* reason = nullptr;
  std::string error;
  try {
    outcome = co_await gcra::check_in_redis(redis_, storage, params, cost, std::nullopt, std::move(deny_keys));
  } catch (const redis::RedisUnavailable& e) {
    reason = "unavailable";
    error = e.what();
  } catch (const redis::RedisError& e) {
    reason = "error";
    error = e.what();
  }
  const bool local = reason != nullptr;
  if (local) {
    fell_back(reason, error);
    if (!rules.empty()) outcome = local_.check(storage, params, cost, clock_.now().time_since_epoch().count());
    // Publishes the store's count; the compare-exchange keeps concurrent
    // checks from counting one eviction twice.
    const uint64_t total = local_.evictions();
    uint64_t seen = evictions_seen_.load();
    while (total > seen && !evictions_seen_.compare_exchange_weak(seen, total)) {
    }
    if (total > seen) evictions_.inc(static_cast<double>(total - seen));
  } else {
    answered();
    if (outcome.denied) {
      RateDecision denied;
      denied.denied = true;
      co_return denied;
    }
  }
  if (rules.empty()) {
    RateDecision none;
    none.local = local;
    co_return none;
  }

  std::vector<bool> limited;
  RateDecision decision = summarize(params, outcome, cost, &limited);
  decision.local = local;
  const std::string_view backend = local ? "local" : "redis";
  for (size_t i = 0; i < rules.size(); ++i) {
    if (decision.allowed)
      decisions_.with({rules[i]->name, "allowed", backend}).inc();
    else if (limited[i])
      decisions_.with({rules[i]->name, "limited", backend}).inc();
  }
  co_return decision;
}

}  // namespace huntaze::auth
