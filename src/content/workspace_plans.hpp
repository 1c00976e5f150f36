// Each workspace's plan and status (content.workspace_plans, else the
// default plan, active), remembered in process for 30 seconds: the router
// asks for the AI budget on every call. A change made by the Stripe
// webhook in this process is seen at once (forget()); one made in another
// instance within 30 seconds.
//
// It is the router's BudgetSource (the plan's ai_budget_cents; 0 for a
// canceled workspace, which gets no AI) and media's PlanLimitSource.
//
// Thread-safety: safe from any coroutine.
#pragma once

#include <chrono>
#include <mutex>
#include <unordered_map>

#include "content/content_config.hpp"
#include "huntaze/ai_router/budget_source.hpp"
#include "huntaze/content/plans.hpp"
#include "huntaze/db/database.hpp"

namespace huntaze::content {

class WorkspacePlans final : public ai_router::BudgetSource, public PlanLimitSource {
 public:
  static constexpr std::chrono::seconds kRemember{30};

  WorkspacePlans(db::Database& db, const Clock& clock, const BillingConfig& config);

  boost::asio::awaitable<PlanLimits> limits(Uuid workspace) override;
  boost::asio::awaitable<std::optional<int64_t>> monthly_budget_micros(const std::string& workspace) override;
  void forget(Uuid workspace);
  // The plan as the database says now, bypassing what is remembered (billing).
  boost::asio::awaitable<PlanLimits> read(Uuid workspace);

 private:
  struct Remembered {
    PlanLimits limits;
    SysTime until;
  };
  struct UuidHash {
    size_t operator()(const Uuid& u) const noexcept;
  };

  db::Database& db_;
  const Clock& clock_;
  const BillingConfig& config_;
  std::mutex mutex_;
  std::unordered_map<Uuid, Remembered, UuidHash> cache_;
  uint64_t generation_ = 0;  // bumped by forget()
};

}  // namespace huntaze::content
