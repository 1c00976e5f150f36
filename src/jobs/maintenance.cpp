#include "jobs/maintenance.hpp"

#include "huntaze/core/log.hpp"
#include "huntaze/jobs/batched_delete.hpp"
#include "jobs/sql.hpp"

namespace huntaze::jobs {

namespace asio = boost::asio;

asio::awaitable<int64_t> prune_jobs(db::Database& db, const Clock& clock, const JobsConfig& config, JobContext* job) {
  struct Rule {
    const char* state;
    std::chrono::milliseconds keep;
  };
  const Rule rules[] = {{"completed", config.keep_completed},
                        {"cancelled", config.keep_completed},
                        {"discarded", config.keep_discarded}};
  int64_t total = 0;
  for (const auto& rule : rules) {
    const db::Timestamp before = clock.now() - std::chrono::duration_cast<std::chrono::microseconds>(rule.keep);
    db::Params params{std::string(rule.state), before};
    total += co_await delete_in_batches(db, sql::kPrune, std::move(params), config.prune_batch, job);
  }
  if (total > 0) log::info("pruned finished jobs", {{"deleted", total}});
  co_return total;
}

void register_maintenance_jobs(JobRegistry& registry, db::Database& db, const Clock& clock,
                               const JobsConfig& config) {
  registry.add(
      kPruneKind,
      [&db, &clock, config](JobContext& job) -> asio::awaitable<void> {
        co_await prune_jobs(db, clock, config, &job);
      },
      KindOptions{.queue = "default", .policy = RetryPolicy{.max_attempts = 3}});
}

}  // namespace huntaze::jobs
