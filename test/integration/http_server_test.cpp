// The HTTP server through real sockets: limits, timeouts, keep-alive,
// pipelining, streaming, concurrency and graceful shutdown.
#include <sys/resource.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <future>
#include <sstream>

#include "support/harness.hpp"
#include "support/http_client.hpp"
#include "support/test_server.hpp"

using namespace huntaze;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

void add_routes(test::TestServer& s) {
  s.router.get("/hello", [](http::Request&) -> asio::awaitable<http::Response> {
    co_return http::Response::json_text(200, R"({"hello":"world"})");
  });
  s.router.post("/echo", [](http::Request& req) -> asio::awaitable<http::Response> {
    co_return http::Response::text(200, req.body, "application/octet-stream");
  });
  s.router.post("/big",
                [](http::Request& req) -> asio::awaitable<http::Response> {
                  co_return http::Response::text(200, std::to_string(req.body.size()));
                },
                {.body_limit = 256 * 1024});
  s.router.post("/huge",
                [](http::Request& req) -> asio::awaitable<http::Response> {
                  co_return http::Response::text(200, std::to_string(req.body.size()));
                },
                {.body_limit = 4 << 20});
  s.router.get("/stream", [](http::Request&) -> asio::awaitable<http::Response> {
    co_return http::Response::streamed(200, "text/event-stream", [](http::BodyWriter& w) -> asio::awaitable<void> {
      for (int i = 0; i < 3; ++i) {
        std::string event = "data: " + std::to_string(i) + "\n\n";
        co_await w.write(event);
      }
    });
  });
}

}  // namespace

TEST_CASE("keep-alive serves several requests on one connection", "[http]") {
  test::TestServer s;
  add_routes(s);
  s.start();
  test::HttpConnection c(s.port());
  for (int i = 0; i < 3; ++i) {
    auto r = c.get("/hello");
    CHECK(r.status == 200);
    CHECK(r.body == R"({"hello":"world"})");
    CHECK(r.keep_alive);
    CHECK(!r.header("x-request-id").empty());
    CHECK(!r.header("date").empty());
  }
}

TEST_CASE("pipelined requests are answered in order", "[http]") {
  test::TestServer s;
  add_routes(s);
  s.start();
  test::HttpConnection c(s.port());
  c.send(
      "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nfirst"
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nsecond");
  CHECK(c.read_response().body == R"({"hello":"world"})");
  CHECK(c.read_response().body == "first");
  CHECK(c.read_response().body == "second");
}

TEST_CASE("oversized headers get 431 and the connection is closed", "[http]") {
  auto cfg = test::TestServer::default_config();
  cfg.header_limit = 4096;
  test::TestServer s(cfg);
  add_routes(s);
  s.start();
  test::HttpConnection c(s.port());
  auto r = c.get("/hello", "X-Big: " + std::string(8000, 'a') + "\r\n");
  CHECK(r.status == 431);
  CHECK(r.body.find("headers_too_large") != std::string::npos);
  CHECK(r.body.find(r.header("x-request-id")) != std::string::npos);  // refusals carry an id too
  CHECK_FALSE(r.keep_alive);
  CHECK(c.closed_by_server());
}

TEST_CASE("bodies over the limit get 413, with per-route overrides", "[http]") {
  auto cfg = test::TestServer::default_config();
  cfg.body_limit = 1024;
  test::TestServer s(cfg);
  add_routes(s);
  s.start();

  SECTION("declared by Content-Length: refused before reading the body") {
    test::HttpConnection c(s.port());
    c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n");
    auto r = c.read_response();
    CHECK(r.status == 413);
    CHECK(r.body.find("body_too_large") != std::string::npos);
  }
  SECTION("a body hundreds of kilobytes over, sent in one go, still gets its 413") {
    // The server answers at the header and then drains what the client is
    // still sending, so that closing does not reset the connection and
    // destroy the answer on its way.
    test::HttpConnection c(s.port());
    c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 400000\r\n\r\n" + std::string(400000, 'q'));
    auto r = c.read_response();
    CHECK(r.status == 413);
    CHECK(r.body.find("body_too_large") != std::string::npos);
  }
  SECTION("chunked: refused once the limit is crossed") {
    test::HttpConnection c(s.port());
    std::string chunk(800, 'x');
    c.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n320\r\n" + chunk + "\r\n320\r\n" +
           chunk + "\r\n0\r\n\r\n");
    CHECK(c.read_response().status == 413);
  }
  SECTION("within the limit is fine; a route may allow more") {
    test::HttpConnection c(s.port());
    c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + std::string(1000, 'y'));
    CHECK(c.read_response().status == 200);
    c.send("POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + std::string(100000, 'z'));
    auto r = c.read_response();
    CHECK(r.status == 200);
    CHECK(r.body == "100000");
  }
  SECTION("a route may allow more than the parser library's own 1 MiB default") {
    test::HttpConnection c(s.port());
    const size_t size = 3 << 20;
    c.send("POST /huge HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(size) + "\r\n\r\n" +
           std::string(size, 'h'));
    auto r = c.read_response();
    CHECK(r.status == 200);
    CHECK(r.body == std::to_string(size));
  }
  SECTION("beyond 1 MiB on a default route is a 413, not a parse error") {
    test::HttpConnection c(s.port());
    c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n");
    auto r = c.read_response();
    CHECK(r.status == 413);
    CHECK(r.body.find("body_too_large") != std::string::npos);
  }
}

