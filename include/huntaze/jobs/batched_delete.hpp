// Retention jobs delete in small batches, so that no single statement holds
// locks for long or writes a burst of WAL, with a heartbeat between batches
// (a cancellation point, and a sign of life on the job row).
//
//   co_await jobs::delete_in_batches(db, "DELETE FROM t WHERE id IN "
//       "(SELECT id FROM t WHERE at < $1 ORDER BY at LIMIT $2)", {cutoff}, 1000, &job);
//
// Thread-safety: a free function; the database decides.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string_view>

#include "huntaze/db/database.hpp"
#include "huntaze/jobs/job_context.hpp"

namespace huntaze::jobs {

// Runs `sql` with `params` plus the batch size as the last parameter until a
// run deletes fewer rows than that; returns the rows deleted. `job` may be
// null (tests, one-off calls).
boost::asio::awaitable<int64_t> delete_in_batches(db::Database& db, std::string_view sql, db::Params params,
                                                  int64_t batch, JobContext* job);

}  // namespace huntaze::jobs
