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
