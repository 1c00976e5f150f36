#include "pool_core.hpp"

#include <algorithm>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include "huntaze/core/log.hpp"

namespace huntaze::db::pg {

using Clock = std::chrono::steady_clock;

// A coroutine waiting for a connection. Its timer doubles as the wake-up
// call: it fires at the deadline, and release() cancels it early after
// filling in `grant`. Every field and every use of the timer is under the
// pool mutex.
struct PoolCore::Waiter {
  Waiter(const asio::any_io_executor& executor, Clock::time_point deadline) : timer(executor, deadline) {}
  bool resolved() const { return grant.conn || grant.slot || closed; }

  asio::steady_timer timer;
  Grant grant;
  bool closed = false;
};

// Gives up a waiter whose coroutine is destroyed while suspended (the
// io_context shut down), so that what it was granted is not lost.
class PoolCore::WaitGuard {
 public:
  WaitGuard(PoolCore& pool, std::shared_ptr<Waiter> waiter) : pool_(pool), waiter_(std::move(waiter)) {}
  ~WaitGuard() {
    if (!done) pool_.abandon(waiter_);
  }
  WaitGuard(const WaitGuard&) = delete;
  WaitGuard& operator=(const WaitGuard&) = delete;
  bool done = false;

 private:
  PoolCore& pool_;
  std::shared_ptr<Waiter> waiter_;
};

Lease& Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    reset();
    pool_ = std::move(other.pool_);
    conn_ = std::move(other.conn_);
  }
  return *this;
}

void Lease::reset() noexcept {
  if (conn_) pool_->release(std::move(conn_));
  pool_.reset();
}

PoolCore::PoolCore(asio::any_io_executor executor, DatabaseConfig config, metrics::Registry& registry)
    : executor_(std::move(executor)),
      config_(std::move(config)),
      options_{config_.url.reveal(), config_.connect_timeout, config_.statement_timeout},
      idle_gauge_(registry.gauge("db_pool_connections", "PostgreSQL connections by state", {"state"}).with({"idle"})),
      busy_gauge_(registry.gauge("db_pool_connections", "PostgreSQL connections by state", {"state"}).with({"busy"})),
      waiting_gauge_(registry.gauge("db_pool_waiting", "Coroutines waiting for a PostgreSQL connection").with({})),
      timeouts_(registry
                    .counter("db_acquire_timeouts_total",
                             "Requests for a PostgreSQL connection that gave up after acquire_timeout")
                    .with({})),
      query_duration_(registry.histogram("db_query_duration_seconds", "PostgreSQL statement round trips", {}).with({})),
      reaper_(executor_) {
  registry.gauge("db_pool_max", "Maximum PostgreSQL connections (pool_max)").with({}).set(config_.pool_max);
  publish_locked();  // nobody else can see this object yet
}

PoolCore::~PoolCore() = default;

void PoolCore::start() {
  int fill = 0;
  {
    std::lock_guard lock(mutex_);
    while (!closed_ && open_ + opening_ < config_.pool_min) {
      ++opening_;
      ++fill;
    }
  }
  for (int i = 0; i < fill; ++i) asio::co_spawn(executor_, fill_one(shared_from_this()), asio::detached);
}

asio::awaitable<void> PoolCore::fill_one(std::shared_ptr<PoolCore> self) {
  std::unique_ptr<Connection> conn;
  try {
    conn = co_await Connection::open(self->executor_, self->options_);
  } catch (const std::exception& e) {
    log::warn("database connection failed", {{"error", e.what()}});
  }
  if (!conn) {
    std::lock_guard lock(self->mutex_);
    self->grant_slot_locked();
    self->publish_locked();
    co_return;
  }
  {
    std::lock_guard lock(self->mutex_);
    --self->opening_;
    ++self->open_;
  }
  self->release(std::move(conn));  // to the oldest waiter, or the idle list
}

