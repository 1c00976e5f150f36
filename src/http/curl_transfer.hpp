// One request as a libcurl easy handle: its options, the callbacks that fill
// in the response, the SSRF check on every socket it opens, and the mapping of
// curl's result to HttpClientError. The multi driver (curl_client.cpp) runs it.
//
// Ownership and threading: shared by the awaiting send() and, while running,
// the driver. setup() runs on the sender's thread before the transfer starts;
// from then until its completion handler is posted, only the driver's strand
// touches it (curl calls the callbacks from inside curl_multi_* on the strand).
#pragma once

#include <curl/curl.h>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include "http/ssrf_guard.hpp"
#include "huntaze/core/metrics.hpp"
#include "huntaze/http/client.hpp"
#include "huntaze/http/client_config.hpp"

namespace huntaze::http::detail {

// What every easy handle of one client shares.
struct EasySettings {
  const HttpClientConfig* config = nullptr;
  const ssrf::AllowList* allow = nullptr;
  metrics::Counter* connections_opened = nullptr;
  // Pooled connections outlive the transfer that opened them, so closing a
  // socket reports to the driver, not to the transfer.
  curl_closesocket_callback close_socket = nullptr;
  void* close_socket_data = nullptr;
};

// All header blocks of one response together (interim 1xx ones included) may
// not exceed this: a hostile server could otherwise send headers forever.
inline constexpr size_t kMaxResponseHeaderBytes = 256 * 1024;

struct Transfer {
  explicit Transfer(ClientRequest r) : request(std::move(r)) {}
  ~Transfer() { release_easy(); }
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  // Creates and configures the easy handle. Throws HttpClientError{other} for
  // a request curl cannot express (bad method, CR, LF or NUL in a header).
  void setup(const EasySettings& settings);
  // Records the outcome once curl has finished with `result` (the handle is
  // already out of the multi handle). The caller then frees the easy handle.
  void finish(CURLcode result);
  // Ends the transfer without curl's verdict (cancellation, shutdown).
  void fail(HttpClientError::Kind kind, const std::string& message);
  // Frees the easy handle and header list (the driver, once the transfer is
  // out of the multi handle; the destructor for one that never started).
  void release_easy() noexcept;

  ClientRequest request;
  ClientResponse response;
  EasySettings settings;
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  char error_buffer[CURL_ERROR_SIZE] = {};
  size_t body_bytes = 0;
  size_t header_bytes = 0;
  // Why a callback made curl give up (too_large, blocked); wins over curl's code.
  std::optional<HttpClientError> abort_reason;
  std::exception_ptr chunk_failure;  // thrown by on_chunk; rethrown by send()
  std::optional<HttpClientError> failure;

  // Driver state (strand only).
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  bool running = false;  // in the multi handle
  bool done = false;
  // total_timeout as the driver enforces it: curl does not time out a transfer
  // still queued for a connection (max_connections reached).
  std::optional<boost::asio::steady_timer> deadline;
  // Optional because Boost 1.81's any_completion_handler move assignment
  // recurses forever: it is only ever emplaced and moved out of.
  std::optional<boost::asio::any_completion_handler<void()>> handler;
  boost::asio::any_io_executor work;  // keeps the sender's executor alive meanwhile
};

// The error kind for a curl result that no callback explained.
HttpClientError::Kind error_kind(CURLcode code) noexcept;

// Feeds one header line (as curl passes it, CRLF included) into `response`:
// a status line starts a new header block (interim 1xx, proxy CONNECT).
void parse_header_line(ClientResponse& response, std::string_view line);

}  // namespace huntaze::http::detail
