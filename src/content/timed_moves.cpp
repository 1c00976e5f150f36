#include "content/timed_moves.hpp"

#include "huntaze/jobs/job.hpp"

namespace huntaze::content {

namespace asio = boost::asio;

namespace {

constexpr int64_t kSweepBatch = 500;

}  // namespace

asio::awaitable<int> run_move(db::Database& db, jobs::JobQueue& queue, const TimedMove& move, std::optional<Uuid> id,
                              SysTime now, std::optional<SysTime> scheduled_for) {
  const db::Timestamp at(now);
  const int64_t batch_size = kSweepBatch;
  int moved = 0;
  for (;;) {
    const int batch = co_await db.transaction([&](db::Transaction& tx) -> asio::awaitable<int> {
      std::optional<db::Result> rows;
      if (id)
        rows.emplace(co_await tx.query(move.one, at, *id));
      else
        rows.emplace(co_await tx.query(move.sweep, at, batch_size));
      for (const auto& r : *rows) {
        jobs::Event event = move.event(r);
        co_await queue.publish(tx, std::move(event));
      }
      co_return static_cast<int>(rows->size());
    });
    moved += batch;
    if (id || batch < kSweepBatch) break;
  }
  if (id && moved == 0) {
    auto rows = co_await db.query(move.pending, *id);
    const auto pending = rows.empty() ? std::optional<SysTime>() : std::optional<SysTime>(rows.front().get<db::Timestamp>(0));
    if (pending && *pending > now && !(scheduled_for && *scheduled_for != *pending))
      throw jobs::RetryAt(*pending, "its time has not come yet");
  }
  co_return moved;
}

}  // namespace huntaze::content
