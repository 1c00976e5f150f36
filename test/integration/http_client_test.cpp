// The outbound HTTP client (libcurl multi driven by Asio) against our own
// HTTP server on loopback: requests and responses, streaming, connection
// reuse, limits, timeouts, cancellation, the SSRF guard and concurrency.
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <future>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "http/curl_client.hpp"
#include "huntaze/http/client.hpp"
#include "support/tls_server.hpp"
#include "support/harness.hpp"
#include "support/io_threads.hpp"
#include "support/test_server.hpp"

using namespace huntaze;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using http::ClientRequest;
using http::ClientResponse;
using Kind = http::HttpClientError::Kind;

namespace {

// Set by the client's on_chunk when it saw the first streamed piece; the
// /stream route waits for it before sending the rest, so its last piece says
// whether the client really streamed.
std::atomic<bool> first_piece_seen{false};

void add_routes(test::TestServer& s) {
  s.router.get("/hello", [](http::Request&) -> asio::awaitable<http::Response> {
    co_return http::Response::json_text(200, R"({"hello":"world"})");
  });
  // What the server saw: the method, the body, some request headers.
  auto echo = [](http::Request& req) -> asio::awaitable<http::Response> {
    auto res = http::Response::text(200, req.body, "application/octet-stream");
    res.headers.set("X-Method", req.method);
    res.headers.set("X-Echo", std::string(req.headers.get("x-test").value_or("")));
    res.headers.set("X-Expect", std::string(req.headers.get("expect").value_or("(none)")));
    auto empty = req.headers.get("x-empty");
    res.headers.set("X-Empty", empty ? "present '" + std::string(*empty) + "'" : std::string("absent"));
    res.headers.set("X-Content-Length", std::string(req.headers.get("content-length").value_or("none")));
    co_return res;
  };
  s.router.post("/echo", echo);
  s.router.put("/echo", echo);
  s.router.del("/echo", echo);
  s.router.get("/echo", echo);
  s.router.get("/moved", [](http::Request&) -> asio::awaitable<http::Response> {
    auto res = http::Response::text(302, "see /hello");
    res.headers.set("Location", "/hello");
    co_return res;
  });
  s.router.get("/big", [](http::Request&) -> asio::awaitable<http::Response> {
    co_return http::Response::text(200, std::string(64 * 1024, 'b'));
  });
  s.router.get("/big-stream", [](http::Request&) -> asio::awaitable<http::Response> {
    co_return http::Response::streamed(200, "text/plain", [](http::BodyWriter& w) -> asio::awaitable<void> {
      std::string piece(4096, 's');
      for (int i = 0; i < 16; ++i) co_await w.write(piece);
    });
  });
  s.router.get("/stream", [](http::Request&) -> asio::awaitable<http::Response> {
    co_return http::Response::streamed(200, "text/plain", [](http::BodyWriter& w) -> asio::awaitable<void> {
      std::string first = "first;";
      co_await w.write(first);
      asio::steady_timer timer(co_await asio::this_coro::executor);
      auto deadline = std::chrono::steady_clock::now() + 10s;
      while (!first_piece_seen && std::chrono::steady_clock::now() < deadline) {
        timer.expires_after(5ms);
        co_await timer.async_wait(asio::use_awaitable);
      }
      std::string last = first_piece_seen ? "second" : "never-streamed";
      co_await w.write(last);
    });
  });
}

// A port that accepts connections (the kernel completes the handshake) and
// never answers.
struct SilentServer {
  SilentServer() : acceptor(ioc, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}
  std::string url() const { return "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/"; }
  asio::io_context ioc;
  asio::ip::tcp::acceptor acceptor;
};

// A hostile server: answers every connection with `head`, then `filler` over
// and over (up to 16 MiB) for as long as the client keeps reading.
struct FloodServer {
  FloodServer(std::string head, std::string filler)
      : acceptor(ioc, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(ioc, serve(std::move(head), std::move(filler)), [](std::exception_ptr) {});
    thread = std::thread([this] { ioc.run(); });
  }
  ~FloodServer() {
    ioc.stop();
    thread.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/"; }

  asio::awaitable<void> serve(std::string head, std::string filler) {
    for (;;) {
      auto socket = co_await acceptor.async_accept(asio::use_awaitable);
      std::string block;
      while (block.size() < 64 * 1024) block += filler;
      co_await asio::async_write(socket, asio::buffer(head), asio::use_awaitable);
      for (int i = 0; i < 256; ++i) co_await asio::async_write(socket, asio::buffer(block), asio::use_awaitable);
    }
  }

  asio::io_context ioc;
  asio::ip::tcp::acceptor acceptor;
  std::thread thread;
};

// A bare HTTP/1.1 server that answers each request (on a connection of its
// own) with the Expect header it saw and the size of the body, for bodies
// larger than our server takes. It sends "100 Continue" only when asked for it.
struct ExpectEchoServer {
  ExpectEchoServer() : acceptor(ioc, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(ioc, serve(), [](std::exception_ptr) {});
    thread = std::thread([this] { ioc.run(); });
  }
  ~ExpectEchoServer() {
    ioc.stop();
    thread.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/"; }

  asio::awaitable<void> serve() {
    for (;;) {
      auto socket = co_await acceptor.async_accept(asio::use_awaitable);
      try {
        co_await answer(socket);
      } catch (const boost::system::system_error&) {
        // The client went away: wait for the next one.
      }
    }
  }

  static asio::awaitable<void> answer(asio::ip::tcp::socket& socket) {
    boost::beast::flat_buffer buffer;
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(64 << 20);
    co_await bhttp::async_read_header(socket, buffer, parser, asio::use_awaitable);
    const auto expect = parser.get().find(bhttp::field::expect);
    const std::string seen = expect == parser.get().end() ? "(none)" : std::string(expect->value());
    if (boost::beast::iequals(seen, "100-continue")) {
      const std::string go_on = "HTTP/1.1 100 Continue\r\n\r\n";
      co_await asio::async_write(socket, asio::buffer(go_on), asio::use_awaitable);
    }
    co_await bhttp::async_read(socket, buffer, parser, asio::use_awaitable);
    bhttp::response<bhttp::string_body> res{bhttp::status::ok, 11};
    res.set("X-Expect", seen);
    res.set("X-Body-Bytes", std::to_string(parser.get().body().size()));
    res.set(bhttp::field::connection, "close");
    res.prepare_payload();
    co_await bhttp::async_write(socket, res, asio::use_awaitable);
  }

  asio::io_context ioc;
  asio::ip::tcp::acceptor acceptor;
  std::thread thread;
};

// "response", or the kind of HttpClientError the request ended with.
asio::awaitable<std::string> outcome_of(http::HttpClient& client, ClientRequest request) {
  std::string outcome = "response";
  try {
    co_await client.send(std::move(request));
  } catch (const http::HttpClientError& e) {
    outcome = std::string(to_string(e.kind()));
  }
  co_return outcome;
}

// outcome_of, or "still waiting" (and the request cancelled) after `patience`.
asio::awaitable<std::string> outcome_within(http::HttpClient& client, ClientRequest request,
                                            std::chrono::milliseconds patience) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(co_await asio::this_coro::executor, patience);
  auto outcome = outcome_of(client, std::move(request));
  auto wait = timer.async_wait(asio::use_awaitable);
  auto result = co_await (std::move(outcome) || std::move(wait));
  if (result.index() == 1) co_return std::string("still waiting");
  co_return std::get<0>(std::move(result));
}

struct Fixture {
  explicit Fixture(http::HttpClientConfig config = {}) {
    add_routes(server);
    server.start();
    client = http::make_curl_client(io.executor(), std::move(config), metrics);
  }

  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port()) + path; }
  int port() const { return server.port(); }

