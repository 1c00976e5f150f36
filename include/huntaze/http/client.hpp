// The outbound HTTP client: what modules use to call AI providers, webhooks,
// OAuth endpoints and user-supplied URLs.
//
//   ClientRequest req;
//   req.method = "POST";
//   req.url = "https://api.example.com/v1/chat/completions";
//   req.headers = {{"content-type", "application/json"}};
//   req.body = payload;
//   ClientResponse res = co_await client.send(std::move(req));
//
// Any HTTP status is a response, not an error; HttpClientError is thrown only
// when no complete response arrived (or one was refused). Redirects are not
// followed. The implementation (libcurl, src/http/curl_client.hpp) is built by
// the composition root; modules see only HttpClient.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace huntaze::http {

struct ClientRequest {
  std::string method = "GET";
  std::string url;  // http:// or https:// only
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Zero disables a limit (connect then falls back to libcurl's 300 s).
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds total_timeout{60000};
  // Stall limit, in whole seconds (rounded up): the transfer fails with
  // timeout when less than one byte per second moved (either direction) over
  // that long, measured as curl's average rate (its low-speed limit), not as
  // strict silence between bytes. It runs from the moment the request is sent,
  // so it also bounds the wait for the response's first byte: a server that
  // thinks longer before answering trips it. Meant for streamed answers; for
  // a request whose server may take long to start answering, set it to zero
  // and rely on total_timeout. Long streamed answers may run past
  // total_timeout only if that is raised (or zero).
  std::chrono::milliseconds idle_timeout{30000};
  // Cap on the (decoded) body, streamed or not; beyond it -> too_large.
  size_t max_response_bytes = 16 << 20;
  // The URL came from a user: refuse to connect to private, loopback,
  // link-local and other internal addresses (unless allow-listed in the
  // client's config). Such requests ignore proxy settings, so the guard sees
  // the real address, and never reuse a pooled connection.
  bool untrusted_url = false;
  // Streaming: when set, called with each body chunk as it arrives, on an I/O
  // thread, one call at a time; the body is then not accumulated. It must not
  // block. An exception it throws aborts the transfer and is rethrown by send().
  std::function<void(std::string_view)> on_chunk;
};

struct ClientResponse {
  int status = 0;
  // As received, in order, including repeated names (the final response's only).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // empty when the request streamed through on_chunk
  // The first header of that name (case-insensitive), or "".
  std::string header(std::string_view name) const;
  // From the start of the transfer to the first response byte.
  std::chrono::microseconds time_to_first_byte{0};
};

class HttpClientError : public std::runtime_error {
 public:
  enum class Kind {
    connect,    // could not resolve, connect, or the connection broke
    timeout,    // connect_timeout, total_timeout or idle_timeout
    tls,        // handshake or certificate verification failed
    too_large,  // the body exceeded max_response_bytes
    blocked,    // the SSRF guard refused the address (untrusted_url)
    protocol,   // the server's answer was not valid HTTP
    cancelled,  // the awaiting coroutine was cancelled, or the client shut down
    other,      // bad URL, unsupported scheme, internal failure
  };
  HttpClientError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const noexcept { return kind_; }

 private:
  Kind kind_;
};

// "connect", "timeout", ... (also the metrics' outcome label).
std::string_view to_string(HttpClientError::Kind kind) noexcept;

// Thread-safety: send() may be called from any coroutine on any thread,
// concurrently. Cancelling the awaiting coroutine (its cancellation slot, e.g.
// the losing side of `send(...) || timer.async_wait(...)`) aborts the transfer
// and send() throws HttpClientError{cancelled}. Destroy the client only after
// every send() has returned.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual boost::asio::awaitable<ClientResponse> send(ClientRequest request) = 0;
};

}  // namespace huntaze::http
