#include "jobs/running_job.hpp"

#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>

#include "jobs/sql.hpp"

namespace huntaze::jobs {

namespace {
// Job heartbeats are for operators and for noticing a lost job; more often
// than this would only add writes.
constexpr auto kHeartbeatEvery = std::chrono::seconds(2);
}  // namespace

RunningJob::RunningJob(ClaimedJob claimed, asio::any_io_executor io, db::Database& db, const Clock& clock,
                       Uuid worker_id)
    : claimed_(std::move(claimed)),
      strand_(asio::make_strand(io)),
      timeout_timer_(strand_),
      db_(db),
      clock_(clock),
      worker_id_(worker_id),
      deadline_(clock.now() + std::chrono::duration_cast<std::chrono::microseconds>(claimed_.timeout)),
      started_(std::chrono::steady_clock::now()) {
  boost::system::error_code ec;
  payload_ = boost::json::parse(claimed_.payload, ec);
  if (ec || !payload_.is_object()) payload_ = boost::json::object();  // jsonb: cannot happen
}

void RunningJob::cancel(CancelReason reason) {
  int expected = 0;
  if (!reason_.compare_exchange_strong(expected, static_cast<int>(reason))) return;
  // Cancellation slots are not thread-safe: emit where the handler runs.
  asio::post(strand_, [self = shared_from_this()] { self->signal_.emit(asio::cancellation_type::terminal); });
}

void RunningJob::arm_timeout() {
  timeout_timer_.expires_after(claimed_.timeout);
  timeout_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->cancel(CancelReason::timeout);
  });
}

void RunningJob::disarm_timeout() {
  asio::post(strand_, [self = shared_from_this()] { self->timeout_timer_.cancel(); });
}

asio::awaitable<void> RunningJob::heartbeat() {
  if (cancelled()) throw JobCancelled("job " + std::to_string(claimed_.id) + " was cancelled");
  auto now = std::chrono::steady_clock::now();
  if (last_beat_ != std::chrono::steady_clock::time_point{} && now - last_beat_ < kHeartbeatEvery) co_return;
  last_beat_ = now;
  const db::Timestamp at = clock_.now();
  auto res = co_await db_.query(sql::kJobHeartbeat, claimed_.id, worker_id_, at,
                               claimed_.lease);
  if (res.empty()) {
    // An operator cancelled it or it was rescued: someone else owns it now.
    cancel(CancelReason::operator_request);
    throw JobCancelled("job " + std::to_string(claimed_.id) + " is no longer held by this worker");
  }
}

}  // namespace huntaze::jobs
