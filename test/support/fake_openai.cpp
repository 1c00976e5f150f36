#include "support/fake_openai.hpp"

#include <linux/sockios.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <array>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <cctype>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

namespace huntaze::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// Multipart audio uploads reach 32 MiB; leave room above that.
constexpr uint64_t kBodyLimit = 64ull << 20;
constexpr uint32_t kHeaderLimit = 64 * 1024;
// How long a fault waits for written bytes to reach the peer before the RST
// (an abortive close discards whatever is still queued).
constexpr int kDrainPolls = 200;  // of 1 ms

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool has_header(const std::vector<std::pair<std::string, std::string>>& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(), [&](const auto& h) { return iequals(h.first, name); });
}

// One accepted socket. Every member is touched only on the socket's executor
// (a strand when the server has several threads).
struct Connection {
  explicit Connection(tcp::socket s) : socket(std::move(s)), timer(socket.get_executor()) {}
  tcp::socket socket;
  asio::steady_timer timer;  // delays and event gaps
  bool closed = false;

  // Ends whatever the session is waiting for; it then unwinds.
  void close() {
    closed = true;
    timer.cancel();
    error_code ignored;
    socket.close(ignored);
  }
  // An abortive close: the peer gets a TCP RST instead of a FIN.
  void reset() {
    error_code ignored;
    socket.set_option(asio::socket_base::linger(true, 0), ignored);
    close();
  }
  // False when the connection was closed meanwhile (the server is stopping).
  asio::awaitable<bool> wait(std::chrono::milliseconds d) {
    if (closed) co_return false;
    timer.expires_after(d);
    auto [ec] = co_await timer.async_wait(use_tuple);
    co_return !ec && !closed;
  }
  asio::awaitable<bool> write(const std::string& data) {
    if (closed) co_return false;
    auto [ec, n] = co_await asio::async_write(socket, asio::buffer(data), use_tuple);
    (void)n;
    co_return !ec && !closed;
  }
  // Waits (briefly) until the kernel has no unacknowledged bytes for this
  // socket, so that a following reset() does not destroy them.
  asio::awaitable<void> drain() {
    for (int i = 0; i < kDrainPolls && !closed; ++i) {
      int queued = 0;
      if (::ioctl(socket.native_handle(), SIOCOUTQ, &queued) != 0 || queued == 0) co_return;
      if (!co_await wait(std::chrono::milliseconds(1))) co_return;
    }
  }
};

std::string status_line(int status) {
  std::string_view reason = bhttp::obsolete_reason(bhttp::int_to_status(static_cast<unsigned>(status)));
  if (reason.empty() || reason.front() == '<') reason = "Status";
  std::string line = "HTTP/1.1 " + std::to_string(status) + " ";
  line.append(reason);
  line += "\r\n";
  return line;
}

// Status line and headers, up to and including the blank line.
std::string head_of(const FakeReply& r, bool keep_alive) {
  std::string head = status_line(r.status);
  const bool sse = !r.sse_data.empty();
  if (!has_header(r.headers, "content-type"))
    head += sse ? "Content-Type: text/event-stream\r\n" : "Content-Type: application/json\r\n";
  if (sse)
    head += "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n";
  else
    head += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  if (!keep_alive) head += "Connection: close\r\n";
  for (const auto& [name, value] : r.headers) head += name + ": " + value + "\r\n";
  head += "\r\n";
  return head;
}

// One chunk of a chunked body carrying one SSE event.
std::string event_chunk(std::string_view data) {
  std::string event = "data: ";
  event.append(data);
  event += "\n\n";
  char size[24];
  int n = std::snprintf(size, sizeof size, "%zx\r\n", event.size());
  std::string chunk(size, static_cast<size_t>(n));
  chunk += event;
  chunk += "\r\n";
  return chunk;
}

constexpr std::string_view kLastChunk = "0\r\n\r\n";

