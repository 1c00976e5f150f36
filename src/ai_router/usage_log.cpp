#include "ai_router/usage_log.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <exception>
#include <limits>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "ai_router/prompt_samples.hpp"
#include "ai_router/usage_partitions.hpp"
#include "huntaze/core/log.hpp"
#include "huntaze/core/strings.hpp"
#include "huntaze/core/uuid.hpp"

namespace huntaze::ai_router {

namespace asio = boost::asio;

namespace {

using namespace std::chrono_literals;
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// After a failed write the loop waits this long, doubling up to the cap:
// a database that is down should not be hammered by every instance.
constexpr auto kRetryPause = 1s;
constexpr auto kMaxRetryPause = 30s;
// Rows further ahead than this are a clock or caller bug; writing them
// would create partitions nobody drops for years.
constexpr auto kMaxMonthsAhead = std::chrono::months(12);
constexpr size_t kMaxText = 200;  // bytes per text field; the columns hold names and ids
// Times outside [kEarliest, kLatest) are a caller bug (a default or max
// time_point): PostgreSQL refuses the extreme ones with a data exception,
// which would cost the whole batch, so record() turns them away.
constexpr SysTime kEarliest{std::chrono::sys_days{std::chrono::year{1970} / 1 / 1}};
constexpr SysTime kLatest{std::chrono::sys_days{std::chrono::year{9999} / 1 / 1}};

// Times in parallel arrays as µs since the epoch: the db layer binds
// bigint[] but not timestamptz[]. Booleans travel as 0/1 for the same
// reason. Every value is clamped to its column's range in C++ (the table has
// no CHECK constraints: see sql/0004_ai_usage.sql).
constexpr const char* kInsert = R"(
INSERT INTO ai.usage (at, workspace_id, task, deployment, model, input_tokens, output_tokens, cost_micros,
                      latency_us, ttft_us, cache_hit, attempts, outcome, request_id)
SELECT 'epoch'::timestamptz + u.at_us * interval '1 microsecond', NULLIF(u.workspace, '')::uuid, u.task,
       NULLIF(u.deployment, ''), u.model, u.input_tokens::integer, u.output_tokens::integer, u.cost_micros,
       u.latency_us::integer, u.ttft_us::integer, u.cache_hit <> 0, u.attempts::smallint, u.outcome,
       NULLIF(u.request_id, '')
  FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[],
              $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::text[], $14::text[])
       AS u(at_us, workspace, task, deployment, model, input_tokens, output_tokens, cost_micros, latency_us,
            ttft_us, cache_hit, attempts, outcome, request_id))";

constexpr const char* kInsertSamples = R"(
INSERT INTO ai.prompt_samples (at, workspace_id, task, model, request_id, request, response)
SELECT 'epoch'::timestamptz + u.at_us * interval '1 microsecond', NULLIF(u.workspace, '')::uuid, u.task, u.model,
       NULLIF(u.request_id, ''), u.request, u.response
  FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
       AS u(at_us, workspace, task, model, request_id, request, response))";

int64_t clamp(int64_t v, int64_t hi) { return std::clamp<int64_t>(v, 0, hi); }
constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kInt16Max = std::numeric_limits<int16_t>::max();

// Sampled bodies waiting in the queue at most (they are already cut to
// kMaxSampleRequestBytes + kMaxSampleResponseBytes each): while the database
// is away, later rows are queued without their samples.
constexpr size_t kMaxPendingSampleBytes = 64 << 20;

size_t sample_bytes(const UsageRecord& r) {
  return r.sample ? r.sample->request.size() + r.sample->response.size() : 0;
}

// Whole valid UTF-8 characters only, no NUL, at most kMaxText bytes: text
// that PostgreSQL rejects would fail the batch it is in every time.
void clean_text(std::string& s) {
  bool plain = s.size() <= kMaxText;
  for (size_t i = 0; plain && i < s.size(); ++i) plain = s[i] > 0;  // ASCII without NUL (char may be signed)
  if (!plain) s = clean_utf8(s, kMaxText);
}

