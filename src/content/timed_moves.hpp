// Moving rows at their times (an offer starting, a post becoming due): one
// row by the job enqueued for its time, or every due row by a cron sweep,
// each moved row's event published in the transaction that moved it.
//
// A move is two conditional UPDATEs with RETURNING: `one` ($1 now, $2 the
// row id) and `sweep` ($1 now, $2 batch size; it must repeat its conditions
// outside any id subquery: a row another transaction moved while this one
// waited for its lock is re-checked against the outer WHERE only, under
// READ COMMITTED, and would otherwise move twice). `pending` ($1 the id)
// returns the row's time when it is still waiting: with an id and nothing
// moved, a time still ahead means either that the row was rescheduled (the
// job's `scheduled_for` is not the row's time any more: the new time has a
// job of its own, this one ends quietly) or that the job ran early (another
// instance's clock): jobs::RetryAt that time is thrown.
//
// Thread-safety: a free function; the database decides.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <optional>

#include "huntaze/core/clock.hpp"
#include "huntaze/core/uuid.hpp"
#include "huntaze/db/database.hpp"
#include "huntaze/jobs/job_queue.hpp"

namespace huntaze::content {

struct TimedMove {
  const char* one;
  const char* sweep;
  const char* pending;
  // The event of one moved row (a row of one's or sweep's RETURNING).
  std::function<jobs::Event(const db::Row&)> event;
};

// Returns how many rows moved.
boost::asio::awaitable<int> run_move(db::Database& db, jobs::JobQueue& queue, const TimedMove& move,
                                     std::optional<Uuid> id, SysTime now,
                                     std::optional<SysTime> scheduled_for = std::nullopt);

}  // namespace huntaze::content