FakeRequest to_request(bhttp::request<bhttp::string_body>&& msg) {
  FakeRequest r;
  r.method = std::string(msg.method_string());
  r.target = std::string(msg.target());
  r.path = r.target.substr(0, r.target.find('?'));
  r.headers.reserve(8);
  for (const auto& field : msg) r.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  r.body = std::move(msg.body());
  return r;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::atomic<uint64_t> next_completion_id{1};

json::object usage_of(int64_t prompt_tokens, int64_t completion_tokens) {
  return json::object{{"prompt_tokens", prompt_tokens},
                      {"completion_tokens", completion_tokens},
                      {"total_tokens", prompt_tokens + completion_tokens}};
}

}  // namespace

// ---------------------------------------------------------------------------
// FakeRequest

std::string FakeRequest::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (iequals(n, name)) return v;
  return "";
}

// (Qualified: inside the class, `json` names this member.)
json::value FakeRequest::json() const { return boost::json::parse(body); }

// ---------------------------------------------------------------------------
// The server

struct FakeOpenAi::Impl {
  using Handler = std::function<FakeReply(const FakeRequest&)>;

  Impl(uint16_t requested_port, int thread_count, size_t limit)
      : record_limit(limit),
        multi_threaded(thread_count > 1),
        ioc(std::max(thread_count, 1)),
        accept_strand(asio::make_strand(ioc)),
        acceptor(accept_strand) {
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), requested_port);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
    port = acceptor.local_endpoint().port();
    live = 1;  // the accept loop
    asio::co_spawn(accept_strand, accept_loop(), asio::detached);
    for (int i = 0; i < std::max(thread_count, 1); ++i) threads.emplace_back([this] { ioc.run(); });
  }

  // Declared before the io_context: coroutine frames the io_context may
  // destroy at the very end still unregister themselves here.
  mutable std::mutex mutex;  // guards everything down to `live`
  std::condition_variable idle;
  bool stopping = false;
  int live = 0;  // coroutines running (accept loop and sessions)
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections;
  std::map<std::string, std::deque<FakeReply>, std::less<>> scripts;
  std::shared_ptr<const Handler> default_handler;
  std::vector<FakeRequest> recorded;
  size_t count = 0;

  const size_t record_limit;
  const bool multi_threaded;
  int port = 0;
  asio::io_context ioc;
  asio::strand<asio::io_context::executor_type> accept_strand;
  tcp::acceptor acceptor;
  std::vector<std::thread> threads;

  // Counts a coroutine as live from construction to destruction, and
  // forgets its connection at the end.
  struct Live {
    Live(Impl& impl, Connection* conn) : impl(impl), conn(conn) {}
    ~Live() {
      std::lock_guard lock(impl.mutex);
      if (conn) impl.connections.erase(conn);
      if (--impl.live == 0) impl.idle.notify_all();
    }
    Impl& impl;
    Connection* conn;
  };

  void stop() {
    std::vector<std::shared_ptr<Connection>> open;
    {
      std::lock_guard lock(mutex);
      stopping = true;
      for (auto& [ptr, weak] : connections)
        if (auto c = weak.lock()) open.push_back(std::move(c));
    }
    asio::post(accept_strand, [this] {
      error_code ignored;
      acceptor.close(ignored);
    });
    for (auto& c : open) asio::post(c->socket.get_executor(), [c] { c->close(); });
    open.clear();
    {
      // Everything unwinds within milliseconds once closed; the bound only
      // guards against a handler that never returns.
      std::unique_lock lock(mutex);
      idle.wait_for(lock, std::chrono::seconds(5), [this] { return live == 0; });
    }
    ioc.stop();
    for (auto& t : threads) t.join();
    threads.clear();
  }

  asio::awaitable<void> accept_loop() {
    Live guard(*this, nullptr);  // `live` was counted by the constructor
    for (;;) {
      asio::any_io_executor executor = multi_threaded ? asio::any_io_executor(asio::make_strand(ioc))
                                                      : asio::any_io_executor(ioc.get_executor());
      auto [ec, socket] = co_await acceptor.async_accept(executor, use_tuple);
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) {  // out of descriptors or similar: pause instead of spinning
        asio::steady_timer pause(accept_strand, std::chrono::milliseconds(20));
        co_await pause.async_wait(use_tuple);
        continue;
      }
      error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);  // SSE events and 100 Continue go out at once
      auto conn = std::make_shared<Connection>(std::move(socket));
      {
        std::lock_guard lock(mutex);
        if (stopping) co_return;  // conn closes with its last reference
        connections.emplace(conn.get(), conn);
        ++live;
      }
      asio::co_spawn(conn->socket.get_executor(), session(conn), asio::detached);
    }
  }

  asio::awaitable<void> session(std::shared_ptr<Connection> conn) {
    Live guard(*this, conn.get());  // `live` was counted by accept_loop
    beast::flat_buffer buffer;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(kHeaderLimit);
      parser.body_limit(kBodyLimit);
      auto [ec, n] = co_await bhttp::async_read_header(conn->socket, buffer, parser, use_tuple);
      (void)n;
      if (!ec && !parser.is_done()) {
        if (iequals(parser.get()[bhttp::field::expect], "100-continue")) {
          const std::string go_on = "HTTP/1.1 100 Continue\r\n\r\n";
          if (!co_await conn->write(go_on)) co_return;
        }
        auto [body_ec, body_n] = co_await bhttp::async_read(conn->socket, buffer, parser, use_tuple);
        (void)body_n;
        ec = body_ec;
      }
      if (conn->closed) co_return;
      if (ec) {
        if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
            ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
          const bool too_large = ec == bhttp::error::body_limit || ec == bhttp::error::header_limit;
          FakeReply refusal = too_large ? error(413, "request_too_large", ec.message())
                                        : error(400, "bad_request", ec.message());
          const std::string text = head_of(refusal, false) + refusal.body;
          co_await conn->write(text);
          finish(*conn);
        }
        co_return;
      }
      const bool keep_alive = parser.get().keep_alive();
      FakeRequest request = to_request(parser.release());
      FakeReply reply = reply_for(request);
      if (!co_await answer(*conn, reply, keep_alive)) co_return;
      if (!keep_alive) {
        finish(*conn);
        co_return;
      }
    }
  }

  // A graceful close after the last response.
  static void finish(Connection& conn) {
    error_code ignored;
    conn.socket.shutdown(tcp::socket::shutdown_send, ignored);
    conn.close();
  }

  // Counts and records the request, then takes the next scripted reply for
  // its path or asks the default handler.
  FakeReply reply_for(const FakeRequest& request) {
    std::shared_ptr<const Handler> handler;
    {
      std::lock_guard lock(mutex);
      ++count;
      if (recorded.size() < record_limit) recorded.push_back(request);
      if (auto it = scripts.find(request.path); it != scripts.end()) {
        FakeReply reply = std::move(it->second.front());
        it->second.pop_front();
        if (it->second.empty()) scripts.erase(it);
        return reply;
      }
      handler = default_handler;
    }
    try {
      return handler ? (*handler)(request) : FakeOpenAi::default_reply(request);
    } catch (const std::exception& e) {
      return error(500, "fake_handler_failed", e.what());
    }
  }

  // Sends `reply` (or plays its fault). False when the connection is over.
  static asio::awaitable<bool> answer(Connection& conn, const FakeReply& reply, bool keep_alive) {
    using Fault = FakeReply::Fault;
    if (reply.fault == Fault::stall) {
      // Keep reading (and discarding) so that the client closing the
      // connection, or the server stopping, ends the wait.
      std::array<char, 4096> sink;
      for (;;) {
        auto [ec, n] = co_await conn.socket.async_read_some(asio::buffer(sink), use_tuple);
        (void)n;
        if (ec || conn.closed) break;
      }
      conn.close();
      co_return false;
    }
    if (reply.delay.count() > 0) {
      const bool waited = co_await conn.wait(reply.delay);
      if (!waited) co_return false;
    }
    if (reply.fault == Fault::reset_before_headers) {
      conn.reset();
      co_return false;
    }

    const bool reset_after = reply.fault == Fault::reset_after_events;
    std::string out = head_of(reply, keep_alive && !reset_after);
    if (reply.sse_data.empty()) {
      if (!reset_after) {
        out += reply.body;
        co_return co_await conn.write(out);
      }
      out.append(reply.body, 0, reply.body.size() / 2);
      if (co_await conn.write(out)) co_await conn.drain();
      conn.reset();
      co_return false;
    }

    // SSE: without gaps the whole stream goes out in one write (the chunks
    // stay separate on the wire); with gaps, one write per event. A reset
    // comes right after the scripted events, before any [DONE].
    const bool gaps = reply.event_gap.count() > 0;
    const bool done = !reset_after && !reply.omit_done;
    const size_t events = reply.sse_data.size() + (done ? 1 : 0);
    for (size_t i = 0; i < events; ++i) {
      if (gaps && i > 0) {
        if (!co_await conn.write(out)) co_return false;
        out.clear();
        if (!co_await conn.wait(reply.event_gap)) co_return false;
      }
      out += event_chunk(i < reply.sse_data.size() ? std::string_view(reply.sse_data[i]) : "[DONE]");
    }
    if (reset_after) {
      if (co_await conn.write(out)) co_await conn.drain();
      conn.reset();
      co_return false;
    }
    out += kLastChunk;
    co_return co_await conn.write(out);
  }
};

