// Cron without a leader: every instance evaluates every schedule, and the
// database decides which instance enqueues a tick (see cron.hpp).
#include "huntaze/cron/cron.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <boost/system/system_error.hpp>
#include <limits>
#include <map>
#include <mutex>
#include <stdexcept>

#include "cron/cron_expr.hpp"
#include "cron/schedule_name.hpp"
#include "huntaze/core/log.hpp"
#include "huntaze/core/time_format.hpp"

namespace huntaze::cron {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

// Creates the row on first sight with last_tick = the tick that is due now,
// so a new schedule waits for its next tick instead of firing at start-up.
// Later calls only refresh what the code says the schedule is (no write
// when nothing changed).
constexpr const char* kEnsureRow =
    "INSERT INTO jobs.schedules AS s (name, spec, timezone, kind, last_tick, updated_at) "
    "VALUES ($1, $2, $3, $4, $5, $6) "
    "ON CONFLICT (name) DO UPDATE SET spec = EXCLUDED.spec, timezone = EXCLUDED.timezone, kind = EXCLUDED.kind, "
    "updated_at = EXCLUDED.updated_at "
    "WHERE (s.spec, s.timezone, s.kind) IS DISTINCT FROM (EXCLUDED.spec, EXCLUDED.timezone, EXCLUDED.kind)";

// The claim. Under READ COMMITTED a second instance blocks on the row lock,
// then re-checks the condition against the committed row and finds the tick
// taken: each tick is claimed once.
constexpr const char* kClaim =
    "UPDATE jobs.schedules SET last_tick = $2, updated_at = $3 "
    "WHERE name = $1 AND (last_tick IS NULL OR last_tick < $2) RETURNING name";

constexpr const char* kSetLastJob = "UPDATE jobs.schedules SET last_job_id = $2 WHERE name = $1";

constexpr const char* kList = "SELECT name, last_tick, last_job_id FROM jobs.schedules WHERE name = ANY($1)";

bool is_cancellation(const boost::system::system_error& e) {
  return e.code() == asio::error::operation_aborted;
}

}  // namespace

struct Cron::Impl {
  struct Entry {
    Entry(Schedule s, CronExpr x, const date::time_zone* z, boost::json::object p, bool on)
        : schedule(std::move(s)), expr(x), zone(z), payload(std::move(p)), enabled(on) {}

    Schedule schedule;  // with the config override applied
    CronExpr expr;
    const date::time_zone* zone;
    boost::json::object payload;
    bool enabled;
    // The latest tick known to be claimed (by any instance), in microseconds
    // since the epoch: ticks up to it need no database round trip.
    std::atomic<int64_t> settled{std::numeric_limits<int64_t>::min()};
  };

  Impl(db::Database& d, jobs::JobQueue& q, const Clock& c, CronConfig cfg)
      : db(d), queue(q), clock(c), config(std::move(cfg)) {}

  db::Database& db;
  jobs::JobQueue& queue;
  const Clock& clock;
  CronConfig config;
  std::vector<std::unique_ptr<Entry>> entries;  // in registration order

  std::mutex mutex;  // guards timer and stopped across threads
  std::shared_ptr<asio::steady_timer> timer;
  std::atomic<bool> stopped{false};

  const Entry* find(const std::string& name) const {
    for (const auto& e : entries)
      if (e->schedule.name == name) return e.get();
    return nullptr;
  }

  // Overrides for names nobody registered are an operator's typo; they are
  // only detectable once every module has registered its schedules.
  void check_overrides() const {
    std::string unknown;
    for (const auto& [name, o] : config.schedules)
      if (!find(name)) unknown += (unknown.empty() ? "" : "; ") + ("cron.schedules." + name);
    if (!unknown.empty()) throw config::ConfigError(unknown + ": no such schedule");
  }

  static jobs::NewJob make_job(const Entry& e, SysTime tick, std::string unique_key) {
    boost::json::object payload = e.payload;
    payload["tick"] = format_iso8601(tick);
    jobs::NewJob job;
    job.kind = e.schedule.kind;
    job.payload = boost::json::serialize(payload);
    job.unique_key = std::move(unique_key);
    return job;
  }

