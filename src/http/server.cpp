#include "http/server.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <ctime>
#include <mutex>
#include <unordered_map>

#include "http/response_writer.hpp"
#include "huntaze/core/log.hpp"
#include "huntaze/core/uuid.hpp"

namespace huntaze::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
using Clock = std::chrono::steady_clock;
constexpr int64_t kNoDeadline = INT64_MAX;

int64_t ticks(Clock::time_point t) { return t.time_since_epoch().count(); }

struct Connection {
  explicit Connection(tcp::socket s) : socket(std::move(s)) {}
  tcp::socket socket;
  // When the current phase (idle wait, headers, body, write) must be over.
  // Written by the session, read by the server's sweeper on any thread: one
  // shared sweeper instead of a timer per socket operation keeps timeouts
  // almost free on the request path.
  std::atomic<int64_t> deadline{kNoDeadline};
  // True from the first byte of a request until its response is written;
  // only touched on the connection's strand.
  bool busy = false;
  // Emitted (terminal) when shutdown's grace runs out: the handler's pending
  // operation is aborted so the coroutine unwinds instead of running on.
  asio::cancellation_signal cancel;

  void arm(std::chrono::milliseconds timeout) { deadline.store(ticks(Clock::now() + timeout), std::memory_order_relaxed); }
  void disarm() { deadline.store(kNoDeadline, std::memory_order_relaxed); }
};

// Streams a chunked body for Response::stream producers.
class ChunkWriter final : public BodyWriter {
 public:
  ChunkWriter(Connection& conn, std::chrono::milliseconds timeout, bool chunked)
      : conn_(conn), timeout_(timeout), chunked_(chunked) {}
  asio::awaitable<void> write(std::string_view data) override {
    if (data.empty()) co_return;  // an empty chunk would end the body
    written_ += data.size();
    conn_.arm(timeout_);
    if (!chunked_) {  // a known length, or HTTP/1.0 (the body ends when the connection closes)
      co_await asio::async_write(conn_.socket, asio::buffer(data.data(), data.size()), asio::use_awaitable);
      co_return;
    }
    char size_line[24];
    int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", data.size());
    std::array<asio::const_buffer, 3> pieces{asio::buffer(size_line, static_cast<size_t>(n)),
                                             asio::buffer(data.data(), data.size()), asio::buffer("\r\n", 2)};
    co_await asio::async_write(conn_.socket, pieces, asio::use_awaitable);
  }

  uint64_t written() const noexcept { return written_; }

 private:
  Connection& conn_;
  std::chrono::milliseconds timeout_;
  bool chunked_;
  uint64_t written_ = 0;
};

// Request::body_reader for streamed_body routes: body bytes go from the
// socket through the connection's buffer into one 64 KiB piece at a time.
class StreamedBody final : public BodyReader {
 public:
  StreamedBody(Connection& conn, beast::flat_buffer& buffer, bhttp::request_parser<bhttp::empty_body>&& head,
               size_t limit, std::chrono::milliseconds timeout, bool expects_continue)
      : conn_(conn),
        buffer_(buffer),
        parser_(std::move(head)),
        limit_(limit),
        timeout_(timeout),
        expects_continue_(expects_continue) {
    parser_.body_limit(limit);
    length_ = parser_.content_length() ? std::optional<uint64_t>(*parser_.content_length()) : std::nullopt;
  }

