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

// Total cost_micros in [from, to) for a workspace ("" = platform rows,
// nullopt = everything): what budgets reconcile from. 0 when nothing matches.
// Throws std::invalid_argument when the workspace is neither "" nor a UUID.
boost::asio::awaitable<int64_t> spend_micros(db::Executor& db, std::optional<std::string> workspace, SysTime from,
                                             SysTime to);

struct SpendByWorkspace {
  std::vector<std::pair<std::string, int64_t>> workspaces;  // every workspace with rows in the range
  int64_t total = 0;                                        // all rows, the platform's own included
};

// Spend in [from, to) per workspace and in all, from one scan: what budgets
// reconcile from. The same sums as spend_micros() per workspace and for
// everything.
boost::asio::awaitable<SpendByWorkspace> spend_by_workspace(db::Executor& db, SysTime from, SysTime to);

}  // namespace huntaze::ai_router