  ClientResponse send(ClientRequest request) { return io.block(client->send(std::move(request))); }
  ClientResponse get(const std::string& url, bool untrusted = false) {
    ClientRequest r;
    r.url = url;
    r.untrusted_url = untrusted;
    return send(std::move(r));
  }
  // The kind of HttpClientError the request ends with; fails the test when it succeeds.
  Kind error_of(ClientRequest request) {
    try {
      auto r = send(std::move(request));
      FAIL("expected an HttpClientError, got status " << r.status);
    } catch (const http::HttpClientError& e) {
      last_error = e.what();
      return e.kind();
    }
    return Kind::other;
  }
  Kind error_of_get(const std::string& url, bool untrusted = false) {
    ClientRequest r;
    r.url = url;
    r.untrusted_url = untrusted;
    return error_of(std::move(r));
  }

  double requests(std::string_view method, std::string_view outcome) {
    return metrics.counter("huntaze_http_client_requests_total", "", {"method", "outcome"})
        .with({method, outcome})
        .value();
  }
  double connections_opened() {
    return metrics.counter("huntaze_http_client_connections_opened_total", "").with({}).value();
  }
  double in_flight() { return metrics.gauge("huntaze_http_client_in_flight", "").with({}).value(); }

  // Declaration order matters: the client goes first, then its I/O threads.
  test::IoThreads io{2};
  metrics::Registry metrics;
  test::TestServer server;
  std::unique_ptr<http::HttpClient> client;
  std::string last_error;
};

}  // namespace