  asio::awaitable<std::string_view> read() override {
    if (failed_) throw ApiError(400, "malformed_request", "the request body could not be read");
    while (!parser_.is_done()) {
      if (expects_continue_) {
        // Sent only now that the handler asks for the body: a request it
        // refuses first (quota, permissions) never has its body sent.
        expects_continue_ = false;
        static const std::string cont = "HTTP/1.1 100 Continue\r\n\r\n";
        conn_.arm(timeout_);
        co_await asio::async_write(conn_.socket, asio::buffer(cont), asio::use_awaitable);
      }
      piece_.resize(kPiece);
      parser_.get().body().data = piece_.data();
      parser_.get().body().size = piece_.size();
      // A pause longer than body_timeout between pieces ends the upload; an
      // upload as a whole may take as long as it keeps moving.
      conn_.arm(timeout_);
      auto [ec, n] = co_await bhttp::async_read_some(conn_.socket, buffer_, parser_, use_tuple);
      (void)n;
      conn_.disarm();
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec) {
        failed_ = true;
        if (ec == bhttp::error::body_limit)
          throw ApiError(413, "body_too_large", "request body exceeds " + std::to_string(limit_) + " bytes");
        if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor)
          throw ApiError(408, "body_timeout", "the request body stopped arriving");
        if (ec == bhttp::error::partial_message || ec == asio::error::eof || ec == asio::error::connection_reset)
          throw boost::system::system_error(ec);
        throw ApiError(400, "malformed_request", "the request body could not be parsed");
      }
      const size_t got = piece_.size() - parser_.get().body().size;
      if (got > 0) co_return std::string_view(piece_.data(), got);
    }
    co_return std::string_view();
  }

  std::optional<uint64_t> content_length() const override { return length_; }

  // The next request on the connection can be read only after this one's
  // body was read to its end.
  bool complete() const { return !failed_ && parser_.is_done(); }

 private:
  static constexpr size_t kPiece = 64 * 1024;
  Connection& conn_;
  beast::flat_buffer& buffer_;
  bhttp::request_parser<bhttp::buffer_body> parser_;
  size_t limit_;
  std::chrono::milliseconds timeout_;
  bool expects_continue_;
  bool failed_ = false;
  std::optional<uint64_t> length_;
  std::string piece_;
};

}  // namespace

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  Impl(asio::io_context& ioc, ServerConfig cfg, const Router& router, Handler pipeline, metrics::Registry& metrics)
      : ioc(ioc),
        cfg(std::move(cfg)),
        router(router),
        pipeline(std::move(pipeline)),
        acceptor(ioc),
        open_gauge(metrics.gauge("http_connections_open", "Open client connections").with({})),
        rejected_connections(metrics
                                 .counter("http_connections_rejected_total",
                                          "Connections refused because server.max_connections was reached")
                                 .with({})),
        rejected_requests(metrics.counter("http_requests_rejected_total",
                                          "Requests answered by the server before routing (malformed or over a limit)",
                                          {"reason"})) {}

  asio::io_context& ioc;
  const ServerConfig cfg;
  const Router& router;
  const Handler pipeline;
  tcp::acceptor acceptor;
  std::atomic<bool> stopping{false};
  std::atomic<size_t> open{0};
  static constexpr int kMaxRejectsInFlight = 64;
  std::atomic<int> rejecting{0};  // reject_busy() coroutines running

  std::mutex mutex;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections;

  metrics::Gauge& open_gauge;
  metrics::Counter& rejected_connections;
  metrics::Family<metrics::Counter>& rejected_requests;

  struct BodyPolicy {
    size_t limit;
    bool streamed;
  };
  BodyPolicy body_policy_for(std::string_view method, std::string_view path) const {
    auto m = router.match(method, path);
    if (!m.route) return {cfg.body_limit, false};
    return {m.route->options.body_limit.value_or(cfg.body_limit), m.route->options.streamed_body};
  }

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> session(std::shared_ptr<Connection> conn);
  asio::awaitable<void> reject_busy(tcp::socket socket);
  asio::awaitable<void> write_response(Connection& conn, const Request& req, Response& res, bool keep_alive,
                                       bool http10 = false);
  asio::awaitable<void> sweep();
  asio::awaitable<void> write_early_error(Connection& conn, int status, std::string_view code,
                                          std::string_view message);

  void track(const std::shared_ptr<Connection>& c) {
    std::lock_guard lock(mutex);
    connections.emplace(c.get(), c);
    open_gauge.set(static_cast<double>(++open));
  }
  void untrack(Connection* c) {
    std::lock_guard lock(mutex);
    connections.erase(c);
    open_gauge.set(static_cast<double>(--open));
  }
  // Runs fn(conn) on the strand of each open connection that `pred` selects
  // (pred runs here, on the caller's thread, so it may only read atomics).
  template <class Pred, class Fn>
  void for_each_connection_if(Pred pred, Fn fn) {
    std::lock_guard lock(mutex);
    for (auto& [ptr, weak] : connections) {
      if (!pred(*ptr)) continue;
      if (auto c = weak.lock()) asio::post(c->socket.get_executor(), [c, fn] { fn(*c); });
    }
  }
  // Runs fn(conn) on each open connection's strand.
  template <class Fn>
  void for_each_connection(Fn fn) {
    std::lock_guard lock(mutex);
    for (auto& [ptr, weak] : connections) {
      if (auto c = weak.lock()) asio::post(c->socket.get_executor(), [c, fn] { fn(*c); });
    }
  }
};

