#include "http/server.hpp"

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <ctime>
#include <mutex>
#include <unordered_map>

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

// The Date header, formatted at most once per second per thread.
const std::string& http_date() {
  thread_local std::time_t cached_second = 0;
  thread_local std::string cached;
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached = buf;
    cached_second = now;
  }
  return cached;
}

struct Connection {
  explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  // True from the first byte of a request until its response is written;
  // only touched on the connection's strand.
  bool busy = false;
  // Emitted (terminal) when shutdown's grace runs out: the handler's pending
  // operation is aborted so the coroutine unwinds instead of running on.
  asio::cancellation_signal cancel;
};

// Streams a chunked body for Response::stream producers.
class ChunkWriter final : public BodyWriter {
 public:
  ChunkWriter(beast::tcp_stream& stream, std::chrono::milliseconds timeout) : stream_(stream), timeout_(timeout) {}
  asio::awaitable<void> write(std::string_view data) override {
    if (data.empty()) co_return;  // an empty chunk would end the body
    stream_.expires_after(timeout_);
    co_await asio::async_write(stream_, bhttp::make_chunk(asio::buffer(data.data(), data.size())), asio::use_awaitable);
  }

 private:
  beast::tcp_stream& stream_;
  std::chrono::milliseconds timeout_;
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

  std::mutex mutex;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections;

  metrics::Gauge& open_gauge;
  metrics::Counter& rejected_connections;
  metrics::Family<metrics::Counter>& rejected_requests;

  size_t body_limit_for(std::string_view method, std::string_view path) const {
    auto m = router.match(method, path);
    if (m.route && m.route->options.body_limit) return *m.route->options.body_limit;
    return cfg.body_limit;
  }

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> session(std::shared_ptr<Connection> conn);
  asio::awaitable<void> reject_busy(tcp::socket socket);
  asio::awaitable<void> write_response(Connection& conn, const Request& req, Response& res, bool keep_alive);
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
  // Runs fn(conn) on each open connection's strand.
  template <class Fn>
  void for_each_connection(Fn fn) {
    std::lock_guard lock(mutex);
    for (auto& [ptr, weak] : connections) {
      if (auto c = weak.lock()) asio::post(c->stream.get_executor(), [c, fn] { fn(*c); });
    }
  }
};

asio::awaitable<void> Server::Impl::reject_busy(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  stream.expires_after(std::chrono::seconds(2));
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
      auto ex = socket.get_executor();
      asio::co_spawn(ex, reject_busy(std::move(socket)), asio::detached);
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
    asio::co_spawn(conn->stream.get_executor(), session(conn),
                   asio::bind_cancellation_slot(conn->cancel.slot(), std::move(on_done)));
  }
}

asio::awaitable<void> Server::Impl::write_early_error(Connection& conn, int status, std::string_view code,
                                                      std::string_view message) {
  rejected_requests.with({code}).inc();
  Response res = error_response(status, code, message, Uuid::v7().str());
  Request none;
  none.method = "GET";
  try {
    co_await write_response(conn, none, res, false);
  } catch (const boost::system::system_error&) {
    // The client is gone or too slow to take the answer; the connection closes either way.
  }
}

asio::awaitable<void> Server::Impl::write_response(Connection& conn, const Request& req, Response& res,
                                                   bool keep_alive) {
  auto& stream = conn.stream;
  auto fill = [&](auto& out) {
    for (auto& [k, v] : res.headers.items()) out.insert(k, v);
    out.set(bhttp::field::date, http_date());
    out.keep_alive(keep_alive);
  };
  if (!res.stream) {
    bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(res.status), 11};
    fill(out);
    if (req.method == "HEAD") {
      out.content_length(res.body.size());  // what GET would send, without the body
    } else {
      out.body() = std::move(res.body);
      out.prepare_payload();
    }
    stream.expires_after(cfg.write_timeout);
    bhttp::serializer<false, bhttp::string_body> sr{out};
    if (req.method == "HEAD") sr.split(true);
    if (req.method == "HEAD") {
      co_await bhttp::async_write_header(stream, sr, asio::use_awaitable);
    } else {
      co_await bhttp::async_write(stream, sr, asio::use_awaitable);
    }
    co_return;
  }
  bhttp::response<bhttp::empty_body> out{static_cast<bhttp::status>(res.status), 11};
  fill(out);
  out.chunked(true);
  bhttp::response_serializer<bhttp::empty_body> sr{out};
  stream.expires_after(cfg.write_timeout);
  co_await bhttp::async_write_header(stream, sr, asio::use_awaitable);
  if (req.method != "HEAD") {
    ChunkWriter writer(stream, cfg.write_timeout);
    co_await res.stream(writer);
  }
  stream.expires_after(cfg.write_timeout);
  co_await asio::async_write(stream, bhttp::make_chunk_last(), asio::use_awaitable);
}