// ---------------------------------------------------------------------------
// FakeOpenAi

FakeOpenAi::FakeOpenAi(int threads, size_t record_limit) : FakeOpenAi(uint16_t{0}, threads, record_limit) {}

FakeOpenAi::FakeOpenAi(uint16_t port, int threads, size_t record_limit)
    : impl_(std::make_unique<Impl>(port, threads, record_limit)) {}

FakeOpenAi::~FakeOpenAi() { impl_->stop(); }

int FakeOpenAi::port() const { return impl_->port; }

std::string FakeOpenAi::url(std::string_view path) const {
  std::string u = "http://127.0.0.1:" + std::to_string(impl_->port);
  u.append(path);
  return u;
}

void FakeOpenAi::script(const std::string& path, FakeReply reply) {
  std::lock_guard lock(impl_->mutex);
  impl_->scripts[path].push_back(std::move(reply));
}

void FakeOpenAi::script(const std::string& path, std::vector<FakeReply> replies) {
  if (replies.empty()) return;
  std::lock_guard lock(impl_->mutex);
  auto& queue = impl_->scripts[path];
  for (auto& r : replies) queue.push_back(std::move(r));
}

void FakeOpenAi::set_default(std::function<FakeReply(const FakeRequest&)> handler) {
  auto shared = handler ? std::make_shared<const Impl::Handler>(std::move(handler)) : nullptr;
  std::lock_guard lock(impl_->mutex);
  impl_->default_handler = std::move(shared);
}