asio::awaitable<void> Server::Impl::reject_busy(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  stream.expires_after(std::chrono::milliseconds(500));
  static const std::string busy = [] {
    const std::string body =
        R"({"error":{"code":"server_busy","message":"too many open connections","request_id":"","details":[]}})";
    return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
           "Retry-After: 1\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }();
  auto [ec, n] = co_await asio::async_write(stream, asio::buffer(busy), use_tuple);
  (void)n;
  if (ec) co_return;
  // Half-close and drain what the client already sent: closing with unread
  // input would reset the connection and could destroy the answer in flight.
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  char sink[1024];
  for (int i = 0; i < 64; ++i) {
    auto [rec, rn] = co_await stream.async_read_some(asio::buffer(sink), use_tuple);
    (void)rn;
    if (rec) break;
  }
}

asio::awaitable<void> Server::Impl::accept_loop() {
  auto self = shared_from_this();
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(ioc), use_tuple);
    if (stopping) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      // Out of descriptors or a transient network error: back off briefly
      // instead of spinning, and keep serving the connections we have.
      log::warn("accept failed", {{"error", ec.message()}});
      asio::steady_timer pause(ioc, std::chrono::milliseconds(50));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    if (open.load() >= static_cast<size_t>(cfg.max_connections)) {
      rejected_connections.inc();
      // Answering a refusal holds a descriptor for a moment; under a flood
      // only a bounded number are answered and the rest are simply closed.
      if (rejecting.load() < kMaxRejectsInFlight) {
        ++rejecting;
        auto ex = socket.get_executor();
        asio::co_spawn(ex, reject_busy(std::move(socket)), [self](std::exception_ptr) { --self->rejecting; });
      }
      continue;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto conn = std::make_shared<Connection>(std::move(socket));
    track(conn);
    auto on_done = [self, raw = conn.get()](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          log::error("connection failed", {{"error", ex.what()}});
        } catch (...) {
        }
      }
      self->untrack(raw);
    };
    asio::co_spawn(conn->socket.get_executor(), session(conn),
                   asio::bind_cancellation_slot(conn->cancel.slot(), std::move(on_done)));
  }
}

asio::awaitable<void> Server::Impl::write_early_error(Connection& conn, int status, std::string_view code,
                                                      std::string_view message) {
  rejected_requests.with({code}).inc();
  const std::string request_id = Uuid::v7().str();
  Response res = error_response(status, code, message, request_id);
  res.headers.set("X-Request-Id", request_id);  // every response carries one, refusals too
  Request none;
  none.method = "GET";
  try {
    co_await write_response(conn, none, res, false);
  } catch (const boost::system::system_error&) {
    // The client is gone or too slow to take the answer; the connection closes either way.
  }
}