  // Claims and enqueues the schedule's latest due tick; true when this call
  // inserted a job.
  asio::awaitable<bool> tick_one(Entry& e, SysTime now) {
    const SysTime latest = e.expr.latest_at_or_before(now, e.zone);
    const int64_t latest_us = latest.time_since_epoch().count();
    if (latest_us <= e.settled.load()) co_return false;

    const db::Timestamp latest_ts = latest;
    const db::Timestamp now_ts = now;
    co_await db.query(kEnsureRow, e.schedule.name, e.schedule.spec, e.schedule.timezone, e.schedule.kind, latest_ts,
                      now_ts);

    const std::string tick_text = format_iso8601(latest);
    auto claim = [&](db::Transaction& tx) -> asio::awaitable<std::optional<jobs::EnqueueResult>> {
      auto claimed = co_await tx.query(kClaim, e.schedule.name, latest_ts, now_ts);
      if (claimed.empty()) co_return std::nullopt;
      auto job = make_job(e, latest, "cron:" + e.schedule.name + ":" + tick_text);
      const auto result = co_await queue.enqueue(tx, std::move(job));
      co_await tx.query(kSetLastJob, e.schedule.name, result.id);
      co_return std::optional<jobs::EnqueueResult>(result);
    };
    const auto enqueued = co_await db.transaction(claim);
    // Claimed here or by another instance: either way the tick is done.
    int64_t seen = e.settled.load();
    while (seen < latest_us && !e.settled.compare_exchange_weak(seen, latest_us)) {
    }
    if (!enqueued) co_return false;
    log::info("cron: tick enqueued", {{"module", "cron"},
                                      {"schedule", e.schedule.name},
                                      {"tick", tick_text},
                                      {"job_id", enqueued->id},
                                      {"inserted", enqueued->inserted}});
    co_return enqueued->inserted;
  }

  asio::awaitable<int> tick() {
    check_overrides();
    if (!config.enabled) co_return 0;
    const SysTime now = clock.now();
    int enqueued = 0;
    for (auto& e : entries) {
      if (!e->enabled) continue;
      try {
        if (co_await tick_one(*e, now)) ++enqueued;
      } catch (const boost::system::system_error& ex) {
        if (is_cancellation(ex)) throw;
        log::error("cron: tick failed", {{"module", "cron"}, {"schedule", e->schedule.name}, {"error", ex.what()}});
      } catch (const std::exception& ex) {
        log::error("cron: tick failed", {{"module", "cron"}, {"schedule", e->schedule.name}, {"error", ex.what()}});
      }
    }
    co_return enqueued;
  }

  // Until the next hh:mm:01, a second after a minute boundary, so the tick
  // of minute M is evaluated once M has begun on every instance's clock.
  // Bounded so that a clock that jumps (or a test's ManualClock) can neither
  // spin the loop nor park it for long.
  std::chrono::milliseconds delay_to_next_minute() const {
    const SysTime now = clock.now();
    SysTime target = std::chrono::floor<std::chrono::minutes>(now) + 1s;
    if (target <= now) target += 1min;
    const auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(target - now);
    return std::clamp<std::chrono::milliseconds>(delay, 100ms, 61s);
  }

  // Runs on a strand shared with stop()'s cancel, so the timer is never
  // touched from two threads at once.
  asio::awaitable<void> loop(std::shared_ptr<asio::steady_timer> t) {
    while (!stopped.load()) {
      t->expires_after(delay_to_next_minute());
      auto [ec] = co_await t->async_wait(asio::as_tuple(asio::use_awaitable));
      if (stopped.load()) break;
      if (ec) continue;  // cancelled by a stop() that raced with the check above
      try {
        co_await tick();
      } catch (const boost::system::system_error& ex) {
        if (is_cancellation(ex)) throw;
        log::error("cron: evaluation failed", {{"module", "cron"}, {"error", ex.what()}});
      } catch (const std::exception& ex) {
        log::error("cron: evaluation failed", {{"module", "cron"}, {"error", ex.what()}});
      }
    }
  }
};

Cron::Cron(db::Database& db, jobs::JobQueue& queue, const Clock& clock, CronConfig config)
    : impl_(std::make_unique<Impl>(db, queue, clock, std::move(config))) {}

Cron::~Cron() = default;

