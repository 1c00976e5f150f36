#include "ai_router/usage_partitions.hpp"

#include "ai_router/prompt_samples.hpp"
#include "ai_router/usage_log.hpp"
#include "huntaze/core/time_format.hpp"
#include "huntaze/db/monthly_partitions.hpp"

namespace huntaze::ai_router {

namespace asio = boost::asio;
using std::chrono::year_month;

namespace {

db::MonthlyPartitions partitions(db::Database& db) { return db::MonthlyPartitions(db, {.schema = "ai", .table = "usage"}); }

}  // namespace

year_month usage_month(SysTime t) { return utc_month(t); }

namespace {

SysTime retire_before(SysTime now, std::chrono::hours retention) {
  return now - std::chrono::duration_cast<std::chrono::microseconds>(retention);
}

}  // namespace

bool usage_month_expired(year_month month, SysTime now, std::chrono::hours retention) {
  return db::retired(month, retire_before(now, retention));
}

asio::awaitable<std::pair<int, int>> maintain_usage_partitions(db::Database& db, SysTime now,
                                                               std::chrono::hours retention) {
  const db::PartitionPass pass{.now = now, .months_ahead = 2, .retire_before = retire_before(now, retention)};
  auto table = partitions(db);
  auto result = co_await table.maintain(pass);
  co_return std::pair<int, int>(result.created, result.retired);
}

asio::awaitable<int> ensure_usage_partitions(db::Database& db, const std::vector<year_month>& months) {
  auto table = partitions(db);
  co_return co_await table.ensure(months);
}

void register_usage_jobs(jobs::JobRegistry& registry, db::Database& db, const Clock& clock,
                         const UsageLogConfig& config) {
  registry.add(
      kUsagePartitionsKind,
      [&db, &clock, retention = config.retention](jobs::JobContext&) -> asio::awaitable<void> {
        co_await maintain_usage_partitions(db, clock.now(), retention);
      },
      jobs::KindOptions{.queue = "default", .policy = jobs::RetryPolicy{.max_attempts = 5}});
  registry.add(
      kPromptSamplesPruneKind,
      [&db, &clock, retention = config.sample_retention](jobs::JobContext& job) -> asio::awaitable<void> {
        co_await prune_prompt_samples(db, clock.now(), retention, &job);
      },
      jobs::KindOptions{.queue = "default", .policy = jobs::RetryPolicy{.max_attempts = 5}});
}

}  // namespace huntaze::ai_router