asio::awaitable<void> Server::Impl::session(std::shared_ptr<Connection> conn) {
  auto& stream = conn->stream;
  std::string remote;
  {
    error_code ec;
    auto ep = stream.socket().remote_endpoint(ec);
    if (!ec) remote = ep.address().to_string();
  }
  // Holds the header while it is parsed; body bytes pass through it in pieces.
  beast::flat_buffer buffer(std::max<size_t>(cfg.header_limit + 4096, 64 * 1024));

  bool answered_early = false;  // a limit or parse error answered before the request was read
  while (!stopping) {
    // 1. Idle: wait for the first byte of the next request.
    if (buffer.size() == 0) {
      stream.expires_after(cfg.idle_timeout);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), use_tuple);
      if (ec) break;  // closed by the client, idle timeout, or shutdown
      buffer.commit(n);
    }
    conn->busy = true;

    // 2. Headers, within header_timeout and header_limit.
    bhttp::request_parser<bhttp::empty_body> head;
    head.header_limit(static_cast<std::uint32_t>(cfg.header_limit));
    stream.expires_after(cfg.header_timeout);
    auto [hec, hn] = co_await bhttp::async_read_header(stream, buffer, head, use_tuple);
    (void)hn;
    if (hec) {
      if (hec == bhttp::error::header_limit || hec == bhttp::error::buffer_overflow) {
        answered_early = true;
        co_await write_early_error(*conn, 431, "headers_too_large", "request headers exceed the limit");
      } else if (hec != beast::error::timeout && hec != bhttp::error::end_of_stream && hec != asio::error::eof &&
                 hec != asio::error::operation_aborted && hec != asio::error::connection_reset) {
        answered_early = true;
        co_await write_early_error(*conn, 400, "malformed_request", "the request could not be parsed");
      }
      break;
    }

    Request req;
    req.received_at = std::chrono::steady_clock::now();
    req.remote_address = remote;
    {
      const auto& h = head.get();
      req.method = std::string(h.method_string());
      req.target = std::string(h.target());
      auto q = req.target.find('?');
      req.path = req.target.substr(0, q);
      if (q != std::string::npos) req.query = req.target.substr(q + 1);
      for (const auto& f : h) req.headers.add(std::string(f.name_string()), std::string(f.value()));
      req.keep_alive = h.keep_alive();
    }
    if (req.path.empty() || req.path.front() != '/') {
      answered_early = true;
      co_await write_early_error(*conn, 400, "malformed_request", "the request target must be an absolute path");
      break;
    }

    // 3. Body, within body_timeout and the route's limit.
    const size_t limit = body_limit_for(req.method, req.path);
    if (auto len = head.content_length(); len && *len > limit) {
      answered_early = true;
      co_await write_early_error(*conn, 413, "body_too_large",
                                 "request body exceeds " + std::to_string(limit) + " bytes");
      break;
    }
    bhttp::request_parser<bhttp::string_body> parser(std::move(head));
    parser.body_limit(limit);
    if (!parser.is_done()) {
      if (auto expect = req.headers.get("Expect"); expect && iequals(*expect, "100-continue")) {
        static const std::string cont = "HTTP/1.1 100 Continue\r\n\r\n";
        stream.expires_after(cfg.write_timeout);
        auto [cec, cn] = co_await asio::async_write(stream, asio::buffer(cont), use_tuple);
        (void)cn;
        if (cec) break;
      }
      stream.expires_after(cfg.body_timeout);
      auto [bec, bn] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
      (void)bn;
      if (bec) {
        if (bec == bhttp::error::body_limit) {
          answered_early = true;
          co_await write_early_error(*conn, 413, "body_too_large",
                                     "request body exceeds " + std::to_string(limit) + " bytes");
        } else if (bec != beast::error::timeout && bec != bhttp::error::end_of_stream && bec != asio::error::eof &&
                   bec != asio::error::operation_aborted && bec != asio::error::connection_reset &&
                   bec != bhttp::error::partial_message) {
          answered_early = true;
          co_await write_early_error(*conn, 400, "malformed_request", "the request body could not be parsed");
        }
        break;
      }
    }
    req.body = std::move(parser.get().body());

    // 4. The pipeline never throws (the errors middleware), but a bug there
    // must cost one connection, not the process.
    Response res;
    try {
      res = co_await pipeline(req);
    } catch (const std::exception& e) {
      log::error("pipeline threw", {{"error", e.what()}});
      res = error_response(500, "internal_error", "internal error", req.request_id);
    }

    const bool keep = req.keep_alive && !stopping;
    bool written = true;
    try {
      co_await write_response(*conn, req, res, keep);
    } catch (const boost::system::system_error&) {
      written = false;  // the client went away or stalled past write_timeout
    } catch (const std::exception& e) {
      // A streaming producer failed after the status line went out: all we
      // can still do is end the connection so the client sees a cut body.
      log::warn("streamed response failed", {{"request_id", req.request_id}, {"error", e.what()}});
      written = false;
    }
    conn->busy = false;
    if (!written || !keep) break;
  }

  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  if (answered_early) {
    // Lingering close: the client may still be sending the request we refused;
    // closing with unread input would reset the connection and could destroy
    // the error response before the client reads it.
    stream.expires_after(std::chrono::milliseconds(500));
    char sink[4096];
    for (int i = 0; i < 64; ++i) {
      auto [rec, rn] = co_await stream.async_read_some(asio::buffer(sink), use_tuple);
      (void)rn;
      if (rec) break;
    }
  }
  stream.socket().close(ignored);
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
    if (!c.busy) c.stream.socket().close();
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
        c.stream.socket().close(ignored);
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