asio::awaitable<Lease> PoolCore::acquire() {
  auto self = shared_from_this();
  std::unique_ptr<Connection> conn;
  std::shared_ptr<Waiter> waiter;
  {
    std::lock_guard lock(mutex_);
    if (closed_) throw closed_error();
    if (!idle_.empty()) {
      conn = std::move(idle_.back().conn);
      idle_.pop_back();
    } else if (open_ + opening_ < config_.pool_max) {
      ++opening_;  // our slot: open_in_slot() below
    } else {
      waiter = std::make_shared<Waiter>(executor_, Clock::now() + config_.acquire_timeout);
      waiters_.push_back(waiter);
    }
    publish_locked();
  }
  if (waiter) conn = (co_await wait(std::move(waiter))).conn;  // no connection means a slot

  // A connection that sat idle may have died meanwhile (server restart,
  // pg_terminate_backend): replace it without troubling the caller.
  while (conn && !conn->check_alive()) {
    log::info("discarding dead database connection");
    conn.reset();
    std::lock_guard lock(mutex_);
    --open_;
    if (closed_) {
      publish_locked();
      throw closed_error();
    }
    if (!idle_.empty()) {
      conn = std::move(idle_.back().conn);
      idle_.pop_back();
    } else {
      ++opening_;
    }
    publish_locked();
  }
  if (conn) co_return Lease(self, std::move(conn));
  co_return co_await open_in_slot();
}

asio::awaitable<PoolCore::Grant> PoolCore::wait(std::shared_ptr<Waiter> waiter) {
  WaitGuard guard(*this, waiter);
  boost::system::error_code ec;  // cancelled = woken early; either way the state below decides
  auto token = asio::redirect_error(asio::use_awaitable, ec);
  // The initiation captures a plain pointer (this frame keeps the waiter
  // alive): GCC 12 destroys a lambda temporary with non-trivial captures
  // twice when the coroutine later throws.
  co_await asio::async_initiate<decltype(token), void(boost::system::error_code)>(
      [this, w = waiter.get()](auto handler) {
        std::lock_guard lock(mutex_);
        // Served between queueing and now: complete at once.
        if (w->resolved()) w->timer.expires_at(Clock::time_point::min());
        w->timer.async_wait(std::move(handler));
      },
      token);

  std::lock_guard lock(mutex_);
  guard.done = true;
  if (waiter->grant.conn || waiter->grant.slot) co_return std::move(waiter->grant);
  if (waiter->closed) throw closed_error();
  waiters_.erase(std::find(waiters_.begin(), waiters_.end(), waiter));
  publish_locked();
  // We only cancel the timer after granting or closing, so an aborted wait
  // with neither was cancelled by the caller (e.g. a `||` timeout).
  if (ec == asio::error::operation_aborted) throw boost::system::system_error(ec);
  // The deadline passed and nothing was handed over.
  timeouts_.inc();
  throw DbUnavailable("no database connection available within " + std::to_string(config_.acquire_timeout.count()) +
                      " ms (all " + std::to_string(config_.pool_max) + " in use)");
}

void PoolCore::abandon(const std::shared_ptr<Waiter>& waiter) noexcept {
  std::unique_ptr<Connection> conn;
  {
    std::lock_guard lock(mutex_);
    if (auto it = std::find(waiters_.begin(), waiters_.end(), waiter); it != waiters_.end()) waiters_.erase(it);
    conn = std::move(waiter->grant.conn);
    if (waiter->grant.slot) {
      waiter->grant.slot = false;
      grant_slot_locked();
    }
    publish_locked();
  }
  if (conn) release(std::move(conn));
}

asio::awaitable<Lease> PoolCore::open_in_slot() {
  auto self = shared_from_this();
  std::unique_ptr<Connection> conn;
  std::exception_ptr failure;
  try {
    conn = co_await Connection::open(executor_, options_);
  } catch (...) {
    failure = std::current_exception();
  }
  bool closed = false;
  {
    std::lock_guard lock(mutex_);
    if (conn) {
      --opening_;
      ++open_;
    } else {
      // Pass the slot on: the next waiter tries too (and fails as fast
      // when the server is down) instead of waiting out its deadline.
      grant_slot_locked();
    }
    closed = closed_;
    publish_locked();
  }
  if (failure) std::rethrow_exception(failure);
  Lease lease(self, std::move(conn));
  if (closed) throw closed_error();  // the lease discards the connection
  co_return lease;
}

