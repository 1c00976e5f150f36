// A blocking HTTP/1.1 client for tests: one TCP connection, raw bytes in and
// out, responses parsed by Beast. Reads give up after `timeout` so a broken
// server fails a test instead of hanging it.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace huntaze::test {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names (the last of repeated ones)
  std::vector<std::string> set_cookies;         // every Set-Cookie, in order
  std::string body;
  bool keep_alive = true;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

class HttpConnection {
 public:
  explicit HttpConnection(int port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  void send(const std::string& raw);
  // Parses one response; throws on timeout or when the server closed first.
  // `to_head`: the response answers a HEAD request (no body follows).
  HttpResponse read_response(bool to_head = false);
  // A simple GET on this connection.
  HttpResponse get(const std::string& path, const std::string& extra_headers = "");
  // True when the server closed the connection (reads EOF) within the timeout;
  // false when data arrived or the timeout passed with the connection open.
  bool closed_by_server();

 private:
  struct Impl;
  Impl* impl_;
};

// One request on a fresh connection.
HttpResponse http_get(int port, const std::string& path, const std::string& extra_headers = "");

}  // namespace huntaze::test