std::vector<FakeRequest> FakeOpenAi::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->recorded;
}

size_t FakeOpenAi::request_count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->count;
}

void FakeOpenAi::clear() {
  std::lock_guard lock(impl_->mutex);
  impl_->scripts.clear();
  impl_->recorded.clear();
  impl_->count = 0;
}

// ---------------------------------------------------------------------------
// Canned replies

FakeReply FakeOpenAi::default_reply(const FakeRequest& request) {
  if (request.method == "POST" && ends_with(request.path, "/chat/completions")) {
    error_code ec;
    json::value body = json::parse(request.body, ec);
    if (ec) return error(400, "invalid_json", "the request body is not valid JSON: " + ec.message());
    std::string model = "fake";
    bool stream = false;
    bool include_usage = false;
    if (const auto* o = body.if_object()) {
      if (const auto* m = o->if_contains("model"); m && m->is_string()) model = std::string(m->get_string());
      if (const auto* s = o->if_contains("stream"); s && s->is_bool()) stream = s->get_bool();
      if (const auto* so = o->if_contains("stream_options"); so && so->is_object()) {
        const auto* iu = so->get_object().if_contains("include_usage");
        include_usage = iu && iu->is_bool() && iu->get_bool();
      }
    }
    FakeReply reply;
    if (stream)
      reply.sse_data = completion_chunks({"o", "k"}, 10, 5, "stop", include_usage, model);
    else
      reply.body = completion("ok", 10, 5, "stop", model);
    return reply;
  }
  if (request.method == "POST" && ends_with(request.path, "/audio/transcriptions")) {
    FakeReply reply;
    reply.body = R"({"text":"hello world"})";
    return reply;
  }
  return error(404, "not_found", "no fake route for " + request.method + " " + request.path);
}