void PoolCore::release(std::unique_ptr<Connection> conn) noexcept {
  const bool keep = conn->reusable();
  std::unique_ptr<Connection> discard;  // closed after unlocking
  {
    std::lock_guard lock(mutex_);
    if (!keep || closed_) {
      discard = std::move(conn);
      --open_;
      ++opening_;           // the freed capacity becomes a slot...
      grant_slot_locked();  // ...for the oldest waiter, if any
    } else if (!waiters_.empty()) {
      auto waiter = std::move(waiters_.front());
      waiters_.pop_front();
      waiter->grant.conn = std::move(conn);
      waiter->timer.cancel();
    } else {
      idle_.push_back(Idle{std::move(conn), Clock::now()});
      arm_reaper_locked();
    }
    publish_locked();
  }
  if (discard) log::debug("discarded database connection");
}

void PoolCore::grant_slot_locked() {
  if (!closed_ && !waiters_.empty()) {
    auto waiter = std::move(waiters_.front());
    waiters_.pop_front();
    waiter->grant.slot = true;
    waiter->timer.cancel();
  } else {
    --opening_;
  }
}

void PoolCore::close() {
  std::deque<Idle> idle;  // closed after unlocking
  std::vector<std::function<void()>> hooks;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    closed_ = true;
    idle.swap(idle_);
    open_ -= static_cast<int>(idle.size());
    for (auto& waiter : waiters_) {
      waiter->closed = true;
      waiter->timer.cancel();
    }
    waiters_.clear();
    reaper_.cancel();
    reaper_armed_ = false;
    hooks.swap(close_hooks_);
    publish_locked();
  }
  for (auto& hook : hooks) hook();
}

void PoolCore::on_close(std::function<void()> hook) {
  {
    std::lock_guard lock(mutex_);
    if (!closed_) {
      close_hooks_.push_back(std::move(hook));
      return;
    }
  }
  hook();
}

void PoolCore::arm_reaper_locked() {
  if (reaper_armed_ || closed_ || idle_.empty() || open_ <= config_.pool_min) return;
  reaper_armed_ = true;
  reaper_.expires_at(idle_.front().since + config_.idle_timeout);
  // Weak: a pending reaper must not keep a discarded pool alive.
  reaper_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->reap();
  });
}

void PoolCore::reap() {
  std::vector<std::unique_ptr<Connection>> expired;  // closed after unlocking
  {
    std::lock_guard lock(mutex_);
    reaper_armed_ = false;
    const auto now = Clock::now();
    while (!idle_.empty() && open_ > config_.pool_min && idle_.front().since + config_.idle_timeout <= now) {
      expired.push_back(std::move(idle_.front().conn));
      idle_.pop_front();
      --open_;
    }
    arm_reaper_locked();
    publish_locked();
  }
  if (!expired.empty()) log::debug("closed idle database connections", {{"count", static_cast<int>(expired.size())}});
}

void PoolCore::publish_locked() {
  idle_gauge_.set(static_cast<double>(idle_.size()));
  busy_gauge_.set(static_cast<double>(open_ - static_cast<int>(idle_.size())));
  waiting_gauge_.set(static_cast<double>(waiters_.size()));
}

PoolStats PoolCore::stats() const {
  std::lock_guard lock(mutex_);
  return PoolStats{open_, static_cast<int>(idle_.size()), static_cast<int>(waiters_.size()), config_.pool_max};
}

void PoolCore::observe_query(std::chrono::steady_clock::duration elapsed) noexcept {
  query_duration_.observe(std::chrono::duration<double>(elapsed).count());
}

DbUnavailable PoolCore::closed_error() const {
  return DbUnavailable("the database pool is closed");
}

}  // namespace huntaze::db::pg