TEST_CASE("GET and POST carry method, headers and body both ways", "[http][client]") {
  Fixture f;

  auto hello = f.get(f.url("/hello"));
  CHECK(hello.status == 200);
  CHECK(hello.body == R"({"hello":"world"})");
  CHECK(hello.header("CONTENT-TYPE").find("application/json") != std::string::npos);
  CHECK(hello.header("x-no-such-header").empty());
  CHECK(hello.time_to_first_byte.count() > 0);

  ClientRequest post;
  post.method = "POST";
  post.url = f.url("/echo");
  post.headers = {{"X-Test", "hello header"}, {"Content-Type", "text/plain"}};
  post.body = "the payload";
  auto echoed = f.send(std::move(post));
  CHECK(echoed.status == 200);
  CHECK(echoed.body == "the payload");
  CHECK(echoed.header("x-echo") == "hello header");
  CHECK(echoed.header("X-Method") == "POST");

  ClientRequest put;  // a method curl only knows as a custom request, with a body
  put.method = "PUT";
  put.url = f.url("/echo");
  put.body = std::string(200 * 1024, 'p');
  auto put_echoed = f.send(std::move(put));
  CHECK(put_echoed.header("x-method") == "PUT");
  CHECK(put_echoed.body == std::string(200 * 1024, 'p'));

  auto missing = f.get(f.url("/nowhere"));  // an HTTP error status is a response, not an exception
  CHECK(missing.status == 404);
  CHECK(missing.body.find("not_found") != std::string::npos);

  CHECK(f.requests("GET", "2xx") == 1);
  CHECK(f.requests("POST", "2xx") == 1);
  CHECK(f.requests("PUT", "2xx") == 1);
  CHECK(f.requests("GET", "4xx") == 1);
}

TEST_CASE("on_chunk receives the body as it arrives", "[http][client]") {
  Fixture f;
  first_piece_seen = false;
  std::string received;
  int calls = 0;
  ClientRequest r;
  r.url = f.url("/stream");
  r.on_chunk = [&](std::string_view chunk) {
    ++calls;
    received += chunk;
    if (received.find("first;") != std::string::npos) first_piece_seen = true;
  };
  auto res = f.send(std::move(r));
  CHECK(res.status == 200);
  CHECK(res.body.empty());
  CHECK(received == "first;second");
  CHECK(calls >= 2);
}