std::string FakeOpenAi::completion(std::string_view content, int64_t prompt_tokens, int64_t completion_tokens,
                                   std::string_view finish_reason, std::string_view model,
                                   std::string_view reasoning_content) {
  json::object message{{"role", "assistant"}, {"content", content}};
  if (!reasoning_content.empty()) message["reasoning_content"] = reasoning_content;
  json::object choice{{"index", 0}, {"message", std::move(message)}, {"finish_reason", finish_reason}};
  json::object doc{
      {"id", "chatcmpl-fake-" + std::to_string(next_completion_id++)},
      {"object", "chat.completion"},
      {"created", static_cast<int64_t>(std::time(nullptr))},
      {"model", model},
      {"choices", json::array{std::move(choice)}},
      {"usage", usage_of(prompt_tokens, completion_tokens)},
  };
  return json::serialize(doc);
}

std::vector<std::string> FakeOpenAi::completion_chunks(const std::vector<std::string>& pieces,
                                                       int64_t prompt_tokens, int64_t completion_tokens,
                                                       std::string_view finish_reason, bool include_usage,
                                                       std::string_view model) {
  const std::string id = "chatcmpl-fake-" + std::to_string(next_completion_id++);
  const auto created = static_cast<int64_t>(std::time(nullptr));
  auto chunk = [&](json::array choices) {
    json::object c{{"id", id},
                   {"object", "chat.completion.chunk"},
                   {"created", created},
                   {"model", model},
                   {"choices", std::move(choices)}};
    return c;
  };
  auto choice = [](json::object delta, json::value finish) {
    return json::object{{"index", 0}, {"delta", std::move(delta)}, {"finish_reason", std::move(finish)}};
  };
  std::vector<std::string> out;
  out.reserve(pieces.size() + 3);
  out.push_back(json::serialize(chunk(json::array{choice(json::object{{"role", "assistant"}, {"content", ""}}, nullptr)})));
  for (const auto& piece : pieces)
    out.push_back(json::serialize(chunk(json::array{choice(json::object{{"content", piece}}, nullptr)})));
  out.push_back(json::serialize(chunk(json::array{choice(json::object{}, json::string(finish_reason))})));
  if (include_usage) {
    json::object last = chunk(json::array{});
    last["usage"] = usage_of(prompt_tokens, completion_tokens);
    out.push_back(json::serialize(last));
  }
  return out;
}

FakeReply FakeOpenAi::error(int status, std::string_view code, std::string_view message) {
  json::object err{{"message", message},
                   {"type", status >= 500 ? "server_error" : "invalid_request_error"},
                   {"code", code}};
  FakeReply reply;
  reply.status = status;
  reply.body = json::serialize(json::object{{"error", std::move(err)}});
  return reply;
}

}  // namespace huntaze::test
