// Monthly partitions of ai.usage (sql/0004_ai_usage.sql): created ahead of
// time, dropped past retention.
//
// Partitions are named ai.usage_YYYYMM (db::MonthlyPartitions, which also
// explains how names and bounds stay out of reach of input).
//
// Thread-safety: free functions; concurrent callers (several instances, the
// job and a writer) serialize on a transaction-scoped advisory lock.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <utility>
#include <vector>

#include "huntaze/core/clock.hpp"
#include "huntaze/db/database.hpp"
#include "huntaze/jobs/registry.hpp"

namespace huntaze::ai_router {

struct UsageLogConfig;

// Creates the partitions for the month of `now` and the next two if missing;
// drops partitions whose upper bound is older than now - retention.
// Idempotent. Returns {created, dropped}.
boost::asio::awaitable<std::pair<int, int>> maintain_usage_partitions(db::Database& db, SysTime now,
                                                                      std::chrono::hours retention);

// Creates the partitions for these months (any day of the month will do) if
// missing; nothing is dropped. What the usage log calls when an insert found
// no partition. Returns how many were created.
boost::asio::awaitable<int> ensure_usage_partitions(db::Database& db,
                                                    const std::vector<std::chrono::year_month>& months);

// The month `t` falls in (UTC).
std::chrono::year_month usage_month(SysTime t);
// True when the partition holding `month` would be dropped at `now` under
// `retention` (its upper bound is older than now - retention).
bool usage_month_expired(std::chrono::year_month month, SysTime now, std::chrono::hours retention);

inline constexpr const char* kUsagePartitionsKind = "ai.usage_partitions";

// Registers the job kinds (queue "default") that run maintain_usage_partitions
// with clock.now() and config.retention, and prune_prompt_samples
// (kPromptSamplesPruneKind) with config.sample_retention. db and clock must outlive the
// registry's use. Scheduling it (daily is plenty: two months are always
// ahead) is the caller's business.
void register_usage_jobs(jobs::JobRegistry& registry, db::Database& db, const Clock& clock,
                         const UsageLogConfig& config);

}  // namespace huntaze::ai_router
