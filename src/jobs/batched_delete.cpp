#include "huntaze/jobs/batched_delete.hpp"

#include <algorithm>

namespace huntaze::jobs {

boost::asio::awaitable<int64_t> delete_in_batches(db::Database& db, std::string_view sql, db::Params params,
                                                  int64_t batch, JobContext* job) {
  batch = std::max<int64_t>(batch, 1);
  params.emplace_back(batch);
  int64_t total = 0;
  for (;;) {
    auto res = co_await db.query(sql, params);
    const int64_t n = res.affected();
    total += n;
    if (n < batch) break;
    if (job) co_await job->heartbeat();
  }
  co_return total;
}

}  // namespace huntaze::jobs