TEST_CASE("an exception from on_chunk aborts the transfer and reaches the caller", "[http][client]") {
  Fixture f;
  ClientRequest r;
  r.url = f.url("/big-stream");
  r.on_chunk = [](std::string_view) { throw std::logic_error("consumer gave up"); };
  CHECK_THROWS_WITH(f.send(std::move(r)), "consumer gave up");
  CHECK(f.get(f.url("/hello")).status == 200);
}

TEST_CASE("sequential requests reuse one connection", "[http][client]") {
  Fixture f;
  for (int i = 0; i < 5; ++i) CHECK(f.get(f.url("/hello")).status == 200);
  CHECK(f.connections_opened() == 1);
}

TEST_CASE("responses over max_response_bytes fail with too_large", "[http][client]") {
  Fixture f;
  ClientRequest r;
  r.max_response_bytes = 1024;

  SECTION("announced by Content-Length") {
    r.url = f.url("/big");
    CHECK(f.error_of(r) == Kind::too_large);
  }
  SECTION("streamed without a length") {
    r.url = f.url("/big-stream");
    CHECK(f.error_of(r) == Kind::too_large);
  }
  SECTION("streamed to on_chunk") {
    r.url = f.url("/big-stream");
    size_t delivered = 0;
    r.on_chunk = [&](std::string_view chunk) { delivered += chunk.size(); };
    CHECK(f.error_of(r) == Kind::too_large);
    CHECK(delivered <= 1024);
  }
  SECTION("exactly at the limit is fine") {
    r.url = f.url("/big");
    r.max_response_bytes = 64 * 1024;
    CHECK(f.send(r).body.size() == 64 * 1024);
  }
  CHECK(f.get(f.url("/hello")).status == 200);
}

TEST_CASE("a server that never answers trips the timeouts", "[http][client]") {
  Fixture f;
  SilentServer silent;
  ClientRequest r;
  r.url = silent.url();

  SECTION("total_timeout") {
    r.total_timeout = 300ms;
    CHECK(f.error_of(r) == Kind::timeout);
    CHECK(f.last_error.find("timed out") != std::string::npos);
    CHECK(f.requests("GET", "timeout") == 1);
  }
  SECTION("idle_timeout") {
    // It also bounds the wait for the first byte (client.hpp says so).
    r.idle_timeout = 1s;
    CHECK(f.error_of(r) == Kind::timeout);
    // curl's words for the low-speed limit: it was idle_timeout, not total_timeout, that fired.
    CHECK(f.last_error.find("too slow") != std::string::npos);
  }
  CHECK(f.in_flight() == 0);
}

TEST_CASE("a refused connection fails with connect", "[http][client]") {
  Fixture f;
  CHECK(f.error_of_get("http://127.0.0.1:" + std::to_string(test::free_port()) + "/") == Kind::connect);
  CHECK(f.requests("GET", "connect") == 1);
}

TEST_CASE("requests curl cannot make fail with other", "[http][client]") {
  Fixture f;
  CHECK(f.error_of_get("ftp://127.0.0.1/file") == Kind::other);
  CHECK(f.error_of_get("not a url") == Kind::other);
  ClientRequest r;
  r.url = f.url("/hello");
  r.headers = {{"X-Injected", "a\r\nHost: elsewhere"}};
  CHECK(f.error_of(r) == Kind::other);
  r.headers = {{"X-Injected", "a\nHost: elsewhere"}};
  CHECK(f.error_of(r) == Kind::other);
  // curl's header list holds C strings: a NUL would silently cut the value.
  r.headers = {{"X-Truncated", std::string("kept\0dropped", 12)}};
  CHECK(f.error_of(r) == Kind::other);
  CHECK(f.last_error.find("X-Truncated") != std::string::npos);
  r.headers = {{"Bad Name", "value"}};
  CHECK(f.error_of(r) == Kind::other);
  r.headers.clear();
  const std::vector<std::string> bad_methods = {"GE T", "GET\r\nX-Injected: 1", "", "G(E)T", std::string("GE\0T", 5)};
  for (const auto& method : bad_methods) {
    INFO(method);
    r.method = method;
    CHECK(f.error_of(r) == Kind::other);
    CHECK(f.last_error.find("invalid HTTP method") != std::string::npos);
  }
  // None of them opened a connection or stayed in flight.
  CHECK(f.in_flight() == 0);
  CHECK(f.connections_opened() == 0);
}

