#include "jobs/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace huntaze::jobs {

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int failed_attempt, double unit_random) {
  const double base = static_cast<double>(policy.backoff_base.count());
  const double cap = static_cast<double>(policy.backoff_max.count());
  // 2^62 overflows nothing as a double; the cap applies before the cast.
  const int exponent = std::clamp(failed_attempt - 1, 0, 62);
  const double raw = std::min(cap, base * std::ldexp(1.0, exponent));
  const double factor = 1.0 + policy.jitter * (2.0 * std::clamp(unit_random, 0.0, 1.0) - 1.0);
  return std::chrono::milliseconds(static_cast<int64_t>(std::max(0.0, raw * factor)));
}

}  // namespace huntaze::jobs
