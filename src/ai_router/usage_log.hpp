// The AI usage log: record() one UsageRecord per upstream call or cache hit
// on the request path; a background loop writes them to ai.usage
// (sql/0004_ai_usage.sql) in batches, one multi-row INSERT per batch.
//
//   UsageLog usage(executor, db, clock, metrics, config);
//   co_await usage.start();
//   usage.record(std::move(rec));   // from any thread, never blocks, never throws
//   ...
//   co_await usage.stop();          // one last flush
//
// Delivery is best effort and bounded: rows wait in memory (at most
// max_pending; beyond that new rows are dropped and counted), a failed write
// keeps its rows and is retried after a pause (oldest dropped first when the
// bound is reached), and an insert that finds no partition for its month
// creates it (usage_partitions.hpp) and is retried at once. A crash loses
// what was pending. Budgets reconcile from the table, so a lost row is an
// under-count, never a double count: a batch is written once or not at all.
//
// Metrics: huntaze_ai_usage_rows_written_total, _rows_dropped_total,
// _write_failures_total, and the huntaze_ai_usage_pending gauge.
//
// Thread-safety: record() and pending() from any thread; flush() from any
// coroutine (writes are serialized internally); start() and stop() from one
// coroutine. stop() must have finished (or start() never been called) before
// the log is destroyed.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <memory>

#include "ai_router/usage_record.hpp"
#include "huntaze/core/clock.hpp"
#include "huntaze/core/metrics.hpp"
#include "huntaze/db/database.hpp"

namespace huntaze::ai_router {

struct UsageLogConfig {
  int batch = 500;                                // rows per INSERT at most
  std::chrono::milliseconds flush_every{1000};    // a recorded row waits at most this long
  size_t max_pending = 100'000;                   // beyond this, new rows are dropped (counted)
  std::chrono::hours retention{24 * 400};         // partitions wholly older than this are dropped
  double sample_rate = 0;                         // fraction of answered calls whose bodies are kept
  std::chrono::hours sample_retention{24 * 7};    // how long sampled bodies are kept

  bool operator==(const UsageLogConfig&) const = default;
};

class UsageLog {
 public:
  // db, clock and metrics must outlive the log.
  UsageLog(boost::asio::any_io_executor executor, db::Database& db, const Clock& clock, metrics::Registry& metrics,
           UsageLogConfig config);
  ~UsageLog();
  UsageLog(const UsageLog&) = delete;
  UsageLog& operator=(const UsageLog&) = delete;

  // Queues one row. Never blocks on I/O, never throws. A workspace that is
  // neither "" (platform) nor a UUID, or a time before 1970 or from year
  // 9999 on, is rejected: counted as dropped, with a warning at most once a
  // minute. Text fields are cut to a sane length and
  // cleaned to valid UTF-8 without NUL, so one odd row cannot poison a batch.
  // A sampled body is cut to kMaxSampleRequestBytes / kMaxSampleResponseBytes
  // here; while 64 MiB of them wait, later rows are queued without theirs
  // (counted in huntaze_ai_prompt_samples_total{result="lost"}).
  void record(UsageRecord record) noexcept;

  // Whether to keep this call's prompt and answer: true for a
  // config.sample_rate fraction of calls, drawn at random.
  bool sample() noexcept;

  // Starts the background flush loop.
  boost::asio::awaitable<void> start();
  // Stops the loop, then flushes what is pending (one attempt; a failure is
  // logged, the rows are lost).
  boost::asio::awaitable<void> stop();
  // Writes everything pending now, in batches. Throws the database error when
  // a batch could not be written; its rows stay pending.
  boost::asio::awaitable<void> flush();

  size_t pending() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace huntaze::ai_router
