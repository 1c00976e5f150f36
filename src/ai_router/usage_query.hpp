// Reading the AI usage log (ai.usage, sql/0004_ai_usage.sql): daily
// per-task/model totals for reports, and spend for budget reconciliation.
//
// The workspace filter is the tenant boundary: a workspace's filter only
// ever matches its own rows; the platform's rows (workspace_id NULL) are
// asked for with "", and nullopt (everything) is for platform admins only —
// the caller decides who may pass it.
//
// Thread-safety: free functions; safe on any Executor the caller may use.
#pragma once

#include "huntaze/ai_router/usage_totals.hpp"

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "huntaze/core/clock.hpp"
#include "huntaze/db/database.hpp"

namespace huntaze::ai_router {

struct UsageFilter {
  std::optional<std::string> workspace;  // nullopt = all rows (platform admin); "" = platform rows (workspace_id IS NULL)
  SysTime from, to;                      // [from, to)
};

struct UsageRow {
  std::string day;  // YYYY-MM-DD (UTC)
  std::string task;
  std::string model;
  int64_t calls = 0, cache_hits = 0, input_tokens = 0, output_tokens = 0, cost_micros = 0, errors = 0;
};

// Grouped by UTC day, task and model, ordered by day, task, model. Rows whose
// outcome is neither ok nor cache_hit count in errors (and in calls);
// cache_hits counts rows stored with cache_hit set.
// Throws std::invalid_argument when the workspace is neither "" nor a UUID.
boost::asio::awaitable<std::vector<UsageRow>> query_usage(db::Executor& db, const UsageFilter& filter);

}  // namespace huntaze::ai_router
