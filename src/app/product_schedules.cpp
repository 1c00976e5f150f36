#include "app/product_schedules.hpp"

#include "huntaze/core/log.hpp"
#include "ai_router/budgets.hpp"
#include "ai_router/prompt_samples.hpp"
#include "ai_router/usage_partitions.hpp"
#include "auth/maintenance.hpp"
#include "jobs/maintenance.hpp"

namespace huntaze::app {

namespace {

struct ProductSchedule {
  const char* name;  // also the job kind
  const char* spec;
  const char* owner;
};

// The platform's schedules and those of modules without a register_schedules
// of their own; the content module adds its own (ContentModule). Kinds whose
// module does not exist yet (insights.daily: analytics; events.dispatch:
// outbound event delivery) get a placeholder handler.
constexpr ProductSchedule kSchedules[] = {
    {"insights.daily", "@daily", "analytics"},
    {"events.dispatch", "*/5 * * * *", "events"}, {jobs::kPruneKind, "*/10 * * * *", "jobs"},
    {ai_router::kUsagePartitionsKind, "17 3 * * *", "ai_router"},
    {ai_router::kPromptSamplesPruneKind, "27 3 * * *", "ai_router"},
    {ai_router::kBudgetReconcileKind, "7 * * * *", "ai_router"},
    {auth::kPruneKind, "37 3 * * *", "auth"},
};

}  // namespace

void register_product_schedules(cron::Cron& cron, jobs::JobRegistry& registry) {
  for (const auto& s : kSchedules) {
    if (!registry.find(s.name)) {
      std::string kind = s.name, owner = s.owner;
      registry.add(kind, [kind, owner](jobs::JobContext&) -> boost::asio::awaitable<void> {
        log::debug("scheduled job has no handler yet", {{"kind", kind}, {"owner", owner}});
        co_return;
      });
    }
    cron.add(cron::Schedule{.name = s.name, .spec = s.spec, .timezone = "UTC", .kind = s.name});
  }
}

}  // namespace huntaze::app
