// The yardstick for bench/http.sh: a minimal single-threaded Beast coroutine
// server answering every request with a small JSON body. No router, no
// middleware, no metrics: what the platform's overhead is measured against.
//
//   bench_baseline_server PORT
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdlib>
#include <iostream>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

asio::awaitable<void> session(tcp::socket socket) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> req;
    auto [ec, n] = co_await http::async_read(socket, buffer, req, asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "application/json");
    res.body() = R"({"status":"ok"})";
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    auto [wec, wn] = co_await http::async_write(socket, res, asio::as_tuple(asio::use_awaitable));
    if (wec || !req.keep_alive()) co_return;
  }
}

asio::awaitable<void> listen(tcp::acceptor acceptor) {
  for (;;) {
    auto socket = co_await acceptor.async_accept(asio::use_awaitable);
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(acceptor.get_executor(), session(std::move(socket)), asio::detached);
  }
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: bench_baseline_server PORT\n";
    return 2;
  }
  asio::io_context ioc(1);
  tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::atoi(argv[1]))});
  asio::co_spawn(ioc, listen(std::move(acceptor)), asio::detached);
  ioc.run();
}
