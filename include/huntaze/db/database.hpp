// The PostgreSQL seam every module uses: a pool of non-blocking connections
// driven by the io_context.
//
//   auto res = co_await db.query("SELECT 1");
//   co_await db.transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
//     co_await tx.query("INSERT ...", a, b);
//     co_await tx.query("INSERT ...", c);
//   });  // committed; an exception inside rolls back and propagates
//
// Errors: DbError for anything PostgreSQL reports (sqlstate() tells which, so
// a unique violation can become 409); DbUnavailable (an ApiError, 503
// database_unavailable) when no connection can be had within the pool's
// acquire timeout or the server cannot be reached.
//
// Thread-safety: Database is safe to use from any number of coroutines on any
// thread. A Transaction belongs to the one coroutine that began it.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <concepts>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include "huntaze/core/error.hpp"
#include "huntaze/db/result.hpp"
#include "huntaze/db/value.hpp"

namespace huntaze::db {

namespace asio = boost::asio;

class DbError : public std::runtime_error {
 public:
  DbError(std::string message, std::string sqlstate) : std::runtime_error(std::move(message)), sqlstate_(std::move(sqlstate)) {}
  // Five-character SQLSTATE, empty when the failure was not reported by the server.
  const std::string& sqlstate() const noexcept { return sqlstate_; }
  bool is_unique_violation() const noexcept { return sqlstate_ == "23505"; }
  bool is_foreign_key_violation() const noexcept { return sqlstate_ == "23503"; }
  bool is_query_canceled() const noexcept { return sqlstate_ == "57014"; }  // statement_timeout too
  bool is_serialization_failure() const noexcept { return sqlstate_ == "40001" || sqlstate_ == "40P01"; }

 private:
  std::string sqlstate_;
};

class DbUnavailable : public ApiError {
 public:
  explicit DbUnavailable(std::string message) : ApiError(503, "database_unavailable", std::move(message)) {}
};

// Something that runs statements: the pool itself or an open transaction.
class Executor {
 public:
  virtual ~Executor() = default;
  // One statement with bind parameters ($1, $2, ...), prepared and cached per
  // connection on first use.
  virtual asio::awaitable<Result> query(std::string_view sql, Params params = {}) = 0;

  // The same with the parameters listed directly: query(sql, a, b, c).
  // Prefer this inside coroutines: GCC 12 miscompiles a braced list
  // ({a, b}) written inside a co_await expression.
  template <class First, class... Rest>
    requires(!std::same_as<std::remove_cvref_t<First>, Params>)
  asio::awaitable<Result> query(std::string_view sql, First&& first, Rest&&... rest) {
    return query(sql, Params{Param(std::forward<First>(first)), Param(std::forward<Rest>(rest))...});
  }
  // Several statements without parameters (simple query protocol), e.g. a
  // migration file. Never pass user input here.
  virtual asio::awaitable<void> execute_script(std::string_view sql) = 0;
};

class Transaction : public Executor {
 public:
  virtual asio::awaitable<void> commit() = 0;
  virtual asio::awaitable<void> rollback() = 0;
};

struct PoolStats {
  int size = 0;     // open connections
  int idle = 0;     // open and not checked out
  int waiting = 0;  // coroutines waiting for a connection
  int max = 0;
};

struct Notification {
  std::string channel;
  std::string payload;
  // True for the marker delivered after the listener reconnected: notifications
  // sent while it was down are lost, so the caller should re-check its state.
  bool reconnected = false;
};

// A dedicated connection for LISTEN. It reconnects by itself (with backoff)
// and re-issues every LISTEN. Thread-safety: one coroutine calls next().
class Listener {
 public:
  virtual ~Listener() = default;
  virtual asio::awaitable<void> listen(std::string channel) = 0;
  virtual asio::awaitable<Notification> next() = 0;
  // Makes a pending next() throw boost::system::system_error(operation_aborted).
  virtual void close() = 0;
};

class Database : public Executor {
 public:
  // BEGIN on a connection held until commit() or rollback(); destroying an
  // unfinished transaction discards its connection (the server rolls back).
  virtual asio::awaitable<std::unique_ptr<Transaction>> begin() = 0;
  virtual asio::awaitable<std::unique_ptr<Listener>> listener() = 0;
  virtual PoolStats stats() const = 0;
  // Closes idle connections and refuses new work; used at shutdown.
  virtual void close() = 0;

  // Runs fn(Transaction&) -> awaitable<R> inside BEGIN/COMMIT; rolls back and
  // rethrows if fn throws. Returns what fn returns.
  template <class F>
  auto transaction(F fn) -> std::invoke_result_t<F, Transaction&> {
    using Awaitable = std::invoke_result_t<F, Transaction&>;
    using R = typename Awaitable::value_type;
    auto tx = co_await begin();
    std::exception_ptr failure;
    if constexpr (std::is_void_v<R>) {
      try {
        co_await fn(*tx);
      } catch (...) {
        failure = std::current_exception();
      }
      if (failure) {
        co_await rollback_quietly(*tx);
        std::rethrow_exception(failure);
      }
      co_await tx->commit();
    } else {
      std::optional<R> value;
      try {
        value.emplace(co_await fn(*tx));
      } catch (...) {
        failure = std::current_exception();
      }
      if (failure) {
        co_await rollback_quietly(*tx);
        std::rethrow_exception(failure);
      }
      co_await tx->commit();
      co_return std::move(*value);
    }
  }

 private:
  static asio::awaitable<void> rollback_quietly(Transaction& tx) {
    try {
      co_await tx.rollback();
    } catch (...) {
      // The original failure is what the caller needs to see; a broken
      // connection is discarded by the pool either way.
    }
  }
};

}  // namespace huntaze::db
