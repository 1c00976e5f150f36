#include "pg_connection.hpp"

#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>

#include "huntaze/core/log.hpp"
#include "pg_params.hpp"

namespace huntaze::db::pg {

namespace {

using boost::system::error_code;
using Wait = asio::posix::stream_descriptor::wait_type;

// A server cannot hold an unbounded number of prepared statements per session;
// past this many the connection starts over with DEALLOCATE ALL. Modules use
// fixed SQL text, so this is only reached by code that builds SQL dynamically.
constexpr uint64_t kMaxPreparedStatements = 1000;

std::string trimmed(const char* message) {
  std::string s = message ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string field(const PGresult* res, int code) {
  const char* v = PQresultErrorField(res, code);
  return v ? v : "";
}

bool fatal_severity(const PGresult* res) {
  const std::string severity = field(res, PG_DIAG_SEVERITY_NONLOCALIZED);
  return severity == "FATAL" || severity == "PANIC";
}

// Notices (and errors the server sends while the connection is idle, e.g. the
// FATAL before pg_terminate_backend closes it) arrive here. `sink`, when set,
// is a flag raised on FATAL; it is set only while Connection::check_alive()
// runs, because every PGresult keeps a copy of the receiver and its argument.
void receive_notice(void* sink, const PGresult* res) {
  const std::string message = field(res, PG_DIAG_MESSAGE_PRIMARY);
  const std::string sqlstate = field(res, PG_DIAG_SQLSTATE);
  const std::string severity = field(res, PG_DIAG_SEVERITY_NONLOCALIZED);
  if (fatal_severity(res)) {
    if (sink) *static_cast<bool*>(sink) = true;
    log::warn("postgresql closing connection", {{"sqlstate", sqlstate}, {"message", message}});
  } else if (severity == "WARNING") {
    log::warn("postgresql warning", {{"sqlstate", sqlstate}, {"message", message}});
  } else {
    log::debug("postgresql notice", {{"severity", severity}, {"sqlstate", sqlstate}, {"message", message}});
  }
}

// A descriptor of our own for the socket libpq is using (see the header).
int duplicate_socket(PGconn* conn) {
  const int fd = PQsocket(conn);
  if (fd < 0) return -1;
  return ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

void watch(asio::posix::stream_descriptor& socket, PGconn* conn) {
  error_code ec;
  socket.close(ec);
  const int fd = duplicate_socket(conn);
  if (fd < 0) throw DbUnavailable(std::string("cannot connect to PostgreSQL: ") + std::strerror(errno));
  socket.assign(fd, ec);
  if (ec) {
    ::close(fd);
    throw DbUnavailable("cannot connect to PostgreSQL: " + ec.message());
  }
}

// The keywords for PQconnectStartParams: the configured URL plus the session
// settings the rest of this library relies on (UTC ISO timestamps, hex
// bytea, UTF-8) and the statement timeout.
class ConnectParams {
 public:
  explicit ConnectParams(const ConnectOptions& options) {
    // Defaults that the URL may override come before the expanded dbname...
    add("fallback_application_name", "huntaze");
    add("keepalives_idle", "60");
    add("keepalives_interval", "10");
    add("keepalives_count", "3");
    add("dbname", options.url);
    // ...and settings we depend on come after it, so they win.
    std::string session = url_options(options.url);
    if (!session.empty()) session += ' ';
    session += "-c TimeZone=UTC -c DateStyle=ISO -c bytea_output=hex";
    session += " -c statement_timeout=" + std::to_string(options.statement_timeout.count());
    add("options", std::move(session));
    add("client_encoding", "UTF8");
    // values_ points into storage_, which no longer changes.
    for (const auto& s : storage_) values_.push_back(s.c_str());
    keys_.push_back(nullptr);
    values_.push_back(nullptr);
  }
  ConnectParams(const ConnectParams&) = delete;
  ConnectParams& operator=(const ConnectParams&) = delete;

  const char* const* keys() const { return keys_.data(); }
  const char* const* values() const { return values_.data(); }

 private:
  void add(const char* key, std::string value) {
    keys_.push_back(key);
    storage_.push_back(std::move(value));
  }
  // The `options` the URL already carries (e.g. a search_path) are kept.
  static std::string url_options(const std::string& url) {
    char* error = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &error);
    if (error) PQfreemem(error);
    if (!parsed) return {};  // PQconnectStartParams reports the malformed URL
    std::string options;
    for (auto* o = parsed; o->keyword; ++o)
      if (std::strcmp(o->keyword, "options") == 0 && o->val) options = o->val;
    PQconninfoFree(parsed);
    return options;
  }

  std::vector<const char*> keys_;
  std::vector<std::string> storage_;
  std::vector<const char*> values_;
};

DbUnavailable cannot_connect(PGconn* conn) {
  return DbUnavailable("cannot connect to PostgreSQL: " + trimmed(PQerrorMessage(conn)));
}

}  // namespace

void Connection::Finish::operator()(pg_conn* conn) const {
  PQfinish(conn);
}

asio::awaitable<std::unique_ptr<Connection>> Connection::open(asio::any_io_executor executor, ConnectOptions options) {
  // The connect loop and its deadline timer share a strand, so the timer can
  // safely cancel the socket wait even when the io_context runs many threads.
  auto strand = asio::make_strand(executor);
  Handle conn = co_await asio::co_spawn(strand, connect(strand, std::move(options)), asio::use_awaitable);
  co_return std::unique_ptr<Connection>(new Connection(executor, std::move(conn)));
}

asio::awaitable<Connection::Handle> Connection::connect(asio::strand<asio::any_io_executor> strand,
                                                        ConnectOptions options) {
  const ConnectParams params(options);
  Handle conn(PQconnectStartParams(params.keys(), params.values(), /*expand_dbname=*/1));
  if (!conn) throw DbUnavailable("cannot connect to PostgreSQL: out of memory");
  if (PQstatus(conn.get()) == CONNECTION_BAD) throw cannot_connect(conn.get());

  // Shared with the timer's handler, which may run after this frame is gone.
  struct Watch {
    explicit Watch(const asio::strand<asio::any_io_executor>& s) : socket(s) {}
    asio::posix::stream_descriptor socket;
    bool expired = false;
  };
  auto w = std::make_shared<Watch>(strand);
  asio::steady_timer deadline(strand, options.connect_timeout);
  deadline.async_wait([w](error_code ec) {
    if (ec) return;
    w->expired = true;
    w->socket.cancel(ec);
  });
  const auto timed_out = [&] {
    return DbUnavailable("cannot connect to PostgreSQL: no answer within " +
                         std::to_string(options.connect_timeout.count()) + " ms");
  };

  // PQconnectPoll's protocol: start as if it had asked for writability.
  PostgresPollingStatusType state = PGRES_POLLING_WRITING;
  while (state != PGRES_POLLING_OK) {
    if (state == PGRES_POLLING_FAILED) throw cannot_connect(conn.get());
    if (w->expired) throw timed_out();
    // libpq may have moved to another socket (next address or host).
    watch(w->socket, conn.get());
    error_code ec;
    co_await w->socket.async_wait(state == PGRES_POLLING_READING ? Wait::wait_read : Wait::wait_write,
                                  asio::redirect_error(asio::use_awaitable, ec));
    if (w->expired) throw timed_out();
    if (ec) throw DbUnavailable("cannot connect to PostgreSQL: " + ec.message());
    state = PQconnectPoll(conn.get());
  }
  deadline.cancel();
  error_code ignored;
  w->socket.close(ignored);
  if (PQsetnonblocking(conn.get(), 1) != 0) throw cannot_connect(conn.get());
  co_return conn;
}

Connection::Connection(asio::any_io_executor executor, Handle conn)
    : conn_(std::move(conn)), socket_(std::move(executor)) {
  PQsetNoticeReceiver(conn_.get(), &receive_notice, nullptr);
  const int fd = duplicate_socket(conn_.get());
  if (fd < 0) throw DbUnavailable(std::string("cannot watch the PostgreSQL socket: ") + std::strerror(errno));
  error_code ec;
  socket_.assign(fd, ec);
  if (ec) {
    ::close(fd);
    throw DbUnavailable("cannot watch the PostgreSQL socket: " + ec.message());
  }
}

Connection::~Connection() {
  error_code ignored;
  socket_.close(ignored);
  // conn_ then PQfinish()es: it sends Terminate without blocking (the
  // connection is in non-blocking mode) and closes libpq's descriptor.
}

DbError Connection::lost(std::string_view what) {
  doomed_ = true;
  std::string message = trimmed(PQerrorMessage(conn_.get()));
  if (message.empty()) message = std::string(what);
  return DbError(message, "08006");  // connection_failure
}

asio::awaitable<void> Connection::flush() {
  for (;;) {
    const int pending = PQflush(conn_.get());
    if (pending == 0) co_return;
    if (pending < 0) throw lost("could not send data to the server");
    // The send buffer is full. Waiting for writability alone cannot deadlock:
    // the server reads a whole message before it answers, and libpq itself
    // reads pending input whenever a send would block.
    error_code ec;
    co_await socket_.async_wait(Wait::wait_write, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) throw lost(ec.message());
  }
}

asio::awaitable<Result> Connection::collect() {
  std::shared_ptr<pg_result> last, error;
  for (;;) {
    while (PQisBusy(conn_.get())) {
      error_code ec;
      co_await socket_.async_wait(Wait::wait_read, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) throw lost(ec.message());
      // When the connection dropped, PQisBusy() turns false and
      // PQgetResult() reports why.
      if (!PQconsumeInput(conn_.get()) && PQstatus(conn_.get()) != CONNECTION_BAD)
        throw lost("could not read from the server");
    }
    PGresult* raw = PQgetResult(conn_.get());
    if (!raw) break;
    std::shared_ptr<pg_result> res(raw, &PQclear);
    switch (PQresultStatus(raw)) {
      case PGRES_FATAL_ERROR:
      case PGRES_NONFATAL_ERROR:
      case PGRES_BAD_RESPONSE:
        if (fatal_severity(raw) || PQresultStatus(raw) == PGRES_BAD_RESPONSE) doomed_ = true;
        if (!error) error = std::move(res);
        break;
      case PGRES_COPY_IN:
      case PGRES_COPY_OUT:
      case PGRES_COPY_BOTH:
        // The session is now in COPY mode; the only safe exit is to drop it.
        doomed_ = true;
        throw DbError("COPY is not supported through Executor::query", "0A000");
      default:
        last = std::move(res);
    }
  }
  busy_ = false;
  if (PQstatus(conn_.get()) == CONNECTION_BAD) doomed_ = true;
  if (error) {
    std::string sqlstate = field(error.get(), PG_DIAG_SQLSTATE);
    std::string message = field(error.get(), PG_DIAG_MESSAGE_PRIMARY);
    if (message.empty()) message = trimmed(PQresultErrorMessage(error.get()));
    // Failures libpq detects itself (the server went away) carry no SQLSTATE.
    if (sqlstate.empty() && PQstatus(conn_.get()) == CONNECTION_BAD) sqlstate = "08006";
    throw DbError(std::move(message), std::move(sqlstate));
  }
  co_return Result(std::move(last));
}

void Connection::forget_statement(const DbError& error, const std::string& key) {
  if (error.sqlstate() == "26000") {
    // Our statements were deallocated behind our back (DEALLOCATE ALL or
    // DISCARD ALL in a script): prepare afresh from now on.
    statements_.clear();
  } else if (error.sqlstate() == "0A000") {
    // "cached plan must not change result type" after a schema change.
    statements_.erase(key);
  }
}

asio::awaitable<Result> Connection::query(std::string_view sql, Params params) {
  const EncodedParams encoded(params);
  std::string key(sql);
  key.push_back('\0');
  key.append(reinterpret_cast<const char*>(encoded.types.data()), encoded.types.size() * sizeof(unsigned int));

  std::string name;
  if (auto it = statements_.find(key); it != statements_.end()) {
    name = it->second;
  } else {
    if (prepared_total_ >= kMaxPreparedStatements) {
      co_await simple("DEALLOCATE ALL");
      statements_.clear();
      prepared_total_ = 0;
    }
    name = "huntaze_" + std::to_string(++prepared_total_);
    const std::string text(sql);
    busy_ = true;
    if (!PQsendPrepare(conn_.get(), name.c_str(), text.c_str(), encoded.count(), encoded.types.data()))
      throw lost("could not send the statement");
    co_await flush();
    co_await collect();  // a syntax error throws here, and nothing is cached
    statements_.emplace(key, name);
  }

  busy_ = true;
  if (!PQsendQueryPrepared(conn_.get(), name.c_str(), encoded.count(), encoded.values.data(), encoded.lengths.data(),
                           encoded.formats.data(), /*resultFormat=*/0))
    throw lost("could not send the statement");
  co_await flush();
  std::optional<DbError> failure;
  try {
    co_return co_await collect();
  } catch (const DbError& e) {
    failure = e;
  }
  forget_statement(*failure, key);
  throw *failure;
}

asio::awaitable<Result> Connection::simple(std::string_view sql) {
  const std::string text(sql);
  busy_ = true;
  if (!PQsendQuery(conn_.get(), text.c_str())) throw lost("could not send the statement");
  co_await flush();
  co_return co_await collect();
}

bool Connection::reusable() const {
  return !busy_ && !doomed_ && PQstatus(conn_.get()) == CONNECTION_OK &&
         PQtransactionStatus(conn_.get()) == PQTRANS_IDLE;
}

bool Connection::broken() const {
  return doomed_ || PQstatus(conn_.get()) != CONNECTION_OK;
}

bool Connection::transaction_failed() const {
  return PQtransactionStatus(conn_.get()) == PQTRANS_INERROR;
}

bool Connection::in_transaction() const {
  const auto status = PQtransactionStatus(conn_.get());
  return status == PQTRANS_INTRANS || status == PQTRANS_INERROR;
}

bool Connection::check_alive() {
  if (!reusable()) return false;
  // A few rounds at most: data, then possibly the EOF right behind it.
  for (int round = 0; round < 4; ++round) {
    pollfd p{PQsocket(conn_.get()), POLLIN, 0};
    if (p.fd < 0) return false;
    const int ready = ::poll(&p, 1, 0);
    if (ready == 0) break;  // nothing arrived while idle: the normal case
    if (ready < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (p.revents & (POLLERR | POLLNVAL)) return false;
    if (!PQconsumeInput(conn_.get())) return false;  // EOF: the server closed it
    // Parse what arrived; an error while idle reaches the notice receiver,
    // which raises doomed_ for FATAL.
    PQsetNoticeReceiver(conn_.get(), &receive_notice, &doomed_);
    PQisBusy(conn_.get());
    while (PGnotify* n = PQnotifies(conn_.get())) PQfreemem(n);  // nobody listens on pool connections
    PQsetNoticeReceiver(conn_.get(), &receive_notice, nullptr);
    if (!reusable()) return false;
  }
  return true;
}

asio::awaitable<error_code> Connection::wait_readable() {
  error_code ec;
  co_await socket_.async_wait(Wait::wait_read, asio::redirect_error(asio::use_awaitable, ec));
  co_return ec;
}

void Connection::cancel() {
  error_code ignored;
  socket_.cancel(ignored);
}

bool Connection::consume_input() {
  return PQconsumeInput(conn_.get()) == 1 && PQstatus(conn_.get()) == CONNECTION_OK;
}

std::vector<Notification> Connection::take_notifications() {
  std::vector<Notification> out;
  while (PGnotify* n = PQnotifies(conn_.get())) {
    out.push_back(Notification{n->relname ? n->relname : "", n->extra ? n->extra : "", false});
    PQfreemem(n);
  }
  return out;
}

std::string Connection::quote_identifier(std::string_view name) const {
  char* quoted = PQescapeIdentifier(conn_.get(), name.data(), name.size());
  if (!quoted) throw DbError(trimmed(PQerrorMessage(conn_.get())), "22021");
  std::string out(quoted);
  PQfreemem(quoted);
  return out;
}

}  // namespace huntaze::db::pg
