// One call to one OpenAI-compatible deployment, whole or streamed. The
// router decides what to do with a failure; this file only says what
// happened (UpstreamFailed carries the classification).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <exception>
#include <string>

#include "ai_router/openai_wire.hpp"
#include "huntaze/ai_router/catalog.hpp"
#include "huntaze/ai_router/router.hpp"
#include "huntaze/http/client.hpp"

namespace huntaze::ai_router {

struct UpstreamAnswer {
  std::string id;
  std::string model;
  std::string content;    // reasoning removed
  std::string reasoning;
  std::string finish_reason;
  Usage usage;
  bool usage_reported = false;  // false: estimated from the text (a stream without a usage chunk)
  std::chrono::microseconds latency{0};
  std::chrono::microseconds time_to_first_token{0};
};

class UpstreamFailed : public std::exception {
 public:
  UpstreamFailed(UpstreamFailure failure, bool committed) : failure_(std::move(failure)), committed_(committed) {}
  const char* what() const noexcept override { return failure_.message.c_str(); }
  const UpstreamFailure& failure() const noexcept { return failure_; }
  // A stream had already handed pieces to the caller: no fallback possible.
  bool committed() const noexcept { return committed_; }

 private:
  UpstreamFailure failure_;
  bool committed_;
};

// Shared by the chat and audio calls.
// Throws UpstreamFailed with the failure as described.
[[noreturn]] void fail(std::string reason, std::string message, FailureAction action = FailureAction::retry,
                       bool committed = false, bool unhealthy = true);
// A transport failure: connect, timeout and protocol errors are retried;
// TLS, blocked, too-large and other failures fall back; a cancellation is
// rethrown as is (the caller gave up, not the deployment).
[[noreturn]] void fail_transport(const http::HttpClientError& error, bool committed);
// A non-2xx answer, classified from its status and error body, with the
// provider's Retry-After / retry-after-ms.
[[noreturn]] void fail_status(const http::ClientResponse& response, std::string_view body);
// Total, connect (<= 5 s) and idle (<= 30 s) timeouts within `timeout`.
void set_timeouts(http::ClientRequest& request, std::chrono::milliseconds timeout);

// Throws UpstreamFailed, or HttpClientError{cancelled} when the awaiting
// coroutine was cancelled.
boost::asio::awaitable<UpstreamAnswer> call_chat(http::HttpClient& client, const Deployment& deployment,
                                                 const AiRequest& request, std::chrono::milliseconds timeout);

// The same, streamed: `sink` gets every non-empty piece in order. An
// exception from the sink aborts the upstream transfer and propagates as is.
boost::asio::awaitable<UpstreamAnswer> stream_chat(http::HttpClient& client, const Deployment& deployment,
                                                   const AiRequest& request, std::chrono::milliseconds timeout,
                                                   const DeltaSink& sink);

}  // namespace huntaze::ai_router