void Cron::add(Schedule schedule) {
  const std::string name = schedule.name;
  auto fail = [&](const std::string& what) -> void {
    throw std::invalid_argument("cron schedule \"" + name + "\": " + what);
  };
  if (!valid_schedule_name(name))
    throw std::invalid_argument("invalid cron schedule name \"" + name + "\" (" + kScheduleNameRule + ")");
  if (impl_->find(name)) fail("registered twice");

  bool enabled = true;
  if (auto it = impl_->config.schedules.find(name); it != impl_->config.schedules.end()) {
    if (it->second.spec) schedule.spec = *it->second.spec;
    if (it->second.timezone) schedule.timezone = *it->second.timezone;
    enabled = it->second.enabled;
  }
  if (schedule.kind.empty() || schedule.kind.size() > 128) fail("kind must be 1 to 128 characters");

  std::optional<CronExpr> expr;
  const date::time_zone* zone = nullptr;
  try {
    expr = CronExpr::parse(schedule.spec);
    zone = find_zone(schedule.timezone);
  } catch (const std::invalid_argument& e) {
    fail(e.what());
  }

  boost::system::error_code ec;
  auto payload = boost::json::parse(schedule.payload, ec);
  if (ec || !payload.is_object()) fail("payload must be a JSON object");

  impl_->entries.push_back(
      std::make_unique<Impl::Entry>(std::move(schedule), *expr, zone, std::move(payload.as_object()), enabled));
}

void Cron::check_overrides() const {
  impl_->check_overrides();
}

asio::awaitable<int> Cron::tick() {
  return impl_->tick();
}

asio::awaitable<void> Cron::run() {
  Impl& impl = *impl_;
  try {
    impl.check_overrides();  // a configuration error: fail at start-up, not every minute
  } catch (const config::ConfigError& e) {
    // Logged as well: run() is often spawned detached.
    log::error("cron: not started", {{"module", "cron"}, {"error", e.what()}});
    throw;
  }
  if (!impl.config.enabled) {
    log::info("cron: disabled in this process (cron.enabled = false)", {{"module", "cron"}});
    co_return;
  }
  auto strand = asio::make_strand(co_await asio::this_coro::executor);
  auto timer = std::make_shared<asio::steady_timer>(strand);
  {
    std::lock_guard lock(impl.mutex);
    if (impl.stopped.load()) co_return;
    impl.timer = timer;
  }
  std::exception_ptr failure;
  try {
    co_await asio::co_spawn(strand, impl.loop(timer), asio::use_awaitable);
  } catch (...) {
    failure = std::current_exception();
  }
  {
    std::lock_guard lock(impl.mutex);
    impl.timer.reset();
  }
  if (failure) std::rethrow_exception(failure);
}

void Cron::stop() {
  std::shared_ptr<asio::steady_timer> timer;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopped.store(true);
    timer = impl_->timer;
  }
  // The cancel runs on the loop's strand; the loop re-checks `stopped`
  // before every wait, so a stop between check and wait is not lost.
  if (timer) asio::post(timer->get_executor(), [timer] { timer->cancel(); });
}

asio::awaitable<std::vector<ScheduleInfo>> Cron::list() {
  std::vector<std::string> names;
  for (const auto& e : impl_->entries) names.push_back(e->schedule.name);
  auto rows = co_await impl_->db.query(kList, std::move(names));
  std::map<std::string, std::pair<std::optional<SysTime>, std::optional<int64_t>>> stored;
  for (const auto& row : rows)
    stored[row.get<std::string>(0)] = {row.get<std::optional<db::Timestamp>>(1), row.get<std::optional<int64_t>>(2)};

  const SysTime now = impl_->clock.now();
  std::vector<ScheduleInfo> out;
  out.reserve(impl_->entries.size());
  for (const auto& e : impl_->entries) {
    ScheduleInfo info;
    info.name = e->schedule.name;
    info.spec = e->schedule.spec;
    info.timezone = e->schedule.timezone;
    info.kind = e->schedule.kind;
    info.enabled = e->enabled;
    if (auto it = stored.find(info.name); it != stored.end()) {
      info.last_tick = it->second.first;
      info.last_job_id = it->second.second;
    }
    info.next_tick = e->expr.next_after(now, e->zone);
    out.push_back(std::move(info));
  }
  co_return out;
}

asio::awaitable<std::optional<jobs::EnqueueResult>> Cron::run_now(const std::string& name) {
  const Impl::Entry* e = impl_->find(name);
  if (!e) co_return std::nullopt;
  const SysTime now = impl_->clock.now();
  auto job = Impl::make_job(*e, now, "cron:" + name + ":manual:" + format_iso8601(now));
  const auto result = co_await impl_->queue.enqueue(impl_->db, std::move(job));
  co_return std::optional<jobs::EnqueueResult>(result);
}

}  // namespace huntaze::cron
