// The monthly partitions of content.messages as ingestion needs them: a
// batch's months must exist before its insert. Months known to exist are
// remembered in-process, so a batch of the current month costs no query;
// an unknown month costs a catalog read, and a missing one its creation.
//
// Thread-safety: safe from any coroutine.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <mutex>
#include <set>
#include <vector>

#include "content/content_config.hpp"
#include "huntaze/db/monthly_partitions.hpp"
#include "huntaze/jobs/job_context.hpp"

namespace huntaze::content {

class MessagePartitions {
 public:
  explicit MessagePartitions(db::Database& db);

  // Makes sure every month listed has its partition.
  boost::asio::awaitable<void> ensure(const std::vector<std::chrono::year_month>& months);
  // Keeps `months_ahead` months ready after the current one; with an
  // archive horizon, moves months that ended before it into content_archive
  // and forgets them. Returns {created, archived}.
  boost::asio::awaitable<db::PartitionPassResult> maintain(SysTime now, int months_ahead,
                                                           std::optional<SysTime> archive_before);

  db::MonthlyPartitions& table() noexcept { return table_; }

 private:
  db::MonthlyPartitions table_;
  std::mutex mutex_;
  std::set<std::chrono::year_month> known_;
};

struct ArchiveResult {
  int months = 0;            // partitions moved to content_archive
  int64_t message_keys = 0;  // idempotency keys of those months deleted
};

// The content.archive job at `now`: keeps config.months_ahead months ready,
// moves the months that ended before now - config.archive_after out of
// content.messages into content_archive, and deletes their message keys
// (ingestion refuses messages that old, so the keys are never needed
// again). `job` may be null.
boost::asio::awaitable<ArchiveResult> archive_messages(db::Database& db, MessagePartitions& partitions, SysTime now,
                                                       const MessagesConfig& config, jobs::JobContext* job);

// The earliest sent_at ingestion accepts at `now`: the first instant of the
// month the archive horizon falls in (older months are archived, or will be
// at the next run).
SysTime archive_horizon(SysTime now, const MessagesConfig& config);

}  // namespace huntaze::content