asio::awaitable<void> Server::Impl::write_response(Connection& conn, const Request& req, Response& res,
                                                   bool keep_alive, bool http10) {
  WireOptions wire{.keep_alive = keep_alive, .http10 = http10, .head = req.method == "HEAD"};
  const bool streamed = static_cast<bool>(res.stream) && !status_has_no_body(res.status);
  if (streamed) {
    // A known length goes out as Content-Length. Otherwise chunks; HTTP/1.0
    // has none, so its body ends when the connection does.
    wire.chunked = !http10 && !res.stream_length;
    if (http10 && !res.stream_length) wire.keep_alive = false;
  }
  const std::string head = serialize_head(res, wire);
  conn.arm(cfg.write_timeout);
  if (!streamed) {
    const bool send_body = !wire.head && !status_has_no_body(res.status);
    std::array<asio::const_buffer, 2> pieces{asio::buffer(head),
                                             send_body ? asio::buffer(res.body) : asio::const_buffer()};
    co_await asio::async_write(conn.socket, pieces, asio::use_awaitable);
    co_return;
  }
  co_await asio::async_write(conn.socket, asio::buffer(head), asio::use_awaitable);
  if (!wire.head) {
    ChunkWriter writer(conn, cfg.write_timeout, wire.chunked);
    co_await res.stream(writer);
    if (res.stream_length && writer.written() != *res.stream_length)
      throw std::runtime_error("the streamed body's length differs from its Content-Length");
    if (wire.chunked) {
      conn.arm(cfg.write_timeout);
      co_await asio::async_write(conn.socket, asio::buffer("0\r\n\r\n", 5), asio::use_awaitable);
    }
  }
}