TEST_CASE("curl's Expect: 100-continue is removed, a caller's Expect is kept", "[http][client]") {
  Fixture f;
  ExpectEchoServer bare;
  // curl 7.88 adds "Expect: 100-continue" to bodies over 1 MiB (our server
  // refuses those before routing, so a bare one takes them).
  const std::string big(2 << 20, 'e');
  ClientRequest put;
  put.method = "PUT";
  put.url = bare.url();
  put.body = big;
  auto res = f.send(put);
  CHECK(res.status == 200);
  CHECK(res.header("x-body-bytes") == std::to_string(big.size()));
  CHECK(res.header("x-expect") == "(none)");

  put.method = "POST";
  auto posted = f.send(put);
  CHECK(posted.status == 200);
  CHECK(posted.header("x-body-bytes") == std::to_string(big.size()));
  CHECK(posted.header("x-expect") == "(none)");

  // A caller's own Expect goes out as given, whatever the spelling of its name.
  ClientRequest post;
  post.method = "POST";
  post.url = f.url("/echo");
  post.headers = {{"Expect", "100-continue"}};
  post.body = "small";
  auto kept = f.send(post);
  CHECK(kept.status == 200);
  CHECK(kept.body == "small");
  CHECK(kept.header("x-expect") == "100-continue");

  post.url = bare.url();
  post.headers = {{"EXPECT", "100-continue"}};
  post.body = big;
  auto kept_big = f.send(post);
  CHECK(kept_big.status == 200);
  CHECK(kept_big.header("x-body-bytes") == std::to_string(big.size()));
  CHECK(kept_big.header("x-expect") == "100-continue");

  // Small bodies reach our own server without it either.
  post.url = f.url("/echo");
  post.headers.clear();
  post.body = "small";
  CHECK(f.send(post).header("x-expect") == "(none)");
}

TEST_CASE("HEAD, DELETE, empty header values and unknown methods are sent as asked", "[http][client]") {
  Fixture f;

  SECTION("HEAD reads no body, and the connection stays usable") {
    ClientRequest head;
    head.method = "HEAD";
    head.url = f.url("/hello");
    auto res = f.send(head);
    CHECK(res.status == 200);
    CHECK(res.body.empty());
    CHECK(res.header("content-length") == std::to_string(std::string(R"({"hello":"world"})").size()));
    auto next = f.get(f.url("/hello"));
    CHECK(next.status == 200);
    CHECK(next.body == R"({"hello":"world"})");
    CHECK(f.connections_opened() == 1);
    CHECK(f.requests("HEAD", "2xx") == 1);
  }
  SECTION("DELETE without a body sends no body and no Content-Length") {
    ClientRequest del;
    del.method = "DELETE";
    del.url = f.url("/echo");
    auto res = f.send(del);
    CHECK(res.status == 200);
    CHECK(res.header("x-method") == "DELETE");
    CHECK(res.header("x-content-length") == "none");
    CHECK(res.body.empty());
    CHECK(f.requests("DELETE", "2xx") == 1);
  }
  SECTION("a header with an empty value reaches the server as such") {
    ClientRequest get;
    get.url = f.url("/echo");
    get.headers = {{"X-Empty", ""}, {"X-Test", "set"}};
    auto res = f.send(get);
    CHECK(res.status == 200);
    CHECK(res.header("x-empty") == "present ''");
    CHECK(res.header("x-echo") == "set");

    get.headers = {{"X-Test", "set"}};
    CHECK(f.send(get).header("x-empty") == "absent");
  }
  SECTION("a method outside the standard set is sent, and counted as OTHER") {
    ClientRequest purge;
    purge.method = "PURGE";
    purge.url = f.url("/echo");
    auto res = f.send(purge);
    CHECK(res.status == 405);
    CHECK(f.requests("OTHER", "4xx") == 1);
  }
  CHECK(f.in_flight() == 0);
}

