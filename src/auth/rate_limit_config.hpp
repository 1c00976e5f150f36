// The `auth.rate_limits:` section: one GCRA rule per thing the auth module
// limits. Each rule allows a burst of `limit` requests and then one every
// period / limit; `limit: 0` turns the rule off.
//
//   auth:
//     rate_limits:
//       user: {limit: 100, period: 1m}
//       login_account: {limit: 10, period: 15m}
//
// Thread-safety: plain values.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "huntaze/core/config.hpp"

namespace huntaze::auth {

struct RateRule {
  std::string name;   // bounded label for metrics and the Redis key: "user", "ip", "login_account", ...
  int64_t limit = 0;  // requests per period (also the burst); 0 = rule disabled
  std::chrono::milliseconds period{60000};

  bool enabled() const noexcept { return limit > 0; }
  bool operator==(const RateRule&) const = default;
};

// Bounds of a rule: the emission interval period / limit must stay at least a
// microsecond, and a day is the longest memory any rule needs.
inline constexpr int64_t kMaxRateLimit = 1'000'000;
inline constexpr std::chrono::milliseconds kMinRatePeriod{1000};
inline constexpr std::chrono::milliseconds kMaxRatePeriod{24 * 3600 * 1000};

struct RateLimitConfig {
  using minutes = std::chrono::minutes;
  using hours = std::chrono::hours;
  // The product's defaults: what an active person or script needs, with room.
  RateRule user{"user", 100, minutes(1)};  // per authenticated user
  RateRule ip{"ip", 1000, minutes(1)};     // per client address, every request
  // Online password guessing: ten tries, then one every 90 s (under a
  // thousand a day) for one account; fifty per address covers an office
  // behind one NAT while slowing credential stuffing across accounts.
  RateRule login_account{"login_account", 10, minutes(15)};
  RateRule login_ip{"login_ip", 50, minutes(15)};
  // Account creation spam from one address; a team signing up together fits.
  RateRule signup_ip{"signup_ip", 20, hours(1)};
  // Reset mails: a victim's mailbox cannot be flooded (five an hour), nor can
  // one address mail many accounts.
  RateRule reset_account{"reset_account", 5, hours(1)};
  RateRule reset_ip{"reset_ip", 20, hours(1)};

  bool operator==(const RateLimitConfig&) const = default;
};

// Reads `section` (auth.rate_limits): keys user, ip, login_account, login_ip,
// signup_ip, reset_account, reset_ip, each a mapping {limit, period}; absent
// keys keep their defaults. limit 0..1,000,000, period 1s..24h. Strict:
// unknown keys are errors (finish() is called on every mapping read).
RateLimitConfig parse_rate_limit_config(config::Node section);

}  // namespace huntaze::auth