TEST_CASE("Expect: 100-continue is honoured", "[http]") {
  test::TestServer s;
  add_routes(s);
  s.start();
  test::HttpConnection c(s.port());
  c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
  auto interim = c.read_response();
  CHECK(interim.status == 100);
  c.send("ok");
  auto r = c.read_response();
  CHECK(r.status == 200);
  CHECK(r.body == "ok");
}

TEST_CASE("malformed requests get 400", "[http]") {
  test::TestServer s;
  add_routes(s);
  s.start();
  for (std::string raw : {"GARBAGE\r\n\r\n", "GET /hello HTTP/9.9\r\n\r\n", "GET /hello HTTP/1.1\r\nBad Header\r\n\r\n",
                          "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
                          "GET http://elsewhere/ HTTP/1.1\r\nHost: x\r\n\r\n"}) {
    INFO(raw);
    test::HttpConnection c(s.port());
    c.send(raw);
    auto r = c.read_response();
    CHECK(r.status == 400);
    CHECK(c.closed_by_server());
  }
}

TEST_CASE("slow clients are cut off by the timeouts", "[http]") {
  auto cfg = test::TestServer::default_config();
  cfg.header_timeout = 300ms;
  cfg.body_timeout = 300ms;
  cfg.idle_timeout = 300ms;
  test::TestServer s(cfg);
  add_routes(s);
  s.start();

  SECTION("headers that never finish") {
    test::HttpConnection c(s.port());
    c.send("GET /hello HTTP/1.1\r\nHost: x\r\n");
    CHECK(c.closed_by_server());
  }
  SECTION("a body that never finishes") {
    test::HttpConnection c(s.port());
    c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly a little");
    CHECK(c.closed_by_server());
  }
  SECTION("an idle keep-alive connection") {
    test::HttpConnection c(s.port());
    CHECK(c.get("/hello").status == 200);
    CHECK(c.closed_by_server());
  }
}

