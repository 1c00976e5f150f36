#include "content/message_partitions.hpp"

#include "huntaze/core/log.hpp"
#include "huntaze/core/time_format.hpp"
#include "huntaze/jobs/batched_delete.hpp"

namespace huntaze::content {

namespace asio = boost::asio;
using std::chrono::year_month;

MessagePartitions::MessagePartitions(db::Database& db) : table_(db, {.schema = "content", .table = "messages"}) {}

asio::awaitable<void> MessagePartitions::ensure(const std::vector<year_month>& months) {
  std::vector<year_month> missing;
  {
    std::lock_guard lock(mutex_);
    for (const auto& m : months)
      if (!known_.contains(m)) missing.push_back(m);
  }
  if (missing.empty()) co_return;
  // Another instance (or the maintenance job) may have made them already;
  // creating takes an exclusive lock, reading the catalog does not.
  auto existing = co_await table_.list();
  std::vector<year_month> create;
  for (const auto& m : missing)
    if (!existing.contains(m)) create.push_back(m);
  if (!create.empty()) co_await table_.ensure(create);
  std::lock_guard lock(mutex_);
  known_.insert(existing.begin(), existing.end());
  known_.insert(create.begin(), create.end());
}

asio::awaitable<db::PartitionPassResult> MessagePartitions::maintain(SysTime now, int months_ahead,
                                                                     std::optional<SysTime> archive_before) {
  const db::PartitionPass pass{.now = now,
                               .months_ahead = months_ahead,
                               .retire_before = archive_before,
                               .archive_schema = "content_archive"};
  auto result = co_await table_.maintain(pass);
  auto existing = co_await table_.list();
  std::lock_guard lock(mutex_);
  known_ = std::move(existing);
  co_return result;
}

SysTime archive_horizon(SysTime now, const MessagesConfig& config) {
  return month_start(utc_month(now - std::chrono::duration_cast<std::chrono::microseconds>(config.archive_after)));
}

asio::awaitable<ArchiveResult> archive_messages(db::Database& db, MessagePartitions& partitions, SysTime now,
                                                const MessagesConfig& config, jobs::JobContext* job) {
  // Whole months only: a month leaves once it ended at or before the
  // horizon's month start, the same line ingestion draws.
  const SysTime horizon = archive_horizon(now, config);
  const std::optional<SysTime> retire_before(horizon + std::chrono::microseconds(1));
  auto pass = co_await partitions.maintain(now, config.months_ahead, retire_before);
  db::Params before{db::Timestamp(horizon)};
  const int64_t keys = co_await jobs::delete_in_batches(
      db,
      "DELETE FROM content.message_keys WHERE ctid IN (SELECT ctid FROM content.message_keys "
      "WHERE sent_at < $1 LIMIT $2)",
      std::move(before), 5000, job);
  if (pass.retired > 0 || keys > 0)
    log::info("messages archived", {{"months", pass.retired}, {"message_keys_deleted", keys}});
  co_return ArchiveResult{.months = pass.retired, .message_keys = keys};
}

}  // namespace huntaze::content
