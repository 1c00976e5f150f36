// Retry delays: exponential backoff with jitter.
#pragma once

#include <chrono>

#include "huntaze/jobs/job.hpp"

namespace huntaze::jobs {

// The delay before the attempt after `failed_attempt` (1-based):
// min(backoff_max, backoff_base * 2^(failed_attempt-1)) scaled by
// (1 + jitter * (2 * unit_random - 1)), where unit_random is in [0, 1).
// Never negative, never above backoff_max * (1 + jitter).
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int failed_attempt, double unit_random);

}  // namespace huntaze::jobs