TEST_CASE("cancelling the awaiting coroutine aborts the transfer", "[http][client]") {
  Fixture f;
  SilentServer silent;
  ClientRequest r;
  r.url = silent.url();
  auto winner = f.io.block([&]() -> asio::awaitable<size_t> {
    using namespace asio::experimental::awaitable_operators;
    asio::steady_timer timer(co_await asio::this_coro::executor, 200ms);
    auto request = f.client->send(std::move(r));
    auto wait = timer.async_wait(asio::use_awaitable);
    auto result = co_await (std::move(request) || std::move(wait));
    co_return result.index();
  }());
  CHECK(winner == 1);
  CHECK(f.requests("GET", "cancelled") == 1);
  CHECK(f.in_flight() == 0);
  // The client carries on.
  CHECK(f.get(f.url("/hello")).status == 200);
}

TEST_CASE("untrusted URLs cannot reach loopback, however spelled", "[http][client][ssrf]") {
  Fixture f;
  const std::string port = std::to_string(f.port());
  for (std::string url : {"http://127.0.0.1:" + port + "/hello", "http://2130706433:" + port + "/hello",
                          "http://0177.0.0.1:" + port + "/hello", "http://0x7f.1:" + port + "/hello",
                          "http://localhost:" + port + "/hello", "http://[::ffff:127.0.0.1]:" + port + "/hello",
                          "http://[::1]:" + port + "/hello"}) {
    INFO(url);
    CHECK(f.error_of_get(url, true) == Kind::blocked);
    CHECK(f.last_error.find("loopback") != std::string::npos);
  }
  CHECK(f.requests("GET", "blocked") == 7);
  // The same URL from trusted code is fine: it was the guard that refused.
  CHECK(f.get("http://2130706433:" + port + "/hello").status == 200);
  // ...and the connection that request left in the pool is not reused for an untrusted one.
  CHECK(f.error_of_get("http://127.0.0.1:" + port + "/hello", true) == Kind::blocked);
}

TEST_CASE("allow_private admits addresses and hosts for untrusted URLs", "[http][client][ssrf]") {
  SECTION("by address") {
    http::HttpClientConfig config;
    config.allow_private = {"127.0.0.1"};
    Fixture f(config);
    const std::string port = std::to_string(f.port());
    CHECK(f.get("http://127.0.0.1:" + port + "/hello", true).status == 200);
    CHECK(f.get("http://2130706433:" + port + "/hello", true).status == 200);
    CHECK(f.error_of_get("http://127.0.0.2:" + port + "/hello", true) == Kind::blocked);
  }
  SECTION("by host name") {
    http::HttpClientConfig config;
    config.allow_private = {"localhost"};
    Fixture f(config);
    const std::string port = std::to_string(f.port());
    CHECK(f.get("http://localhost:" + port + "/hello", true).status == 200);
    CHECK(f.error_of_get("http://127.0.0.1:" + port + "/hello", true) == Kind::blocked);
  }
}