// At most one log line per minute for a given kind of trouble, from any thread.
class RateLimit {
 public:
  bool allow() noexcept {
    const int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
    const int64_t every = std::chrono::duration_cast<std::chrono::steady_clock::duration>(1min).count();
    int64_t last = last_.load(std::memory_order_relaxed);
    return (last == kNever || now - last >= every) && last_.compare_exchange_strong(last, now);
  }

 private:
  static constexpr int64_t kNever = std::numeric_limits<int64_t>::min();
  std::atomic<int64_t> last_{kNever};
};

// A failed write as the log reports it: the SQLSTATE ("" when the server did
// not report the failure) and the message.
struct Failure {
  std::string sqlstate, message;
};

Failure describe(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const db::DbError& err) {
    return {err.sqlstate(), err.what()};
  } catch (const std::exception& err) {
    return {"", err.what()};
  } catch (...) {
  }
  return {"", "unknown error"};
}

}  // namespace

struct UsageLog::Impl : std::enable_shared_from_this<UsageLog::Impl> {
  Impl(asio::any_io_executor executor, db::Database& database, const Clock& clk, metrics::Registry& registry,
       UsageLogConfig cfg)
      : strand(asio::make_strand(executor)),
        db(database),
        clock(clk),
        config(cfg),
        written(registry.counter("huntaze_ai_usage_rows_written_total", "AI usage rows written to ai.usage").with({})),
        dropped(registry
                    .counter("huntaze_ai_usage_rows_dropped_total",
                             "AI usage rows given up: queue full, invalid workspace, or unwritable")
                    .with({})),
        failures(registry.counter("huntaze_ai_usage_write_failures_total", "Failed AI usage batch writes").with({})),
        pending_gauge(registry.gauge("huntaze_ai_usage_pending", "AI usage rows waiting to be written").with({})),
        samples_written(registry
                            .counter("huntaze_ai_prompt_samples_total", "Sampled AI prompts by what became of them",
                                     {"result"})
                            .with({"written"})),
        samples_lost(registry.counter("huntaze_ai_prompt_samples_total", "", {"result"}).with({"lost"})),
        tick(strand),
        writer_free(strand, asio::steady_timer::time_point::max()),
        loop_done(strand, asio::steady_timer::time_point::max()) {
    config.batch = std::max(config.batch, 1);
    config.flush_every = std::max(config.flush_every, std::chrono::milliseconds(1));
  }

  asio::strand<asio::any_io_executor> strand;
  db::Database& db;
  const Clock& clock;
  UsageLogConfig config;
  metrics::Counter& written;
  metrics::Counter& dropped;
  metrics::Counter& failures;
  metrics::Gauge& pending_gauge;
  metrics::Counter& samples_written;
  metrics::Counter& samples_lost;

  mutable std::mutex mutex;
  std::deque<UsageRecord> queue;  // oldest first; guarded by mutex
  size_t pending_sample_bytes = 0;  // of the samples in queue; guarded by mutex
  std::atomic<bool> wake_posted{false};
  std::atomic<bool> loop_alive{false};
  RateLimit rejected_warning, full_warning;

  // Touched on the strand only. writer_free and loop_done keep their
  // expiry at max forever: cancel() wakes every waiter, and re-arming one
  // would cancel the waits of the others.
  asio::steady_timer tick;
  asio::steady_timer writer_free;
  asio::steady_timer loop_done;
  bool writing = false;
  bool running = false;
  bool stopping = false;
  bool backing_off = false;

  // ---- the request path -----------------------------------------------------

