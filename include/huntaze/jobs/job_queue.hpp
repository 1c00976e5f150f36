// The durable job queue (PostgreSQL, schema `jobs`): the seam every module
// uses to defer work. Workers in any process of the deployment run the jobs
// (see worker.hpp in src/jobs).
//
//   co_await db.transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
//     co_await tx.query("INSERT INTO media.assets ...", ...);
//     co_await queue.enqueue(tx, {.kind = "media.process", .payload = payload});
//   });  // the row and its job commit together, or neither does
//
// Enqueueing in a transaction wakes idle workers through NOTIFY when it
// commits; a lost notification costs at most jobs.poll_interval.
//
// Thread-safety: safe from any coroutine on any thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <vector>

#include "huntaze/db/database.hpp"
#include "huntaze/jobs/events.hpp"
#include "huntaze/jobs/job.hpp"

namespace huntaze::jobs {

class JobQueue {
 public:
  virtual ~JobQueue() = default;

  // Writes one job through `ex` (the pool, or the caller's transaction).
  // Throws std::invalid_argument for an unregistered kind or a bad field.
  virtual boost::asio::awaitable<EnqueueResult> enqueue(db::Executor& ex, NewJob job) = 0;
  // Several jobs in one statement; results in the order given.
  virtual boost::asio::awaitable<std::vector<EnqueueResult>> enqueue_many(db::Executor& ex,
                                                                          std::vector<NewJob> jobs) = 0;
  // One job per subscription whose topic and filter match; returns how many.
  virtual boost::asio::awaitable<int> publish(db::Executor& ex, Event event) = 0;
};

}  // namespace huntaze::jobs
