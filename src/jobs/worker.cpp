#include "jobs/worker.hpp"

#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/json.hpp>
#include <algorithm>
#include <deque>
#include <optional>
#include <random>
#include <set>
#include <unordered_map>

#include "huntaze/core/log.hpp"
#include "huntaze/core/strings.hpp"
#include "huntaze/core/time_format.hpp"
#include "jobs/backoff.hpp"
#include "jobs/pg_job_queue.hpp"
#include "jobs/running_job.hpp"
#include "jobs/sql.hpp"
#include "jobs/worker_metrics.hpp"

namespace huntaze::jobs {

namespace {

using namespace std::chrono_literals;
using asio::use_awaitable;
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

constexpr size_t kMaxErrorText = 2000;
constexpr auto kSampleEvery = 5s;
constexpr auto kWriteRetry = 1s;
// After the grace period and a cancellation, how long handlers get to unwind.
constexpr auto kCancelUnwind = 2s;
// The furthest a retry may be put off, whatever a handler's RetryAt asks: a
// time beyond timestamptz's range would make the result unwritable.
constexpr auto kMaxRetryDelay = std::chrono::days(366);

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

std::string error_entry(int attempt, SysTime at, std::string_view reason, std::string_view message) {
  boost::json::object e;
  e["attempt"] = attempt;
  e["at"] = format_iso8601(at);
  e["reason"] = reason;
  // Error text comes from handlers and libraries: anything at all; jsonb
  // rejects NUL and invalid UTF-8.
  e["error"] = clean_utf8(message, kMaxErrorText);
  return boost::json::serialize(e);
}

// A job result names the claim it belongs to (see sql::kComplete).
struct JobRef {
  int64_t id;
  int64_t lease;
};

struct QueueState {
  QueueState(std::string n, int l, asio::strand<asio::any_io_executor>& strand)
      : name(std::move(n)), limit(l), wake(strand) {}
  std::string name;
  int limit;
  int running = 0;
  std::deque<ClaimedJob> ready;  // claimed, not started yet (the prefetch)
  bool more = true;              // the last claim was full: more work is likely
  bool notified = true;          // something said there may be work
  bool waiting = false;
  asio::steady_timer wake;
};

struct Failure {
  int64_t id;
  int64_t lease;
  int attempt;
  std::string state;  // retryable | discarded
  int64_t run_at_us;
  std::string error;
  std::string kind;
};

}  // namespace

struct Worker::Impl : std::enable_shared_from_this<Worker::Impl> {
  Impl(asio::any_io_executor executor, db::Database& database, const JobRegistry& reg, const Clock& clk,
       metrics::Registry& registry, JobsConfig cfg)
      : io(executor),
        strand(asio::make_strand(executor)),
        db(database),
        registry(reg),
        clock(clk),
        config(std::move(cfg)),
        id(Uuid::v7()),
        metrics(registry),
        flush_timer(strand),
        drained(strand),
        loops_done(strand),
        claimers_done(strand),
        heartbeat_timer(strand),
        rescue_timer(strand),
        sample_timer(strand),
        rng(std::random_device{}()) {
    std::set<std::string> names;
    for (const auto& q : reg.queues()) names.insert(q);
    for (const auto& [q, limit] : config.queues) names.insert(q);
    for (const auto& name : names)
      queues.emplace(name, std::make_unique<QueueState>(name, config.concurrency(name), strand));
  }

  asio::any_io_executor io;
  asio::strand<asio::any_io_executor> strand;  // every member below is touched on this strand only
  db::Database& db;
  const JobRegistry& registry;
  const Clock& clock;
  JobsConfig config;
  Uuid id;
  WorkerMetrics metrics;

  std::map<std::string, std::unique_ptr<QueueState>, std::less<>> queues;
  // By job id; one id may appear twice while a cancelled claim unwinds and
  // the job, retried by an operator, already runs again.
  std::unordered_multimap<int64_t, std::shared_ptr<RunningJob>> running;
  std::atomic<int> running_count{0};