  void record(UsageRecord r) {
    for (auto* s : {&r.task, &r.deployment, &r.model, &r.outcome, &r.request_id}) clean_text(*s);
    const char* invalid = !r.workspace.empty() && !Uuid::parse(r.workspace) ? "workspace is not a UUID"
                          : r.at < kEarliest || r.at >= kLatest                ? "time out of range"
                                                                               : nullptr;
    if (invalid) {
      dropped.inc();
      if (rejected_warning.allow())
        log::warn("ai usage row dropped (logged once a minute at most)",
                  {{"reason", invalid}, {"task", r.task}, {"request_id", r.request_id}});
      return;
    }
    // Cut before queueing: the queue holds rows, not request bodies.
    if (r.sample)
      r.sample = std::make_shared<const UsageRecord::Sample>(UsageRecord::Sample{
          clean_utf8(r.sample->request, kMaxSampleRequestBytes), clean_utf8(r.sample->response, kMaxSampleResponseBytes)});
    size_t size = 0;
    bool sample_dropped = false;
    {
      std::lock_guard lock(mutex);
      if (queue.size() < config.max_pending) {
        if (r.sample && pending_sample_bytes + sample_bytes(r) > kMaxPendingSampleBytes) {
          r.sample.reset();  // the row matters more than its sample
          sample_dropped = true;
        }
        pending_sample_bytes += sample_bytes(r);
        queue.push_back(std::move(r));
        size = queue.size();
      }
      pending_gauge.set(static_cast<double>(queue.size()));
    }
    if (sample_dropped) samples_lost.inc();
    if (size == 0) {
      dropped.inc();
      if (full_warning.allow())
        log::warn("ai usage rows dropped: too many waiting to be written (logged once a minute at most)",
                  {{"max_pending", static_cast<uint64_t>(config.max_pending)}});
      return;
    }
    // A full batch need not wait for the tick.
    if (size >= static_cast<size_t>(config.batch) && loop_alive.load() && !wake_posted.exchange(true)) {
      asio::post(strand, [self = shared_from_this()] {
        self->wake_posted = false;
        if (!self->backing_off) self->tick.cancel();
      });
    }
  }

  size_t pending() const {
    std::lock_guard lock(mutex);
    return queue.size();
  }