TEST_CASE("HEAD answers with the GET headers and no body", "[http]") {
  test::TestServer s;
  add_routes(s);
  s.start();
  test::HttpConnection c(s.port());
  c.send("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  auto head = c.read_response(true);
  CHECK(head.status == 200);
  CHECK(head.header("content-length") == "17");
  CHECK(head.body.empty());
  // Had a body been sent, it would now be read as the next response's start.
  auto next = c.get("/hello");
  CHECK(next.status == 200);
  CHECK(next.body == R"({"hello":"world"})");
}

TEST_CASE("streamed responses arrive as chunks", "[http]") {
  test::TestServer s;
  add_routes(s);
  s.start();
  auto r = test::http_get(s.port(), "/stream");
  CHECK(r.status == 200);
  CHECK(r.header("transfer-encoding") == "chunked");
  CHECK(r.header("content-type") == "text/event-stream");
  CHECK(r.body == "data: 0\n\ndata: 1\n\ndata: 2\n\n");
}

TEST_CASE("connections over max_connections get 503", "[http]") {
  auto cfg = test::TestServer::default_config();
  cfg.max_connections = 2;
  test::TestServer s(cfg);
  add_routes(s);
  s.start();
  test::HttpConnection a(s.port()), b(s.port());
  CHECK(a.get("/hello").status == 200);
  CHECK(b.get("/hello").status == 200);
  test::HttpConnection c(s.port());
  auto r = c.get("/hello");
  CHECK(r.status == 503);
  CHECK(r.body.find("server_busy") != std::string::npos);
}

TEST_CASE("1,000 concurrent connections are all served", "[http][load]") {
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &lim);
  REQUIRE(lim.rlim_cur >= 2500);

  test::TestServer s;
  add_routes(s);
  s.start();

  constexpr int kClients = 1000;
  asio::io_context client_ioc;
  std::atomic<int> connected{0}, ok{0};
  asio::steady_timer gate(client_ioc, asio::steady_timer::time_point::max());
  for (int i = 0; i < kClients; ++i) {
    asio::co_spawn(
        client_ioc,
        [&]() -> asio::awaitable<void> {
          namespace bhttp = boost::beast::http;
          asio::ip::tcp::socket socket(client_ioc);
          co_await socket.async_connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(s.port())},
                                        asio::use_awaitable);
          ++connected;
          // Hold every connection open until all of them are.
          co_await gate.async_wait(asio::as_tuple(asio::use_awaitable));
          std::string req = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
          co_await asio::async_write(socket, asio::buffer(req), asio::use_awaitable);
          boost::beast::flat_buffer buf;
          bhttp::response<bhttp::string_body> res;
          co_await bhttp::async_read(socket, buf, res, asio::use_awaitable);
          if (res.result_int() == 200) ++ok;
        },
        asio::detached);
  }
  std::thread client([&] { client_ioc.run_for(60s); });
  bool all_open =
      test::eventually([&] { return connected == kClients && s.server().open_connections() == kClients; }, 30s);
  asio::post(client_ioc, [&] { gate.cancel(); });
  client.join();
  CHECK(all_open);
  CHECK(ok == kClients);
}

TEST_CASE("graceful shutdown lets an in-flight request finish", "[http][shutdown]") {
  test::TestServer s;
  std::atomic<bool> entered{false};
  s.router.get("/slow", [&](http::Request&) -> asio::awaitable<http::Response> {
    entered = true;
    asio::steady_timer t(co_await asio::this_coro::executor, 300ms);
    co_await t.async_wait(asio::use_awaitable);
    co_return http::Response::json_text(200, R"({"done":true})");
  });
  add_routes(s);
  s.start();

  test::HttpConnection idle(s.port());
  CHECK(idle.get("/hello").status == 200);

  auto inflight = std::async(std::launch::async, [&] { return test::http_get(s.port(), "/slow"); });
  REQUIRE(test::eventually([&] { return entered.load(); }));
  s.shutdown(10s);

  auto r = inflight.get();
  CHECK(r.status == 200);
  CHECK(r.body == R"({"done":true})");
  CHECK_FALSE(r.keep_alive);
  CHECK(idle.closed_by_server());
  CHECK(s.server().open_connections() == 0);
  CHECK_THROWS(test::HttpConnection(s.port()).get("/hello"));
}

TEST_CASE("shutdown cuts requests that outlive the grace period", "[http][shutdown]") {
  test::TestServer s;
  std::atomic<bool> entered{false};
  s.router.get("/forever", [&](http::Request&) -> asio::awaitable<http::Response> {
    entered = true;
    asio::steady_timer t(co_await asio::this_coro::executor, 60s);
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return http::Response::json_text(200, "{}");
  });
  s.start();
  test::HttpConnection c(s.port());
  c.send("GET /forever HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(test::eventually([&] { return entered.load(); }));
  s.shutdown(200ms);
  CHECK(s.server().open_connections() == 0);
}

namespace {

// POST /upload reads its body in pieces and answers "<bytes> <pieces> <largest piece>
// <checksum>"; POST /refuse answers 403 without reading its body.
void add_streamed_routes(test::TestServer& s, size_t limit) {
  s.router.post("/upload",
                [](http::Request& req) -> asio::awaitable<http::Response> {
                  REQUIRE(req.body_reader != nullptr);
                  size_t total = 0, pieces = 0, largest = 0;
                  uint64_t checksum = 0;
                  for (;;) {
                    std::string_view piece = co_await req.body_reader->read();
                    if (piece.empty()) break;
                    total += piece.size();
                    largest = std::max(largest, piece.size());
                    ++pieces;
                    for (unsigned char ch : piece) checksum = checksum * 31 + ch;
                  }
                  co_return http::Response::text(200, std::to_string(total) + " " + std::to_string(pieces) + " " +
                                                          std::to_string(largest) + " " + std::to_string(checksum));
                },
                {.body_limit = limit, .streamed_body = true});
  s.router.post("/refuse",
                [](http::Request&) -> asio::awaitable<http::Response> {
                  co_return http::error_response(403, "forbidden", "not you", "");
                },
                {.body_limit = limit, .streamed_body = true});
}

std::string varied_bytes(size_t n) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<char>((i * 7919) % 251);
  return out;
}

uint64_t checksum_of(std::string_view data) {
  uint64_t sum = 0;
  for (unsigned char ch : data) sum = sum * 31 + ch;
  return sum;
}

}  // namespace

