// The HTTP request and response that module code sees. Beast types stay inside
// src/http, so a handler's translation unit compiles without Beast.
//
// Thread-safety: value types; a Request belongs to the coroutine serving it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "huntaze/core/error.hpp"

namespace huntaze::http {

namespace asio = boost::asio;

// Case-insensitive header list that keeps order and repeated names.
class Headers {
 public:
  std::optional<std::string_view> get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  // Replaces every header of that name.
  void set(std::string name, std::string value);
  void add(std::string name, std::string value) { items_.emplace_back(std::move(name), std::move(value)); }
  void remove(std::string_view name);
  const std::vector<std::pair<std::string, std::string>>& items() const noexcept { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

bool iequals(std::string_view a, std::string_view b) noexcept;

// A request body read piece by piece, for routes registered with
// RouteOptions::streamed_body (uploads far larger than memory should hold).
// The handler runs as soon as the headers are in; it may refuse the request
// before reading anything (the client, if it sent Expect: 100-continue, then
// never sends the body). A body the handler leaves unread ends the connection
// after the response.
// Thread-safety: the coroutine serving the request only.
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  // The next piece (at most 64 KiB), valid until the next call; empty once
  // the body is complete. Throws ApiError 413 body_too_large past the route's
  // limit, 400 malformed_request on a broken body, 408 body_timeout when no
  // byte arrived for server.body_timeout, and boost::system::system_error
  // when the client went away.
  virtual asio::awaitable<std::string_view> read() = 0;
  // From Content-Length; nullopt for a chunked body.
  virtual std::optional<uint64_t> content_length() const = 0;
};

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path and query
  std::string path;    // target before '?'
  std::string query;   // target after '?', still percent-encoded
  Headers headers;
  std::string body;  // empty on streamed_body routes: read body_reader instead
  // Set on streamed_body routes only; owned by the server, valid while the
  // handler runs.
  BodyReader* body_reader = nullptr;
  std::string remote_address;
  bool keep_alive = true;

  // Filled in by the pipeline.
  std::string request_id;
  std::string route = "<unmatched>";                             // the matched template, for logs and metrics
  std::vector<std::pair<std::string, std::string>> path_params;  // decoded
  std::chrono::steady_clock::time_point received_at{};
  // Set by the per-address rate limit when the request carries a session
  // token: the auth guard, if the route has one, counts the address in the
  // same Redis call as the user and clears this; still set once the handler
  // returned, the limit counts the address itself then. One round trip per
  // authenticated request instead of two.
  bool address_limit_deferred = false;

  // A path parameter by name ({id} in the route); empty when absent.
  std::string_view param(std::string_view name) const;
  // A query parameter by name, percent-decoded; nullopt when absent.
  std::optional<std::string> query_param(std::string_view name) const;
};

// A response body produced piece by piece (server-sent events, downloads).
// The server sends it with chunked transfer encoding; write() suspends while
// the client is slow, so a producer never buffers more than one piece.
class BodyWriter {
 public:
  virtual ~BodyWriter() = default;
  // Throws boost::system::system_error when the client went away.
  virtual asio::awaitable<void> write(std::string_view data) = 0;
};
using StreamProducer = std::function<asio::awaitable<void>(BodyWriter&)>;

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // When set, the body is streamed by this producer instead of `body`.
  StreamProducer stream;
  // A streamed body's exact length, when known (a file download): sent as
  // Content-Length instead of chunked encoding, so players can seek. The
  // producer must write exactly this many bytes; the server ends the
  // connection when it does not.
  std::optional<uint64_t> stream_length;

  static Response text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
  static Response json_text(int status, std::string json);  // body already serialized
  static Response no_content();
  static Response streamed(int status, std::string content_type, StreamProducer producer);
};

// The JSON error body of DESIGN.md §5.
Response error_response(int status, std::string_view code, std::string_view message, std::string_view request_id,
                        const std::vector<ErrorDetail>& details = {});
// The same for an ApiError, with Retry-After when it carries one: what the
// errors() middleware answers.
Response error_response(const ApiError& error, std::string_view request_id);

// Percent-decoding ('+' stays '+' in paths, becomes ' ' in queries); nullopt
// on a malformed escape.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);
// Percent-encodes every byte but RFC 3986's unreserved ones (A-Z a-z 0-9 - . _ ~):
// safe in a query, a path segment or an application/x-www-form-urlencoded body.
std::string percent_encode(std::string_view text);

}  // namespace huntaze::http
