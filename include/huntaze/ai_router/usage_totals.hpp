// What the AI usage log (ai.usage) says a workspace spent: for budgets'
// reconciliation inside the router, and for billing in the content module.
// Read-only queries of the router's own table.
//
// Thread-safety: free functions; the database decides.
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