TEST_CASE("a streamed body reaches the handler in bounded pieces and the connection stays usable", "[http]") {
  test::TestServer s;
  add_streamed_routes(s, 64 << 20);
  add_routes(s);
  s.start();
  const std::string body = varied_bytes(3 << 20);
  test::HttpConnection c(s.port());
  c.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n");
  c.send(body);
  auto r = c.read_response();
  REQUIRE(r.status == 200);
  std::istringstream fields(r.body);
  size_t total = 0, pieces = 0, largest = 0;
  uint64_t checksum = 0;
  fields >> total >> pieces >> largest >> checksum;
  CHECK(total == body.size());
  CHECK(largest <= 64 * 1024);
  CHECK(pieces >= body.size() / (64 * 1024));
  CHECK(checksum == checksum_of(body));
  CHECK(r.keep_alive);
  CHECK(c.get("/hello").status == 200);  // the next request on the same connection
}

TEST_CASE("a chunked streamed body is decoded, and one past the limit gets 413 midway", "[http]") {
  test::TestServer s;
  add_streamed_routes(s, 100 * 1024);
  s.start();
  SECTION("within the limit") {
    test::HttpConnection c(s.port());
    const std::string part = varied_bytes(30 * 1024);
    std::string raw = "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 3; ++i) raw += "7800\r\n" + part + "\r\n";
    raw += "0\r\n\r\n";
    c.send(raw);
    auto r = c.read_response();
    REQUIRE(r.status == 200);
    CHECK(r.body.rfind(std::to_string(3 * part.size()) + " ", 0) == 0);
    CHECK(r.body.substr(r.body.rfind(' ') + 1) == std::to_string(checksum_of(part + part + part)));
  }
  SECTION("past the limit, with no Content-Length to refuse it early") {
    test::HttpConnection c(s.port());
    const std::string part = varied_bytes(30 * 1024);
    std::string raw = "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 5; ++i) raw += "7800\r\n" + part + "\r\n";
    raw += "0\r\n\r\n";
    c.send(raw);
    auto r = c.read_response();
    CHECK(r.status == 413);
    CHECK(r.body.find("body_too_large") != std::string::npos);
    CHECK(c.closed_by_server());
  }
  SECTION("past the limit by Content-Length: refused before the handler") {
    test::HttpConnection c(s.port());
    c.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n");
    CHECK(c.read_response().status == 413);
  }
}

TEST_CASE("a handler may refuse a streamed body without reading it", "[http]") {
  test::TestServer s;
  add_streamed_routes(s, 64 << 20);
  s.start();
  SECTION("Expect: 100-continue: the body is never asked for") {
    test::HttpConnection c(s.port());
    c.send("POST /refuse HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n");
    auto r = c.read_response();
    CHECK(r.status == 403);  // no 100 Continue came first
    CHECK(c.closed_by_server());
  }
  SECTION("a body already on its way is drained, and its answer still arrives") {
    test::HttpConnection c(s.port());
    const std::string body = varied_bytes(300 * 1024);
    c.send("POST /refuse HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    CHECK(c.read_response().status == 403);
    CHECK(c.closed_by_server());
  }
  SECTION("with Expect: 100-continue, reading the body sends 100 Continue first") {
    test::HttpConnection c(s.port());
    c.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    CHECK(c.read_response().status == 100);
    c.send("hello");
    auto r = c.read_response();
    CHECK(r.status == 200);
    CHECK(r.body.rfind("5 1 5 ", 0) == 0);
  }
}

TEST_CASE("a streamed body that stops arriving is cut off by body_timeout", "[http]") {
  auto cfg = test::TestServer::default_config();
  cfg.body_timeout = 300ms;
  test::TestServer s(cfg);
  add_streamed_routes(s, 64 << 20);
  s.start();
  test::HttpConnection c(s.port());
  c.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nonly a little");
  CHECK(c.closed_by_server());
}