asio::awaitable<void> Server::Impl::session(std::shared_ptr<Connection> conn) {
  auto& socket = conn->socket;
  std::string remote;
  {
    error_code ec;
    auto ep = socket.remote_endpoint(ec);
    if (!ec) remote = ep.address().to_string();
  }
  // Holds the header while it is parsed; body bytes pass through it in pieces.
  beast::flat_buffer buffer(std::max<size_t>(cfg.header_limit + 4096, 64 * 1024));
  bool answered_early = false;  // a limit or parse error answered before the request was read

  // A read that ended because the sweeper closed the socket, the client left,
  // or shutdown closed an idle connection: nothing to answer.
  auto quiet_end = [](const error_code& ec) {
    return ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == asio::error::operation_aborted ||
           ec == asio::error::connection_reset || ec == asio::error::bad_descriptor ||
           ec == bhttp::error::partial_message;
  };

  while (!stopping) {
    // 1. Idle: wait for the first byte of the next request.
    if (buffer.size() == 0) {
      conn->arm(cfg.idle_timeout);
      auto [ec, n] = co_await socket.async_read_some(buffer.prepare(4096), use_tuple);
      if (ec) break;  // closed by the client, idle timeout, or shutdown
      buffer.commit(n);
    }
    conn->busy = true;

    // 2. Headers, within header_timeout and header_limit.
    bhttp::request_parser<bhttp::empty_body> head;
    head.header_limit(static_cast<std::uint32_t>(cfg.header_limit));
    // Beast's own default (1 MiB) would refuse a larger Content-Length while
    // reading the headers, as a parse error: the route's limit is checked
    // below, with a 413.
    head.body_limit(boost::none);
    conn->arm(cfg.header_timeout);
    auto [hec, hn] = co_await bhttp::async_read_header(socket, buffer, head, use_tuple);
    (void)hn;
    if (hec) {
      if (hec == bhttp::error::header_limit || hec == bhttp::error::buffer_overflow) {
        answered_early = true;
        co_await write_early_error(*conn, 431, "headers_too_large", "request headers exceed the limit");
      } else if (!quiet_end(hec)) {
        answered_early = true;
        co_await write_early_error(*conn, 400, "malformed_request", "the request could not be parsed");
      }
      break;
    }

    Request req;
    req.received_at = Clock::now();
    req.remote_address = remote;
    bool http10 = false;
    {
      const auto& h = head.get();
      req.method = std::string(h.method_string());
      req.target = std::string(h.target());
      auto q = req.target.find('?');
      req.path = req.target.substr(0, q);
      if (q != std::string::npos) req.query = req.target.substr(q + 1);
      for (const auto& f : h) req.headers.add(std::string(f.name_string()), std::string(f.value()));
      req.keep_alive = h.keep_alive();
      http10 = h.version() < 11;
    }
    if (req.path.empty() || req.path.front() != '/') {
      answered_early = true;
      co_await write_early_error(*conn, 400, "malformed_request", "the request target must be an absolute path");
      break;
    }

    // 3. Body, within body_timeout and the route's limit.
    const auto [limit, streamed_body] = body_policy_for(req.method, req.path);
    if (auto len = head.content_length(); len && *len > limit) {
      answered_early = true;
      co_await write_early_error(*conn, 413, "body_too_large", "request body exceeds " + std::to_string(limit) + " bytes");
      break;
    }
    std::optional<StreamedBody> streamed;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser;
    if (streamed_body) {
      const auto expect = req.headers.get("Expect");
      streamed.emplace(*conn, buffer, std::move(head), limit, cfg.body_timeout,
                       expect && iequals(*expect, "100-continue"));
      req.body_reader = &*streamed;
    } else {
      parser.emplace(std::move(head));
      parser->body_limit(limit);
    }
    if (parser && !parser->is_done()) {
      if (auto expect = req.headers.get("Expect"); expect && iequals(*expect, "100-continue")) {
        static const std::string cont = "HTTP/1.1 100 Continue\r\n\r\n";
        conn->arm(cfg.write_timeout);
        auto [cec, cn] = co_await asio::async_write(socket, asio::buffer(cont), use_tuple);
        (void)cn;
        if (cec) break;
      }
      conn->arm(cfg.body_timeout);
      auto [bec, bn] = co_await bhttp::async_read(socket, buffer, *parser, use_tuple);
      (void)bn;
      if (bec) {
        if (bec == bhttp::error::body_limit) {
          answered_early = true;
          co_await write_early_error(*conn, 413, "body_too_large",
                                     "request body exceeds " + std::to_string(limit) + " bytes");
        } else if (!quiet_end(bec)) {
          answered_early = true;
          co_await write_early_error(*conn, 400, "malformed_request", "the request body could not be parsed");
        }
        break;
      }
    }
    if (parser) req.body = std::move(parser->get().body());

    // 4. The pipeline never throws (the errors middleware), but a bug there
    // must cost one connection, not the process. Handlers bound their own time.
    conn->disarm();
    Response res;
    try {
      res = co_await pipeline(req);
    } catch (const std::exception& e) {
      log::error("pipeline threw", {{"error", e.what()}});
      res = error_response(500, "internal_error", "internal error", req.request_id);
    }

    // A streamed body the handler left unread (it refused the upload, or
    // failed halfway) cannot be skipped to the next request: the connection
    // ends after this response, draining what the client still sends.
    const bool body_left = streamed && !streamed->complete();
    if (body_left) answered_early = true;
    const bool keep = req.keep_alive && !stopping && !body_left;
    bool written = true;
    try {
      co_await write_response(*conn, req, res, keep, http10);
    } catch (const boost::system::system_error&) {
      written = false;  // the client went away or stalled past write_timeout
    } catch (const std::exception& e) {
      // A streaming producer failed after the status line went out: all we
      // can still do is end the connection so the client sees a cut body.
      log::warn("streamed response failed", {{"request_id", req.request_id}, {"error", e.what()}});
      written = false;
    }
    conn->busy = false;
    if (!written || !keep || (res.stream && http10)) break;
  }

  error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  if (answered_early && socket.is_open()) {
    // Lingering close: the client may still be sending the request we refused;
    // closing with unread input would reset the connection and could destroy
    // the error response before the client reads it.
    // Bounded by 4 MiB and a 500 ms deadline (enforced by the sweeper, so
    // up to its interval later): enough for a refused body of a few
    // megabytes on a good link (64 reads of 4 KiB were not: a 360 KB body
    // was cut off and its 413 lost); a slower or bigger one is reset. The
    // bytes go through the connection's own buffer: a local array would sit
    // in every connection's coroutine frame for its whole life.
    conn->arm(std::chrono::milliseconds(500));
    for (size_t drained = 0; drained < (4u << 20);) {
      buffer.consume(buffer.size());
      auto [rec, rn] = co_await socket.async_read_some(buffer.prepare(16 * 1024), use_tuple);
      if (rec) break;
      drained += rn;
    }
  }
  conn->disarm();
  socket.close(ignored);
}