  std::vector<JobRef> done;
  std::vector<Failure> failed;
  std::vector<JobRef> handed_back;
  asio::steady_timer flush_timer;
  bool flush_idle = false;

  bool stopping = false;
  bool beats_stop = false;  // the heartbeat outlives `stopping`: it runs until the drain ends
  bool flusher_stop = false;
  asio::steady_timer drained;
  int loops = 0;
  asio::steady_timer loops_done;
  int claimers = 0;  // claim loops still running (a subset of loops)
  asio::steady_timer claimers_done;
  std::unique_ptr<db::Listener> listener;
  asio::steady_timer heartbeat_timer, rescue_timer, sample_timer;
  std::mt19937_64 rng;
  std::set<std::pair<std::string, std::string>> depth_labels;
  // The kinds this process can run, taken from the registry at start(): the
  // claims take only these (sql::kClaim).
  std::vector<std::string> kinds;

  // ---- background loops ---------------------------------------------------

  // A claim loop also counts in `claimers`, released here however it ends.
  template <class Loop>
  void spawn_loop(Loop loop, const char* name, bool claimer = false) {
    ++loops;
    if (claimer) ++claimers;
    asio::co_spawn(strand, std::move(loop), [self = shared_from_this(), name, claimer](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          log::error("job worker loop failed", {{"loop", name}, {"error", ex.what()}});
        }
      }
      if (claimer && --self->claimers == 0) self->claimers_done.cancel();
      if (--self->loops == 0) self->loops_done.cancel();
    });
  }

  asio::awaitable<void> claim_loop(QueueState& q) {
    while (!stopping) {
      const int want = q.limit - q.running + config.prefetch - static_cast<int>(q.ready.size());
      if (want > 0 && (q.more || q.notified)) {
        q.notified = false;
        bool failed_claim = false;
        try {
          auto claimed = co_await claim(q, want);
          q.more = static_cast<int>(claimed.size()) == want;
          for (auto& c : claimed) q.ready.push_back(std::move(c));
        } catch (const std::exception& e) {
          if (!stopping) log::warn("claiming jobs failed", {{"queue", q.name}, {"error", e.what()}});
          q.more = false;
          failed_claim = true;
        }
        if (stopping) break;
        start_ready(q);
        if (!failed_claim) continue;
      }
      // Idle (or all slots busy): wait for a notification, a freed slot
      // that may find more work, wake(), or the poll interval.
      q.waiting = true;
      q.wake.expires_after(config.poll_interval);
      auto [ec] = co_await q.wake.async_wait(as_tuple_awaitable);
      q.waiting = false;
      if (!ec) q.notified = true;  // poll: look again even without a notification
    }
  }

  void poke(QueueState& q) {
    q.notified = true;
    if (q.waiting) q.wake.cancel();
  }

  asio::awaitable<std::vector<ClaimedJob>> claim(QueueState& q, int limit) {
    const db::Timestamp now = clock.now();
    auto res = co_await db.query(sql::kClaim, q.name, now, static_cast<int64_t>(limit), id, kinds);
    std::vector<ClaimedJob> out;
    out.reserve(res.size());
    for (const auto& row : res) {
      ClaimedJob c;
      c.id = row.get<int64_t>(0);
      c.queue = q.name;
      c.kind = row.get<std::string>(1);
      c.payload = row.get<std::string>(2);
      c.attempt = row.get<int32_t>(3);
      c.max_attempts = row.get<int32_t>(4);
      c.run_at = row.get<db::Timestamp>(5);
      c.timeout = std::chrono::milliseconds(row.get<int32_t>(6));
      c.priority = row.get<int32_t>(7);
      c.lease = row.get<int64_t>(8);
      out.push_back(std::move(c));
    }
    // UPDATE ... RETURNING does not keep the claim order.
    std::sort(out.begin(), out.end(), [](const ClaimedJob& a, const ClaimedJob& b) {
      return std::tie(a.priority, a.run_at, a.id) < std::tie(b.priority, b.run_at, b.id);
    });
    co_return out;
  }

  void start_ready(QueueState& q) {
    while (!stopping && q.running < q.limit && !q.ready.empty()) {
      ClaimedJob c = std::move(q.ready.front());
      q.ready.pop_front();
      start(q, std::move(c));
    }
  }

  void start(QueueState& q, ClaimedJob claimed) {
    const SysTime now = clock.now();
    metrics.pickup_seconds.with({q.name}).observe(
        std::max(0.0, std::chrono::duration<double>(now - claimed.run_at).count()));
    // Never null: a claim takes only the kinds in `kinds`, read from this
    // registry, which never loses a kind. Jobs of kinds this process does not
    // know stay available for a process that does (a rolling deploy).
    const KindSpec* spec = registry.find(claimed.kind);
    if (!spec) {
      // A logic error (the claim filter is broken): give the job back
      // untouched rather than burn its attempts here.
      log::error("logic error: claimed a job of a kind the claim excluded; handing it back",
                 {{"job_id", claimed.id}, {"kind", claimed.kind}});
      handed_back.push_back({claimed.id, claimed.lease});
      metrics.handed_back.with({q.name}).inc();
      schedule_flush();
      return;
    }
    auto job = std::make_shared<RunningJob>(std::move(claimed), io, db, clock, id);
    ++q.running;
    ++running_count;
    metrics.running.with({q.name}).inc();
    running.emplace(job->id(), job);
    Handler handler = spec->handler;
    asio::co_spawn(job->strand(), run_handler(std::move(handler), job),
                   asio::bind_cancellation_slot(job->slot(), [self = shared_from_this(), job,
                                                              &q](std::exception_ptr e) {
                     asio::post(self->strand, [self, job, &q, e] { self->finished(q, job, e); });
                   }));
    // The timer belongs to the job's strand, like its disarm.
    asio::post(job->strand(), [job] { job->arm_timeout(); });
  }

  static asio::awaitable<void> run_handler(Handler handler, std::shared_ptr<RunningJob> job) {
    co_await handler(*job);
  }

  void finished(QueueState& q, const std::shared_ptr<RunningJob>& job, std::exception_ptr e) {
    job->disarm_timeout();
    auto [first, last] = running.equal_range(job->id());
    for (auto it = first; it != last; ++it)
      if (it->second == job) {
        running.erase(it);
        break;
      }
    --q.running;
    --running_count;
    metrics.running.with({q.name}).dec();
    const auto& kind = job->kind();
    metrics.run_seconds.with({kind}).observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - job->started()).count());
    if (!e) {
      done.push_back({job->id(), job->claimed().lease});
      metrics.completed.with({kind}).inc();
    } else {
      classify_failure(*job, e);
    }
    schedule_flush();
    start_ready(q);
    if (q.more) poke(q);
    if (stopping && running.empty()) drained.cancel();
  }

  void classify_failure(RunningJob& job, std::exception_ptr e) {
    try {
      std::rethrow_exception(e);
    } catch (const RetryAt& r) {
      record_failure(job, "retry_at", r.what(), r.when());
    } catch (const DiscardJob& d) {
      record_failure(job, "discard", d.what(), std::nullopt, true);
    } catch (const std::exception& ex) {
      failure_after_cancel(job, ex.what());
    } catch (...) {
      failure_after_cancel(job, "unknown exception");
    }
  }

  void failure_after_cancel(RunningJob& job, const std::string& what) {
    switch (job.reason()) {
      case CancelReason::shutdown:
        handed_back.push_back({job.id(), job.claimed().lease});
        metrics.handed_back.with({job.queue()}).inc();
        return;
      case CancelReason::operator_request:
        return;  // the row already says cancelled/discarded; nothing to write
      case CancelReason::timeout:
        record_failure(job, "timeout",
                       "timed out after " + std::to_string(job.claimed().timeout.count()) + " ms: " + what);
        return;
      case CancelReason::none:
        record_failure(job, "error", what);
        return;
    }
  }

  void record_failure(RunningJob& job, std::string_view reason, std::string_view message,
                      std::optional<SysTime> retry_at = std::nullopt, bool discard = false) {
    const SysTime now = clock.now();
    const auto& c = job.claimed();
    metrics.failed.with({c.kind}).inc();
    const bool out_of_attempts = c.attempt >= c.max_attempts;
    Failure f{c.id, c.lease, c.attempt, "retryable", 0, error_entry(c.attempt, now, reason, message), c.kind};
    if (discard || out_of_attempts) {
      f.state = "discarded";
      metrics.discarded.with({c.kind}).inc();
      log::warn("job discarded",
                {{"job_id", c.id}, {"kind", c.kind}, {"attempt", c.attempt}, {"error", message.substr(0, 300)}});
    } else {
      SysTime next = retry_at.value_or(now);
      if (!retry_at) {
        const KindSpec* spec = registry.find(c.kind);
        RetryPolicy policy = spec ? spec->policy : RetryPolicy{};
        std::uniform_real_distribution<double> unit(0.0, 1.0);
        next = now + std::chrono::duration_cast<std::chrono::microseconds>(
                         backoff_delay(policy, c.attempt, unit(rng)));
      }
      // Within [now, now + 366 days]: a handler's RetryAt may be anything,
      // SysTime::max() or an overflowed sum included.
      next = std::clamp<SysTime>(next, now, now + kMaxRetryDelay);
      f.run_at_us = next.time_since_epoch().count();
      log::info("job failed; will retry", {{"job_id", c.id},
                                          {"kind", c.kind},
                                          {"attempt", c.attempt},
                                          {"retry_at", format_iso8601(next)},
                                          {"error", message.substr(0, 300)}});
    }
    failed.push_back(std::move(f));
  }

  size_t pending_writes() const { return done.size() + failed.size() + handed_back.size(); }

  void schedule_flush() {
    if (flush_idle || pending_writes() >= static_cast<size_t>(config.completion_batch)) flush_timer.cancel();
  }

  // Writes results in batches: at most completion_batch rows per statement,
  // at most completion_delay after the first result waited.
  asio::awaitable<void> flush_loop() {
    for (;;) {
      if (pending_writes() == 0) {
        if (flusher_stop) break;
        flush_idle = true;
        flush_timer.expires_at(asio::steady_timer::time_point::max());
        co_await flush_timer.async_wait(as_tuple_awaitable);
        flush_idle = false;
        continue;
      }
      if (!flusher_stop && config.completion_delay.count() > 0 &&
          pending_writes() < static_cast<size_t>(config.completion_batch)) {
        flush_timer.expires_after(config.completion_delay);
        co_await flush_timer.async_wait(as_tuple_awaitable);
      }
      std::vector<JobRef> ok;
      std::vector<Failure> bad;
      std::vector<JobRef> back;
      take(done, ok);
      take(failed, bad);
      take(handed_back, back);
      std::string write_error;
      try {
        co_await write_results(ok, bad, back);
      } catch (const std::exception& e) {
        write_error = e.what();
      }
      if (!write_error.empty()) {
        log::warn("writing job results failed; retrying", {{"error", write_error}});
        // Keep them: a job stays 'running' under this worker until written,
        // and a later write of the same result is harmless.
        done.insert(done.end(), ok.begin(), ok.end());
        failed.insert(failed.end(), std::make_move_iterator(bad.begin()), std::make_move_iterator(bad.end()));
        handed_back.insert(handed_back.end(), back.begin(), back.end());
        if (flusher_stop) break;  // shutting down with the database away: rescue will cover them
        flush_timer.expires_after(kWriteRetry);
        co_await flush_timer.async_wait(as_tuple_awaitable);
      }
    }
  }

  template <class T>
  void take(std::vector<T>& from, std::vector<T>& to) {
    const size_t n = std::min(from.size(), static_cast<size_t>(config.completion_batch));
    to.assign(std::make_move_iterator(from.begin()), std::make_move_iterator(from.begin() + static_cast<long>(n)));
    from.erase(from.begin(), from.begin() + static_cast<long>(n));
  }

  static std::pair<std::vector<int64_t>, std::vector<int64_t>> split(const std::vector<JobRef>& refs) {
    std::pair<std::vector<int64_t>, std::vector<int64_t>> out;
    for (const auto& r : refs) {
      out.first.push_back(r.id);
      out.second.push_back(r.lease);
    }
    return out;
  }

  asio::awaitable<void> write_results(const std::vector<JobRef>& ok, const std::vector<Failure>& bad,
                                      const std::vector<JobRef>& back) {
    const db::Timestamp now = clock.now();
    if (!ok.empty()) {
      auto [ids, leases] = split(ok);
      co_await db.query(sql::kComplete, std::move(ids), std::move(leases), id, now);
    }
    if (!bad.empty()) {
      std::string rejected;
      try {
        co_await write_failures(bad, now);
      } catch (const db::DbError& e) {
        // Some row's content is at fault; retrying the batch would fail forever.
        if (!rejects_content(e)) throw;
        rejected = e.what();
      }
      if (!rejected.empty()) {
        log::warn("a batch of job failures was rejected; writing them one by one", {{"error", rejected}});
        for (const auto& f : bad) co_await write_failure_alone(f, now);
      }
    }
    if (!back.empty()) {
      auto [ids, leases] = split(back);
      std::string channel(kWakeChannel);
      co_await db.query(sql::kHandBack, std::move(ids), std::move(leases), id, channel);
    }
  }

  asio::awaitable<void> write_failures(const std::vector<Failure>& bad, db::Timestamp now) {
    std::vector<int64_t> ids, run_at, leases;
    std::vector<std::string> states, errors;
    for (const auto& f : bad) {
      ids.push_back(f.id);
      leases.push_back(f.lease);
      states.push_back(f.state);
      run_at.push_back(f.run_at_us);
      errors.push_back(f.error);
    }
    co_await db.query(sql::kFail, std::move(ids), std::move(states), std::move(run_at), std::move(errors), id, now,
                      static_cast<int32_t>(config.errors_kept), std::move(leases));
  }

  // Class 22 (data exception) or 23 (constraint): the row's content is at
  // fault, and writing it again would fail again.
  static bool rejects_content(const db::DbError& e) {
    return e.sqlstate().starts_with("22") || e.sqlstate().starts_with("23");
  }

  // Writes failures; returns the database's message when it rejected their
  // content (any other error is thrown: the whole write is retried).
  asio::awaitable<std::optional<std::string>> try_write_failures(const std::vector<Failure>& bad, db::Timestamp now) {
    std::optional<std::string> rejected;
    try {
      co_await write_failures(bad, now);
    } catch (const db::DbError& e) {
      if (!rejects_content(e)) throw;
      rejected = "SQLSTATE " + e.sqlstate() + ": " + e.what();
    }
    co_return rejected;
  }

  // One failure on its own. If even that is rejected, it gives up its content
  // step by step, so that one poisoned result can never hold up the flush
  // loop: first its error text (a stand-in message), then the result itself
  // (the job is discarded, its error history replaced by one entry saying
  // why), and last the write (logged, the job left to the rescue that
  // follows this process's end).
  asio::awaitable<void> write_failure_alone(const Failure& f, db::Timestamp now) {
    std::vector<Failure> one{f};
    auto rejected = co_await try_write_failures(one, now);
    if (!rejected) co_return;
    one.front().error = error_entry(f.attempt, now, "error", "the error text could not be stored");
    rejected = co_await try_write_failures(one, now);
    if (!rejected) co_return;

    log::error("a job's result could not be stored; discarding the job",
               {{"job_id", f.id}, {"kind", f.kind}, {"state", f.state}, {"error", *rejected}});
    db::Json entry;  // named: a braced temporary inside co_await is destroyed twice by GCC 12
    entry.text = error_entry(f.attempt, now, "unstorable_result",
                             "the job's result (" + f.state + ") could not be stored, so it was discarded: " +
                                 *rejected);
    bool written = false;
    std::string last_error;
    try {
      auto res = co_await db.query(sql::kDiscardUnstorable, f.id, f.lease, id, now, entry);
      written = !res.empty();
    } catch (const db::DbError& e) {
      if (!rejects_content(e)) throw;
      last_error = e.what();
    }
    // A failure already meant to discard was counted when it was recorded.
    if (written && f.state != "discarded") metrics.discarded.with({f.kind}).inc();
    if (!last_error.empty())
      log::error("a job's result could not be written at all; dropped (the job stays running until rescued)",
                 {{"job_id", f.id}, {"error", last_error}});
  }

  asio::awaitable<void> listen_loop() {
    while (!stopping) {
      db::Notification n;
      std::string listen_error;
      try {
        n = co_await listener->next();
      } catch (const std::exception& e) {
        listen_error = e.what();
      }
      if (!listen_error.empty()) {
        if (stopping) break;
        log::warn("job listener failed", {{"error", listen_error}});
        asio::steady_timer pause(strand, kWriteRetry);
        co_await pause.async_wait(as_tuple_awaitable);
        continue;
      }
      if (n.reconnected) {
        for (auto& [name, q] : queues) poke(*q);  // notifications were lost while away
      } else if (n.channel == kWakeChannel) {
        if (auto it = queues.find(n.payload); it != queues.end()) poke(*it->second);
      } else if (n.channel == kControlChannel && n.payload.starts_with("cancel:")) {
        // "cancel:<id>[:<lease>]"; without a lease, every claim of the job.
        char* end = nullptr;
        const int64_t job_id = std::strtoll(n.payload.c_str() + 7, &end, 10);
        const std::optional<int64_t> lease =
            *end == ':' ? std::optional<int64_t>(std::strtoll(end + 1, nullptr, 10)) : std::nullopt;
        auto [first, last] = running.equal_range(job_id);
        for (auto it = first; it != last; ++it) {
          if (lease && it->second->claimed().lease != *lease) continue;
          log::info("job cancelled by an operator", {{"job_id", job_id}});
          it->second->cancel(CancelReason::operator_request);
        }
        // Claimed but not started yet: the row is no longer ours to run.
        for (auto& [name, q] : queues)
          std::erase_if(q->ready, [&](const ClaimedJob& c) { return c.id == job_id && (!lease || c.lease == *lease); });
      }
    }
  }

  asio::awaitable<void> beat() {
    const db::Timestamp now = clock.now();
    std::vector<std::string> names;
    for (const auto& [name, q] : queues) names.push_back(name);
    std::string host = host_name();  // named: see the GCC 12 note in docs/architecture.md
    auto res = co_await db.query(sql::kWorkerBeat, id, host, static_cast<int32_t>(getpid()), names, now);
    if (beats_++ > 0 && !res.empty() && res.front().get<bool>(0))
      log::error("this worker had been presumed dead; its running jobs may run again elsewhere",
                 {{"worker_id", id.str()}});
  }
  int beats_ = 0;

  // Keeps beating while stop() drains: a long drain must not make this
  // process look dead and have its running jobs rescued under it.
  asio::awaitable<void> heartbeat_loop() {
    while (!beats_stop) {
      heartbeat_timer.expires_after(config.heartbeat_interval);
      co_await heartbeat_timer.async_wait(as_tuple_awaitable);
      if (beats_stop) break;
      try {
        co_await beat();
      } catch (const std::exception& e) {
        log::warn("worker heartbeat failed", {{"error", e.what()}});
      }
    }
  }

  asio::awaitable<void> rescue_loop() {
    std::uniform_int_distribution<int64_t> spread(0, config.heartbeat_interval.count());
    while (!stopping) {
      // Spread instances apart; every one of them rescues, which is safe.
      rescue_timer.expires_after(config.heartbeat_interval + std::chrono::milliseconds(spread(rng)));
      co_await rescue_timer.async_wait(as_tuple_awaitable);
      if (stopping) break;
      try {
        co_await rescue();
      } catch (const std::exception& e) {
        log::warn("rescuing jobs failed", {{"error", e.what()}});
      }
    }
  }

  asio::awaitable<int> rescue() {
    const SysTime now = clock.now();
    const db::Timestamp cutoff = now - std::chrono::duration_cast<std::chrono::microseconds>(config.rescue_after);
    const db::Timestamp at = now;
    db::Json entry;  // named: a braced temporary inside co_await is destroyed twice by GCC 12
    entry.text = error_entry(0, now, "rescued", "worker stopped beating; job rescued");
    auto res = co_await db.query(sql::kRescue, cutoff, at, entry,
                                 static_cast<int32_t>(config.errors_kept), std::string(kWakeChannel), id);
    int total = 0;
    for (const auto& row : res) {
      auto kind = row.get<std::string>(0);
      auto state = row.get<std::string>(1);
      auto n = row.get<int64_t>(2);
      total += static_cast<int>(n);
      metrics.rescued.with({kind}).inc(static_cast<double>(n));
      if (state == "discarded") metrics.discarded.with({kind}).inc(static_cast<double>(n));
      log::warn("rescued jobs of a silent worker", {{"kind", kind}, {"state", state}, {"count", n}});
    }
    co_return total;
  }

  asio::awaitable<void> sample_loop() {
    while (!stopping) {
      try {
        co_await sample();
      } catch (const std::exception& e) {
        log::debug("sampling queue depth failed", {{"error", e.what()}});
      }
      if (stopping) break;
      sample_timer.expires_after(kSampleEvery);
      co_await sample_timer.async_wait(as_tuple_awaitable);
    }
  }

  asio::awaitable<void> sample() {
    const SysTime now = clock.now();
    const db::Timestamp at = now;
    auto res = co_await db.query(sql::kDepth, at);
    std::set<std::pair<std::string, std::string>> seen;
    std::map<std::string, double> oldest;
    for (const auto& row : res) {
      auto queue = row.get<std::string>(0);
      auto state = row.get<std::string>(1);
      metrics.depth.with({queue, state}).set(static_cast<double>(row.get<int64_t>(2)));
      seen.emplace(queue, state);
      if (auto min_run_at = row.get<std::optional<db::Timestamp>>(3)) {
        double age = std::chrono::duration<double>(now - *min_run_at).count();
        auto& o = oldest[queue];
        o = std::max(o, age);
      }
    }
    for (const auto& labels : depth_labels)
      if (!seen.contains(labels)) metrics.depth.with({labels.first, labels.second}).set(0);
    for (const auto& [name, q] : queues) metrics.oldest_ready.with({name}).set(oldest[name]);
    depth_labels.insert(seen.begin(), seen.end());
  }

  // ---- start and stop -----------------------------------------------------

  asio::awaitable<void> start() {
    kinds.clear();
    for (const KindSpec* spec : registry.kinds()) kinds.push_back(spec->name);
    co_await beat();  // the row exists before the first claim, or a rescuer could take our jobs
    listener = co_await db.listener();
    co_await listener->listen(kWakeChannel);
    co_await listener->listen(kControlChannel);
    for (auto& [name, q] : queues) spawn_loop(claim_loop(*q), "claim", true);
    spawn_loop(flush_loop(), "flush");
    spawn_loop(listen_loop(), "listen");
    spawn_loop(heartbeat_loop(), "heartbeat");
    spawn_loop(rescue_loop(), "rescue");
    spawn_loop(sample_loop(), "sample");
    std::vector<std::string> names;
    for (const auto& [name, q] : queues) names.push_back(name + "=" + std::to_string(q->limit));
    log::info("job worker started", {{"worker_id", id.str()}, {"queues", join_names(names)}});
  }

  static std::string join_names(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
    return out;
  }

  asio::awaitable<void> stop(std::chrono::milliseconds grace) {
    if (stopping) co_return;
    stopping = true;
    for (auto& [name, q] : queues) q->wake.cancel();
    if (claimers > 0) {
      // A claim in flight finishes first, so that what it took is handed back.
      claimers_done.expires_at(asio::steady_timer::time_point::max());
      co_await claimers_done.async_wait(as_tuple_awaitable);
    }
    for (auto& [name, q] : queues) {
      for (auto& c : q->ready) {
        handed_back.push_back({c.id, c.lease});
        metrics.handed_back.with({name}).inc();
      }
      q->ready.clear();
    }
    if (listener) listener->close();
    rescue_timer.cancel();
    sample_timer.cancel();
    if (!running.empty()) {
      log::info("waiting for running jobs", {{"running", static_cast<int64_t>(running.size())}});
      drained.expires_after(grace);
      co_await drained.async_wait(as_tuple_awaitable);
    }
    if (!running.empty()) {
      log::warn("cancelling jobs still running after the grace period; they go back to the queue",
                {{"running", static_cast<int64_t>(running.size())}});
      for (auto& [job_id, job] : running) job->cancel(CancelReason::shutdown);
      drained.expires_after(kCancelUnwind);
      co_await drained.async_wait(as_tuple_awaitable);
    }
    beats_stop = true;
    heartbeat_timer.cancel();
    flusher_stop = true;
    flush_timer.cancel();
    if (loops > 0) {
      loops_done.expires_at(asio::steady_timer::time_point::max());
      co_await loops_done.async_wait(as_tuple_awaitable);
    }
    try {
      co_await db.query(sql::kWorkerRemove, id);
    } catch (const std::exception& e) {
      log::warn("removing the worker row failed", {{"error", e.what()}});
    }
    log::info("job worker stopped",
              {{"worker_id", id.str()}, {"abandoned", static_cast<int64_t>(running.size())}});
  }
};

Worker::Worker(asio::any_io_executor executor, db::Database& db, const JobRegistry& registry, const Clock& clock,
               metrics::Registry& metrics, JobsConfig config)
    : impl_(std::make_shared<Impl>(std::move(executor), db, registry, clock, metrics, std::move(config))) {}

Worker::~Worker() = default;

asio::awaitable<void> Worker::start() {
  auto impl = impl_;
  co_await asio::co_spawn(impl->strand, impl->start(), use_awaitable);
}

asio::awaitable<void> Worker::stop(std::chrono::milliseconds grace) {
  auto impl = impl_;
  co_await asio::co_spawn(impl->strand, impl->stop(grace), use_awaitable);
}

void Worker::wake() {
  asio::post(impl_->strand, [impl = impl_] {
    for (auto& [name, q] : impl->queues) impl->poke(*q);
  });
}

asio::awaitable<int> Worker::rescue() {
  auto impl = impl_;
  co_return co_await asio::co_spawn(impl->strand, impl->rescue(), use_awaitable);
}

const Uuid& Worker::id() const {
  return impl_->id;
}

int Worker::running() const {
  return impl_->running_count.load();
}

}  // namespace huntaze::jobs
