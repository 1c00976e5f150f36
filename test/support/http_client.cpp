#include "support/http_client.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <optional>

namespace huntaze::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

struct HttpConnection::Impl {
  asio::io_context ioc;
  asio::ip::tcp::socket socket{ioc};
  beast::flat_buffer buffer;
  std::chrono::milliseconds timeout;
};

namespace {

// Runs the async operation started by `start` for at most `timeout`; returns
// its error code, or timed_out.
template <class Start>
boost::system::error_code run_bounded(asio::io_context& ioc, asio::ip::tcp::socket& socket,
                                      std::chrono::milliseconds timeout, Start start) {
  std::optional<boost::system::error_code> result;
  start([&](boost::system::error_code ec, size_t) { result = ec; });
  ioc.restart();
  ioc.run_for(timeout);
  if (!result) {
    socket.cancel();
    ioc.restart();
    ioc.run();
    return asio::error::timed_out;
  }
  return *result;
}

}  // namespace

HttpConnection::HttpConnection(int port, std::chrono::milliseconds timeout) {
  // Owned by a unique_ptr until connect() succeeded: a refused connection
  // throws from here, and the destructor would not run.
  auto impl = std::make_unique<Impl>();
  impl->timeout = timeout;
  impl->socket.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  impl_ = impl.release();
}

HttpConnection::~HttpConnection() {
  delete impl_;
}

void HttpConnection::send(const std::string& raw) {
  // Bounded like reads: a server that stops reading without closing fails
  // the test after the timeout instead of hanging it.
  auto ec = run_bounded(impl_->ioc, impl_->socket, impl_->timeout,
                        [&](auto handler) { asio::async_write(impl_->socket, asio::buffer(raw), handler); });
  // A server may answer before the whole request arrived (413 for a body
  // over the limit) and stop reading: as real clients do, the answer is
  // then read anyway, and read_response reports it or the lost connection.
  if (ec && ec != asio::error::broken_pipe && ec != asio::error::connection_reset) {
    throw boost::system::system_error(ec, "write");
  }
}

HttpResponse HttpConnection::read_response(bool to_head) {
  bhttp::response_parser<bhttp::string_body> parser;
  parser.skip(to_head);
  parser.body_limit(64 * 1024 * 1024);
  auto ec = run_bounded(impl_->ioc, impl_->socket, impl_->timeout,
                        [&](auto handler) { bhttp::async_read(impl_->socket, impl_->buffer, parser, handler); });
  if (ec) throw boost::system::system_error(ec, "reading the response");
  auto& msg = parser.get();
  HttpResponse r;
  r.status = static_cast<int>(msg.result_int());
  for (const auto& f : msg) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[name] = std::string(f.value());
    if (name == "set-cookie") r.set_cookies.emplace_back(f.value());
  }
  r.body = msg.body();
  r.keep_alive = msg.keep_alive();
  return r;
}

HttpResponse HttpConnection::get(const std::string& path, const std::string& extra_headers) {
  send("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers + "\r\n");
  return read_response();
}

bool HttpConnection::closed_by_server() {
  if (impl_->buffer.size() > 0) return false;
  char byte;
  size_t n = 0;
  auto ec = run_bounded(impl_->ioc, impl_->socket, impl_->timeout, [&](auto handler) {
    impl_->socket.async_read_some(asio::buffer(&byte, 1), [&n, handler](boost::system::error_code e, size_t got) {
      n = got;
      handler(e, got);
    });
  });
  if (n > 0) return false;
  return ec == asio::error::eof || ec == asio::error::connection_reset;
}

HttpResponse http_get(int port, const std::string& path, const std::string& extra_headers) {
  HttpConnection c(port);
  return c.get(path, extra_headers);
}

}  // namespace huntaze::test