// Closes connections whose current phase ran past its deadline. One timer
// for the whole server: a timeout costs an atomic store per phase instead of
// a timer arm and cancel per socket operation.
asio::awaitable<void> Server::Impl::sweep() {
  auto self = shared_from_this();
  using std::chrono::milliseconds;
  const auto shortest = std::min({cfg.idle_timeout, cfg.header_timeout, cfg.body_timeout, cfg.write_timeout});
  const auto interval = std::clamp(shortest / 4, milliseconds(20), milliseconds(1000));
  asio::steady_timer timer(ioc);
  while (!stopping || open.load() > 0) {
    timer.expires_after(interval);
    auto [ec] = co_await timer.async_wait(use_tuple);
    if (ec) co_return;
    const int64_t now = ticks(Clock::now());
    for_each_connection_if([now](const Connection& c) { return c.deadline.load(std::memory_order_relaxed) <= now; },
                           [](Connection& c) {
                             error_code ignored;
                             c.socket.close(ignored);  // pending reads and writes end with operation_aborted
                           });
  }
}

Server::Server(asio::io_context& ioc, ServerConfig config, const Router& router, Handler pipeline,
               metrics::Registry& metrics)
    : impl_(std::make_shared<Impl>(ioc, std::move(config), router, std::move(pipeline), metrics)) {}

Server::~Server() {
  error_code ignored;
  impl_->acceptor.close(ignored);
}

void Server::start() {
  auto address = asio::ip::make_address(impl_->cfg.host);
  tcp::endpoint endpoint(address, static_cast<unsigned short>(impl_->cfg.port));
  auto& a = impl_->acceptor;
  a.open(endpoint.protocol());
  a.set_option(asio::socket_base::reuse_address(true));
  a.bind(endpoint);
  a.listen(asio::socket_base::max_listen_connections);
  asio::co_spawn(impl_->ioc, impl_->accept_loop(), asio::detached);
  asio::co_spawn(impl_->ioc, impl_->sweep(), asio::detached);
}

unsigned short Server::port() const {
  return impl_->acceptor.local_endpoint().port();
}

size_t Server::open_connections() const {
  return impl_->open.load();
}

asio::awaitable<void> Server::shutdown(std::chrono::milliseconds grace) {
  auto impl = impl_;
  impl->stopping = true;
  asio::post(impl->acceptor.get_executor(), [impl] {
    error_code ignored;
    impl->acceptor.close(ignored);
  });
  // Idle connections go now; busy ones close after their response.
  impl->for_each_connection([](Connection& c) {
    error_code ignored;
    if (!c.busy) c.socket.close(ignored);
  });
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  bool cut = false;
  while (impl->open.load() > 0) {
    const auto now = std::chrono::steady_clock::now();
    if (!cut && now >= deadline) {
      log::warn("shutdown grace expired; closing connections", {{"open", static_cast<uint64_t>(impl->open.load())}});
      impl->for_each_connection([](Connection& c) {
        error_code ignored;
        c.socket.close(ignored);
        c.cancel.emit(asio::cancellation_type::terminal);
      });
      cut = true;
    }
    if (cut && now >= deadline + std::chrono::seconds(2)) {
      // A handler that ignores cancellation must not hold the process.
      log::error("connections still open after cancellation", {{"open", static_cast<uint64_t>(impl->open.load())}});
      co_return;
    }
    // Shutdown is rare and short: a 5 ms poll is simpler than a completion
    // signal threaded through every session.
    timer.expires_after(std::chrono::milliseconds(5));
    co_await timer.async_wait(use_tuple);
  }
}

}  // namespace huntaze::http
