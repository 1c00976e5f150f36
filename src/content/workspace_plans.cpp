#include "content/workspace_plans.hpp"

#include <cstring>

#include "content/money.hpp"

namespace huntaze::content {

namespace asio = boost::asio;

namespace {

constexpr size_t kMaxRemembered = 100'000;

}  // namespace

size_t WorkspacePlans::UuidHash::operator()(const Uuid& u) const noexcept {
  uint64_t a = 0, b = 0;
  std::memcpy(&a, u.bytes.data(), 8);
  std::memcpy(&b, u.bytes.data() + 8, 8);
  return static_cast<size_t>(a ^ (b * 0x9e3779b97f4a7c15ull));
}

WorkspacePlans::WorkspacePlans(db::Database& db, const Clock& clock, const BillingConfig& config)
    : db_(db), clock_(clock), config_(config) {}

void WorkspacePlans::forget(Uuid workspace) {
  std::lock_guard lock(mutex_);
  cache_.erase(workspace);
  ++generation_;
}

asio::awaitable<PlanLimits> WorkspacePlans::read(Uuid workspace) {
  auto rows = co_await db_.query("SELECT plan, status FROM content.workspace_plans WHERE creator_id = $1", workspace);
  const std::string name = rows.empty() ? config_.default_plan : rows.front().get<std::string>(0);
  const Plan& plan = config_.plan(name);
  co_return PlanLimits{.plan = plan.name,
                       .status = rows.empty() ? "active" : rows.front().get<std::string>(1),
                       .storage_bytes = plan.storage_bytes,
                       .videos_per_month = plan.videos_per_month};
}

asio::awaitable<PlanLimits> WorkspacePlans::limits(Uuid workspace) {
  const SysTime now = clock_.now();
  uint64_t generation = 0;
  {
    std::lock_guard lock(mutex_);
    auto it = cache_.find(workspace);
    if (it != cache_.end() && it->second.until > now) co_return it->second.limits;
    generation = generation_;
  }
  const PlanLimits limits = co_await read(workspace);
  std::lock_guard lock(mutex_);
  // A forget() while the row was read may have come after a change this
  // read did not see: then the answer is used once, not remembered.
  if (generation != generation_) co_return limits;
  if (cache_.size() >= kMaxRemembered) cache_.clear();  // bounded; refilled on demand
  cache_[workspace] = Remembered{limits, now + std::chrono::duration_cast<std::chrono::microseconds>(kRemember)};
  co_return limits;
}

asio::awaitable<std::optional<int64_t>> WorkspacePlans::monthly_budget_micros(const std::string& workspace) {
  const auto id = Uuid::parse(workspace);
  if (!id) co_return std::nullopt;
  const PlanLimits limits = co_await this->limits(*id);
  if (!limits.usable()) co_return int64_t{0};
  const Plan& plan = config_.plan(limits.plan);
  if (plan.ai_budget_cents <= 0) co_return std::nullopt;
  co_return plan.ai_budget_cents * kMicrosPerCent;
}

}  // namespace huntaze::content
