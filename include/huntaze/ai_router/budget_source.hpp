// Where the router's budgets find a workspace's own monthly AI budget: the
// content module answers from the workspace's plan (billing). Without a
// source, or when it has no answer, ai.budgets.workspace_monthly_micros
// applies.
//
// Thread-safety: implementations are called from any coroutine, on every AI
// request: answer from memory where possible.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>

namespace huntaze::ai_router {

class BudgetSource {
 public:
  virtual ~BudgetSource() = default;
  // The workspace's budget in micro-dollars per UTC calendar month (0: no
  // AI at all; a very large number: no cap); nullopt: use the default.
  virtual boost::asio::awaitable<std::optional<int64_t>> monthly_budget_micros(const std::string& workspace) = 0;
};

}  // namespace huntaze::ai_router
