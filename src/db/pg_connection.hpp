// One libpq connection in non-blocking mode, driven by Asio.
//
// libpq does the protocol; Asio only tells us when its socket is readable or
// writable. Asio watches a dup() of libpq's socket rather than the socket
// itself: libpq closes its descriptor by itself when the connection drops
// (and may switch sockets while connecting), and an epoll registration keyed
// by a closed, possibly reused descriptor number would be unsafe. With a
// duplicate, each side opens and closes only what it owns.
//
// Thread-safety: a Connection is used by one coroutine at a time (the pool
// hands it over under its mutex). open() may be called from any thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/strand.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "huntaze/db/database.hpp"

struct pg_conn;    // libpq's PGconn
struct pg_result;  // libpq's PGresult

namespace huntaze::db::pg {

struct ConnectOptions {
  std::string url;  // libpq connection string or URI (may hold a password: never log it)
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds statement_timeout{0};  // 0 = none
};

class Connection {
 public:
  // Connects without blocking the calling thread (except for a DNS lookup of
  // a host name, which libpq does synchronously). Throws DbUnavailable when
  // the server cannot be reached or refuses us within connect_timeout.
  static asio::awaitable<std::unique_ptr<Connection>> open(asio::any_io_executor executor, ConnectOptions options);

  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // One statement with parameters, through a prepared statement cached per
  // connection (keyed by SQL text and parameter types).
  asio::awaitable<Result> query(std::string_view sql, Params params);
  // Simple query protocol: several statements, no parameters. Returns the
  // result of the last statement.
  asio::awaitable<Result> simple(std::string_view sql);

  // Open, idle (no command in flight, no transaction open) and not announced
  // dead by the server: safe to hand to the next user.
  bool reusable() const;
  // The connection failed or the server is ending the session.
  bool broken() const;
  // True while a transaction block is open and a statement in it failed.
  bool transaction_failed() const;
  bool in_transaction() const;
  // Cheap check for a connection taken from the idle list: reads anything the
  // server sent while it sat idle (a FATAL before termination, EOF) without
  // waiting. False when the connection is no longer usable.
  bool check_alive();

  // ---- for LISTEN ----
  // Waits until the socket is readable; ec is operation_aborted after cancel().
  asio::awaitable<boost::system::error_code> wait_readable();
  void cancel();
  // Reads what arrived; false when the connection is lost.
  bool consume_input();
  std::vector<Notification> take_notifications();
  std::string quote_identifier(std::string_view name) const;

 private:
  struct Finish {
    void operator()(pg_conn* conn) const;  // PQfinish
  };
  using Handle = std::unique_ptr<pg_conn, Finish>;

  Connection(asio::any_io_executor executor, Handle conn);
  static asio::awaitable<Handle> connect(asio::strand<asio::any_io_executor> strand, ConnectOptions options);

  asio::awaitable<void> flush();
  asio::awaitable<Result> collect();
  // The connection failed underneath a command: it will be discarded.
  DbError lost(std::string_view what);
  void forget_statement(const DbError& error, const std::string& key);

  Handle conn_;                                              // declared first: destroyed after socket_
  asio::posix::stream_descriptor socket_;                    // our dup() of PQsocket(conn_)
  std::unordered_map<std::string, std::string> statements_;  // key -> prepared statement name
  uint64_t prepared_total_ = 0;  // statements prepared on the server (including forgotten ones)
  bool busy_ = false;            // a command is in flight, or was abandoned midway
  bool doomed_ = false;          // the server reported FATAL: the session is ending
};

}  // namespace huntaze::db::pg