TEST_CASE("50 concurrent requests on two threads all succeed", "[http][client]") {
  Fixture f;
  std::vector<std::future<ClientResponse>> pending;
  for (int i = 0; i < 50; ++i) {
    ClientRequest r;
    r.method = "POST";
    r.url = f.url("/echo");
    r.body = "request " + std::to_string(i);
    pending.push_back(f.io.spawn(f.client->send(std::move(r))));
  }
  for (int i = 0; i < 50; ++i) {
    auto res = pending[i].get();
    CHECK(res.status == 200);
    CHECK(res.body == "request " + std::to_string(i));
  }
  CHECK(f.requests("POST", "2xx") == 50);
  CHECK(f.in_flight() == 0);
}

TEST_CASE("redirects are returned, not followed", "[http][client]") {
  Fixture f;
  auto res = f.get(f.url("/moved"));
  CHECK(res.status == 302);
  CHECK(res.header("location") == "/hello");
  CHECK(res.body == "see /hello");
}

TEST_CASE("a server sending endless headers is cut off", "[http][client]") {
  Fixture f;
  SECTION("one endless header block") {
    FloodServer flood("HTTP/1.1 200 OK\r\n", "X-Junk: 0123456789abcdef\r\n");
    CHECK(f.error_of_get(flood.url()) == Kind::protocol);
  }
  SECTION("many small header fields") {
    FloodServer flood("HTTP/1.1 200 OK\r\n", "a:\r\n");
    CHECK(f.error_of_get(flood.url()) == Kind::protocol);
  }
  SECTION("endless interim responses") {
    FloodServer flood("", "HTTP/1.1 100 Continue\r\n\r\n");
    CHECK(f.error_of_get(flood.url()) == Kind::protocol);
  }
  CHECK(f.last_error.find("header") != std::string::npos);
  CHECK(f.requests("GET", "protocol") == 1);
}

TEST_CASE("requests waiting for a connection time out, cancel, and end with the client", "[http][client]") {
  http::HttpClientConfig config;
  config.max_connections = 1;
  Fixture f(config);
  SilentServer silent;
  // Holds the only connection until the client goes away.
  ClientRequest hog;
  hog.url = silent.url();
  hog.total_timeout = 0ms;
  hog.idle_timeout = 0ms;
  auto hogging = f.io.spawn(f.client->send(std::move(hog)));
  REQUIRE(test::eventually([&] { return f.connections_opened() == 1; }));

  ClientRequest queued;
  queued.url = f.url("/hello");
  queued.total_timeout = 300ms;
  CHECK(f.io.block(outcome_within(*f.client, queued, 20s)) == "timeout");
  CHECK(f.requests("GET", "timeout") == 1);

  queued.total_timeout = 0ms;  // waits until cancelled
  CHECK(f.io.block(outcome_within(*f.client, queued, 300ms)) == "still waiting");
  CHECK(f.requests("GET", "cancelled") == 1);
  CHECK(f.in_flight() == 1);
  CHECK(f.connections_opened() == 1);

  // Destroying the client ends what is still running.
  f.client.reset();
  try {
    hogging.get();
    FAIL("the hogging request returned");
  } catch (const http::HttpClientError& e) {
    CHECK(e.kind() == Kind::cancelled);
  }
}

TEST_CASE("TLS: certificates are verified against the system's or the configured CAs and the host name",
          "[http][client][tls]") {
  test::TlsServer server;
  SECTION("an unknown issuer is refused") {
    Fixture f;
    CHECK(f.error_of_get(server.url()) == Kind::tls);
    CHECK(f.requests("GET", "tls") == 1);
  }
  SECTION("a trusted certificate for the address is accepted") {
    http::HttpClientConfig config;
    config.ca_file = server.ca_file();
    Fixture f(config);
    auto res = f.get(server.url("/hello"));
    CHECK(res.status == 200);
    CHECK(res.body == "ok");
  }
  SECTION("a trusted certificate for another name is refused") {
    test::TlsServer elsewhere({"DNS:other.example"});
    http::HttpClientConfig config;
    config.ca_file = elsewhere.ca_file();
    Fixture f(config);
    CHECK(f.error_of_get(elsewhere.url()) == Kind::tls);
  }
}