  std::vector<UsageRecord> take(size_t n) {
    std::vector<UsageRecord> rows;
    std::lock_guard lock(mutex);
    n = std::min(n, queue.size());
    rows.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      pending_sample_bytes -= sample_bytes(queue.front());
      rows.push_back(std::move(queue.front()));
      queue.pop_front();
    }
    pending_gauge.set(static_cast<double>(queue.size()));
    return rows;
  }

  // Puts a failed batch back in front (it is older than what is queued),
  // dropping the oldest rows beyond max_pending.
  void put_back(std::vector<UsageRecord>& rows) {
    size_t lost = 0;
    {
      std::lock_guard lock(mutex);
      for (const auto& r : rows) pending_sample_bytes += sample_bytes(r);
      queue.insert(queue.begin(), std::make_move_iterator(rows.begin()), std::make_move_iterator(rows.end()));
      while (queue.size() > config.max_pending) {
        pending_sample_bytes -= sample_bytes(queue.front());
        queue.pop_front();
        ++lost;
      }
      pending_gauge.set(static_cast<double>(queue.size()));
    }
    rows.clear();
    if (lost > 0) {
      dropped.inc(static_cast<double>(lost));
      log::warn("ai usage rows dropped: too many waiting after failed writes", {{"dropped", lost}});
    }
  }

  // ---- writing (on the strand) ---------------------------------------------

  asio::awaitable<void> insert(const std::vector<UsageRecord>& rows) {
    std::vector<int64_t> at, input, output, cost, latency, ttft, cache_hit, attempts;
    std::vector<std::string> workspace, task, deployment, model, outcome, request_id;
    for (auto* v : {&at, &input, &output, &cost, &latency, &ttft, &cache_hit, &attempts}) v->reserve(rows.size());
    for (auto* v : {&workspace, &task, &deployment, &model, &outcome, &request_id}) v->reserve(rows.size());
    for (const auto& r : rows) {
      at.push_back(r.at.time_since_epoch().count());
      workspace.push_back(r.workspace);
      task.push_back(r.task);
      deployment.push_back(r.deployment);
      model.push_back(r.model);
      input.push_back(clamp(r.input_tokens, kInt32Max));
      output.push_back(clamp(r.output_tokens, kInt32Max));
      cost.push_back(std::max<int64_t>(r.cost_micros, 0));
      latency.push_back(clamp(r.latency.count(), kInt32Max));
      ttft.push_back(clamp(r.time_to_first_token.count(), kInt32Max));
      cache_hit.push_back(r.cache_hit ? 1 : 0);
      attempts.push_back(clamp(r.attempts, kInt16Max));
      outcome.push_back(r.outcome);
      request_id.push_back(r.request_id);
    }
    co_await db.query(kInsert, std::move(at), std::move(workspace), std::move(task), std::move(deployment),
                      std::move(model), std::move(input), std::move(output), std::move(cost), std::move(latency),
                      std::move(ttft), std::move(cache_hit), std::move(attempts), std::move(outcome),
                      std::move(request_id));
    co_await insert_samples(rows);
  }

  // The sampled bodies of rows just written. Best effort: the usage rows are
  // in, so a failure here loses the samples rather than writing the rows twice.
  asio::awaitable<void> insert_samples(const std::vector<UsageRecord>& rows) {
    std::vector<int64_t> at;
    std::vector<std::string> workspace, task, model, request_id, request, response;
    for (const auto& r : rows) {
      if (!r.sample) continue;
      at.push_back(r.at.time_since_epoch().count());
      workspace.push_back(r.workspace);
      task.push_back(r.task);
      model.push_back(r.model);
      request_id.push_back(r.request_id);
      request.push_back(r.sample->request);  // cleaned and cut by record()
      response.push_back(r.sample->response);
    }
    if (at.empty()) co_return;
    const size_t n = at.size();
    std::exception_ptr failure;
    try {
      co_await db.query(kInsertSamples, std::move(at), std::move(workspace), std::move(task), std::move(model),
                        std::move(request_id), std::move(request), std::move(response));
      samples_written.inc(static_cast<double>(n));
      co_return;
    } catch (...) {
      failure = std::current_exception();
    }
    samples_lost.inc(static_cast<double>(n));
    log::warn("ai prompt samples lost", {{"samples", n}, {"error", describe(failure).message}});
  }

  // An insert found no partition for some row. Rows of months already past
  // retention are dropped (their partition would be dropped again), rows
  // absurdly far ahead too; the months of the others are created.
  asio::awaitable<void> create_partitions(std::vector<UsageRecord>& rows) {
    const SysTime now = clock.now();
    const auto latest = usage_month(now) + kMaxMonthsAhead;
    std::set<std::chrono::year_month> months;
    std::vector<UsageRecord> kept;
    kept.reserve(rows.size());
    for (auto& r : rows) {
      const auto m = usage_month(r.at);
      if (usage_month_expired(m, now, config.retention) || m > latest) continue;
      months.insert(m);
      kept.push_back(std::move(r));
    }
    const size_t lost = rows.size() - kept.size();
    rows = std::move(kept);
    if (lost > 0) {
      dropped.inc(static_cast<double>(lost));
      log::warn("ai usage rows dropped: outside the partition window (past retention or over a year ahead)",
                {{"dropped", lost}});
    }
    const std::vector<std::chrono::year_month> wanted(months.begin(), months.end());
    if (!wanted.empty()) co_await ensure_usage_partitions(db, wanted);
  }

  // One batch, once (plus one immediate retry after creating partitions).
  // Returns the failure, or null when the rows were written or given up.
  asio::awaitable<std::exception_ptr> write_batch(std::vector<UsageRecord>& rows) {
    std::exception_ptr failure;
    try {
      co_await insert(rows);
    } catch (...) {
      failure = std::current_exception();
    }
    if (failure && describe(failure).sqlstate == "23514") {
      failure = nullptr;
      try {
        co_await create_partitions(rows);
        if (!rows.empty()) co_await insert(rows);
      } catch (...) {
        failure = std::current_exception();
      }
    }
    if (!failure) {
      written.inc(static_cast<double>(rows.size()));
      co_return nullptr;
    }
    failures.inc();
    const Failure why = describe(failure);
    if (why.sqlstate.starts_with("22")) {
      // A data exception does not go away by retrying; keeping the batch
      // would block every row behind it.
      dropped.inc(static_cast<double>(rows.size()));
      log::error("ai usage batch dropped: the database rejected its data",
                 {{"rows", rows.size()}, {"sqlstate", why.sqlstate}, {"error", why.message}});
      rows.clear();
    } else {
      log::warn("ai usage batch write failed; rows kept for a retry",
                {{"rows", rows.size()}, {"sqlstate", why.sqlstate}, {"error", why.message}});
      put_back(rows);
    }
    co_return failure;
  }

  // Writes everything pending, one writer at a time.
  asio::awaitable<std::exception_ptr> write_all() {
    while (writing) co_await writer_free.async_wait(as_tuple_awaitable);
    writing = true;
    std::exception_ptr failure;
    try {
      for (;;) {
        auto rows = take(static_cast<size_t>(config.batch));
        if (rows.empty()) break;
        failure = co_await write_batch(rows);
        if (failure) break;
      }
    } catch (...) {
      failure = std::current_exception();  // nothing above should throw; keep the writer role released
    }
    writing = false;
    writer_free.cancel();
    co_return failure;
  }

  // ---- the loop and its lifecycle (on the strand) --------------------------

  asio::awaitable<void> run() {
    std::chrono::milliseconds pause = config.flush_every;
    while (!stopping) {
      tick.expires_after(pause);
      co_await tick.async_wait(as_tuple_awaitable);
      if (stopping) break;
      auto failure = co_await write_all();
      backing_off = failure != nullptr;
      pause = !backing_off ? config.flush_every
                           : std::min<std::chrono::milliseconds>(
                                 std::max<std::chrono::milliseconds>(pause * 2, kRetryPause), kMaxRetryPause);
    }
  }

  asio::awaitable<void> start() {
    if (running || stopping) co_return;
    running = true;
    loop_alive = true;
    asio::co_spawn(strand, run(), [self = shared_from_this()](std::exception_ptr e) {
      if (e) log::error("ai usage loop failed", {{"error", describe(e).message}});
      asio::post(self->strand, [self] {
        self->running = false;
        self->loop_alive = false;
        self->loop_done.cancel();
      });
    });
    co_return;
  }

  asio::awaitable<void> stop() {
    stopping = true;
    tick.cancel();
    while (running) co_await loop_done.async_wait(as_tuple_awaitable);
    const size_t waiting = pending();
    auto failure = co_await write_all();
    if (failure)
      log::error("ai usage rows not written at shutdown", {{"rows", pending()}, {"error", describe(failure).message}});
    else if (waiting > 0)
      log::info("ai usage log flushed at shutdown", {{"rows", waiting}});
  }
};

