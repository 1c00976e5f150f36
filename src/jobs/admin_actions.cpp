// Operator actions on jobs: retry, cancel, discard, and the bulk replay of
// dead letters. Each runs in one transaction that first locks the job's row,
// so the state checked is the state changed; notifications sent inside it are
// delivered only if it commits.
#include <boost/json.hpp>

#include "huntaze/core/time_format.hpp"
#include "jobs/admin_handlers.hpp"
#include "jobs/admin_json.hpp"
#include "jobs/admin_sql.hpp"
#include "jobs/pg_job_queue.hpp"

namespace huntaze::jobs::admin {

namespace {

namespace json = boost::json;

// The states a job can still leave by itself (the live states of
// jobs_unique_live_idx).
bool unfinished(const std::string& state) {
  return state == "available" || state == "scheduled" || state == "running" || state == "retryable";
}

struct Locked {
  std::string state;
  int32_t attempt = 0;
  std::string queue;
  int64_t lease = 0;
};

asio::awaitable<Locked> lock_job(db::Transaction& tx, int64_t id) {
  auto rows = co_await tx.query(admin_sql::kLock, id);
  if (rows.empty()) throw ApiError(404, "job_not_found", "no job " + std::to_string(id));
  Locked job;
  job.state = rows.front().get<std::string>(0);
  job.attempt = rows.front().get<int32_t>(1);
  job.queue = rows.front().get<std::string>(2);
  job.lease = rows.front().get<int64_t>(3);
  co_return job;
}

[[noreturn]] void finished(int64_t id, const std::string& state) {
  throw ApiError(409, "job_finished", "job " + std::to_string(id) + " is already " + state);
}

// The worker running the job listens on the control channel and cancels its
// handler; its write-back then finds the row no longer running for it and
// leaves the operator's decision in place.
// The lease names the claim to stop: should the job be retried and claimed
// again before the message arrives, the new run is left alone.
asio::awaitable<void> tell_worker_to_stop(db::Transaction& tx, int64_t id, int64_t lease) {
  std::string channel(kControlChannel);  // named: see the GCC 12 note in docs/architecture.md
  std::string payload = "cancel:" + std::to_string(id) + ":" + std::to_string(lease);
  co_await tx.query(admin_sql::kNotify, channel, payload);
}

constexpr int kReplayTries = 3;

}  // namespace

asio::awaitable<http::Response> retry_job(const Context& ctx, http::Request& req) {
  const int64_t id = path_id(req);
  const db::Timestamp now = ctx.clock.now();
  auto work = [&](db::Transaction& tx) -> asio::awaitable<json::object> {
    const Locked job = co_await lock_job(tx, id);
    if (job.state == "running")
      throw ApiError(409, "job_running", "job " + std::to_string(id) + " is running; cancel it or let it finish");
    if (job.state == "completed")
      throw ApiError(409, "job_completed", "job " + std::to_string(id) + " completed; enqueue a new job instead");
    auto rows = co_await tx.query(admin_sql::kRetry, id, now);
    json::object out = job_detail(rows.front());
    co_await tx.query(admin_sql::kNotify, std::string(kWakeChannel), job.queue);
    co_return out;
  };
  std::optional<json::object> job;
  try {
    job = co_await ctx.db.transaction(work);
  } catch (const db::DbError& e) {
    // Back in a live state, the job would share its unique key with a live
    // job: jobs_unique_live_idx refuses, as it refuses a second enqueue.
    if (!e.is_unique_violation()) throw;
  }
  if (!job) {
    auto holder = co_await ctx.db.query(admin_sql::kLiveHolder, id);
    std::vector<ErrorDetail> details;
    if (!holder.empty())
      details.push_back({"unique_key", "held by live job " + std::to_string(holder.front().get<int64_t>(0))});
    throw ApiError(409, "duplicate_live_job",
                   "job " + std::to_string(id) + " cannot run again while another live job has its unique key",
                   std::move(details));
  }
  co_return json_response(200, *job);
}

asio::awaitable<http::Response> cancel_job(const Context& ctx, http::Request& req) {
  const int64_t id = path_id(req);
  const db::Timestamp now = ctx.clock.now();
  auto work = [&](db::Transaction& tx) -> asio::awaitable<json::object> {
    const Locked job = co_await lock_job(tx, id);
    if (!unfinished(job.state)) finished(id, job.state);
    auto rows = co_await tx.query(admin_sql::kCancel, id, now);
    json::object out = job_detail(rows.front());
    if (job.state == "running") co_await tell_worker_to_stop(tx, id, job.lease);
    co_return out;
  };
  auto job = co_await ctx.db.transaction(work);
  co_return json_response(200, job);
}

asio::awaitable<http::Response> discard_job(const Context& ctx, http::Request& req) {
  const int64_t id = path_id(req);
  const db::Timestamp now = ctx.clock.now();
  auto work = [&](db::Transaction& tx) -> asio::awaitable<json::object> {
    const Locked job = co_await lock_job(tx, id);
    if (!unfinished(job.state)) finished(id, job.state);
    // The same shape as the worker's failure entries, so the history reads
    // as one story.
    json::object entry;
    entry["attempt"] = job.attempt;
    entry["at"] = format_iso8601(now);
    entry["reason"] = "operator";
    entry["error"] = "discarded by an operator";
    db::Json error{json::serialize(entry)};
    auto rows = co_await tx.query(admin_sql::kDiscard, id, now, std::move(error), ctx.errors_kept);
    json::object out = job_detail(rows.front());
    if (job.state == "running") co_await tell_worker_to_stop(tx, id, job.lease);
    co_return out;
  };
  auto job = co_await ctx.db.transaction(work);
  co_return json_response(200, job);
}

asio::awaitable<http::Response> replay_dead_letters(const Context& ctx, http::Request& req) {
  const ReplayRequest r = parse_replay_body(req.body);
  const db::Timestamp now = ctx.clock.now();
  auto work = [&](db::Transaction& tx) -> asio::awaitable<int64_t> {
    auto rows = co_await tx.query(admin_sql::kReplay, now, r.limit, r.kind, r.queue, r.ids);
    int64_t replayed = 0;
    std::vector<std::string> queues;
    for (const auto& row : rows) {
      queues.push_back(row.get<std::string>(0));
      replayed += row.get<int64_t>(1);
    }
    if (!queues.empty()) co_await tx.query(admin_sql::kNotifyEach, std::string(kWakeChannel), std::move(queues));
    co_return replayed;
  };
  // The statement skips keys held by live jobs, but a job enqueued
  // concurrently can take a key between its check and its update; the next
  // try sees that job and skips the key.
  std::optional<int64_t> replayed;
  for (int attempt = 1; !replayed; ++attempt) {
    try {
      replayed = co_await ctx.db.transaction(work);
    } catch (const db::DbError& e) {
      if (!e.is_unique_violation()) throw;
      if (attempt == kReplayTries)
        throw ApiError(409, "replay_conflict", "live jobs kept taking the unique keys being replayed; try again");
    }
  }
  json::object body;
  body["replayed"] = *replayed;
  co_return json_response(200, body);
}

}  // namespace huntaze::jobs::admin
