// The connection pool's bookkeeping: idle connections, growth up to
// pool_max, FIFO waiters with a deadline, idle reaping and the pool metrics.
//
// A checked-out connection travels in a Lease; destroying the Lease gives it
// back, and the pool keeps it only if it is clean (idle, no transaction, not
// broken). Waiters are served in arrival order: release() hands a connection
// (or, when one was discarded, the right to open a new one) straight to the
// oldest waiter instead of putting it on the idle list.
//
// Thread-safety: every member is safe from any thread; one mutex guards the
// state, and nothing blocks or awaits while holding it.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "huntaze/core/metrics.hpp"
#include "huntaze/db/config.hpp"
#include "huntaze/db/database.hpp"
#include "pg_connection.hpp"

namespace huntaze::db::pg {

class PoolCore;

class Lease {
 public:
  Lease() = default;
  Lease(std::shared_ptr<PoolCore> pool, std::unique_ptr<Connection> conn)
      : pool_(std::move(pool)), conn_(std::move(conn)) {}
  Lease(Lease&&) noexcept = default;
  Lease& operator=(Lease&& other) noexcept;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease() { reset(); }

  Connection* operator->() const { return conn_.get(); }
  Connection& operator*() const { return *conn_; }
  explicit operator bool() const { return conn_ != nullptr; }
  // Gives the connection back now.
  void reset() noexcept;

 private:
  std::shared_ptr<PoolCore> pool_;
  std::unique_ptr<Connection> conn_;
};

class PoolCore : public std::enable_shared_from_this<PoolCore> {
 public:
  PoolCore(asio::any_io_executor executor, DatabaseConfig config, metrics::Registry& metrics);
  ~PoolCore();

  // Opens pool_min connections in the background.
  void start();
  // A connection within acquire_timeout, or DbUnavailable.
  asio::awaitable<Lease> acquire();
  // Called by Lease: keeps a clean connection, discards anything else.
  void release(std::unique_ptr<Connection> conn) noexcept;
  // Refuses new work, wakes waiters with DbUnavailable, closes idle
  // connections and runs the registered close hooks (listeners).
  void close();
  void on_close(std::function<void()> hook);

  PoolStats stats() const;
  void observe_query(std::chrono::steady_clock::duration elapsed) noexcept;
  const ConnectOptions& connect_options() const { return options_; }
  const asio::any_io_executor& executor() const { return executor_; }

 private:
  struct Waiter;
  struct Grant {
    std::unique_ptr<Connection> conn;  // a connection handed over, or...
    bool slot = false;                 // ...the right to open one
  };
  struct Idle {
    std::unique_ptr<Connection> conn;
    std::chrono::steady_clock::time_point since;
  };
  class WaitGuard;

  static asio::awaitable<void> fill_one(std::shared_ptr<PoolCore> self);
  asio::awaitable<Grant> wait(std::shared_ptr<Waiter> waiter);
  asio::awaitable<Lease> open_in_slot();
  void abandon(const std::shared_ptr<Waiter>& waiter) noexcept;

  // Helpers that run under mutex_.
  void grant_slot_locked();  // a slot freed up: to the oldest waiter, else gone
  void arm_reaper_locked();
  void publish_locked();
  void reap();
  DbUnavailable closed_error() const;

  const asio::any_io_executor executor_;
  const DatabaseConfig config_;
  const ConnectOptions options_;

  metrics::Gauge& idle_gauge_;
  metrics::Gauge& busy_gauge_;
  metrics::Gauge& waiting_gauge_;
  metrics::Counter& timeouts_;
  metrics::Histogram& query_duration_;

  mutable std::mutex mutex_;
  std::deque<Idle> idle_;  // most recently used at the back; the reaper takes from the front
  std::deque<std::shared_ptr<Waiter>> waiters_;
  int open_ = 0;     // connections that exist (idle or checked out)
  int opening_ = 0;  // slots reserved for connections being opened
  bool closed_ = false;
  asio::steady_timer reaper_;
  bool reaper_armed_ = false;
  std::vector<std::function<void()>> close_hooks_;
};

}  // namespace huntaze::db::pg