UsageLog::UsageLog(asio::any_io_executor executor, db::Database& db, const Clock& clock, metrics::Registry& metrics,
                   UsageLogConfig config)
    : impl_(std::make_shared<Impl>(std::move(executor), db, clock, metrics, config)) {}

UsageLog::~UsageLog() {
  // stop() should have run; if it has not, at least make the loop end at its
  // next wake instead of ticking forever.
  if (impl_->loop_alive.load()) {
    log::error("ai usage log destroyed without stop(); pending rows are lost",
               {{"rows", impl_->pending()}});
    asio::post(impl_->strand, [impl = impl_] {
      impl->stopping = true;
      impl->tick.cancel();
    });
  }
}

bool UsageLog::sample() noexcept {
  const double rate = impl_->config.sample_rate;
  if (rate <= 0) return false;
  if (rate >= 1) return true;
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0, 1)(rng) < rate;
}

void UsageLog::record(UsageRecord record) noexcept {
  try {
    impl_->record(std::move(record));
  } catch (...) {
    impl_->dropped.inc();  // allocation failure: the row is lost, the caller is not
  }
}

asio::awaitable<void> UsageLog::start() {
  auto impl = impl_;
  co_await asio::co_spawn(impl->strand, impl->start(), asio::use_awaitable);
}

asio::awaitable<void> UsageLog::stop() {
  auto impl = impl_;
  co_await asio::co_spawn(impl->strand, impl->stop(), asio::use_awaitable);
}

asio::awaitable<void> UsageLog::flush() {
  auto impl = impl_;
  auto failure = co_await asio::co_spawn(impl->strand, impl->write_all(), asio::use_awaitable);
  if (failure) std::rethrow_exception(failure);
}

size_t UsageLog::pending() const { return impl_->pending(); }

}  // namespace huntaze::ai_router
