// The one door to every model. Modules ask for a task ("generate", "reason",
// "vision", "classify", "creative") or a model alias; the router picks a
// healthy deployment, retries and falls back, caches, accounts for the cost
// and enforces budgets.
//
//   ai_router::AiRequest req;
//   req.task = "generate";
//   req.workspace = principal.workspace_id;
//   req.messages = {{"system", persona}, {"user", fan_message}};
//   ai_router::Completion c = co_await router.complete(std::move(req));
//
// Errors: AiError, whose kind maps to an HTTP status (see http_status()).
// Thread-safety: an AiRouter is safe to use from any number of coroutines on
// any thread. It is built by the composition root (src/app) and outlives every
// request that uses it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "huntaze/core/error.hpp"

namespace huntaze::ai_router {

struct Message {
  std::string role;     // system | user | assistant
  std::string content;  // text
  // Images for vision deployments: https: or data: URLs. Vision models of
  // the Phi-4 family take one image per request.
  std::vector<std::string> image_urls;
};

// Parameters that change the output; all of them are part of the cache key.
struct Params {
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<int> max_tokens;
  std::optional<int64_t> seed;
  std::vector<std::string> stop;
  bool json = false;  // response_format {"type": "json_object"}
};

enum class CacheMode {
  use,      // read and write the cache
  refresh,  // no-cache: do not read, store the fresh answer
  bypass,   // no-store: neither read nor write
};

struct AiRequest {
  std::string task;  // a route name ("generate") or a deployment alias ("deepseek-v3")
  std::vector<Message> messages;
  Params params;
  // The tenant: part of the cache key, the budget and the usage row. Empty
  // means the platform itself (daily insights across workspaces, tests).
  std::string workspace;
  CacheMode cache = CacheMode::use;
  std::optional<std::chrono::seconds> cache_ttl;  // overrides the task's TTL
  // For the whole request: every retry and fallback happens within it.
  // nullopt: the configured ai.deadline.
  std::optional<std::chrono::milliseconds> deadline;
  std::string request_id;  // carried into logs and the usage row
};

struct Usage {
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
};

struct Completion {
  std::string id;             // the upstream's completion id (or ours for templates)
  std::string content;        // the answer, reasoning removed
  std::string reasoning;      // reasoning models' chain of thought, "" otherwise
  std::string finish_reason;  // stop | length | content_filter | ...
  std::string alias;          // what answered: alias, deployment, upstream model name
  std::string deployment;
  std::string model;
  Usage usage;
  int64_t cost_micros = 0;  // what this call cost; 0 when served from the cache
  bool cache_hit = false;
  int attempts = 0;  // upstream calls made for this request (retries + fallbacks)
  std::chrono::microseconds latency{0};
  std::chrono::microseconds time_to_first_token{0};
};

// Speech to text through the `transcribe` route (Whisper-compatible
// deployments, provider openai_audio).
struct TranscribeRequest {
  std::string audio;  // the file's bytes (Whisper endpoints take up to 25 MB)
  std::string filename = "audio.wav";
  std::string content_type = "audio/wav";
  std::string language;  // ISO-639-1 hint; "" lets the model detect it
  std::string task = "transcribe";
  std::string workspace;
  // nullopt: ai.deadline, but at least two minutes (long audio takes time).
  std::optional<std::chrono::milliseconds> deadline;
  std::string request_id;
};

struct Transcript {
  std::string text;
  std::string deployment;
  std::string model;
  int attempts = 0;
  std::chrono::microseconds latency{0};
};

// A piece of a streamed answer. Reasoning and content arrive apart (see
// reasoning.hpp); either may be empty.
struct Delta {
  std::string content;
  std::string reasoning;
};

// Receives the pieces of a streamed answer in order. The first call commits
// the request to the deployment that produced it: no fallback happens after
// it. An exception it throws (the client went away) ends the stream.
using DeltaSink = std::function<boost::asio::awaitable<void>(const Delta&)>;

class AiError : public std::runtime_error {
 public:
  enum class Kind {
    bad_request,       // invalid messages or parameters (400)
    unknown_task,      // no route or alias of that name (404)
    budget_exceeded,   // the workspace's or the platform's monthly budget is spent (402)
    rate_limited,      // the workspace's RPM/TPM limit (429)
    content_filter,    // every deployment refused the content (422)
    context_too_long,  // the prompt fits no deployment of the route (413)
    unavailable,       // every deployment failed or is tripped (503)
    deadline,          // the request's deadline passed (504)
    stream_broken,     // the upstream failed after the first streamed byte (502)
  };
  AiError(Kind kind, const std::string& message,
          std::optional<std::chrono::milliseconds> retry_after = std::nullopt)
      : std::runtime_error(message), kind_(kind), retry_after_(retry_after) {}
  Kind kind() const noexcept { return kind_; }
  // When the caller may try again (rate limits), if known.
  std::optional<std::chrono::milliseconds> retry_after() const noexcept { return retry_after_; }
  int http_status() const noexcept;

 private:
  Kind kind_;
  std::optional<std::chrono::milliseconds> retry_after_;
};

// "bad_request", "unknown_task", ... (error codes and metric labels).
std::string_view to_string(AiError::Kind kind) noexcept;

// The API error for a router failure: its status and kind as the code, with
// Retry-After (whole seconds, rounded up) when it carries one. Callers map
// unknown_task themselves: to an HTTP client it means different things.
ApiError to_api_error(const AiError& e);

// What GET /api/v1/ai/models shows.
struct DeploymentStatus {
  std::string name;
  std::string alias;
  std::string model;
  std::string provider;
  std::string breaker;  // closed | open | half_open
  bool usable = true;   // false when it needs a key and has none
  int in_flight = 0;
};
struct RouteStatus {
  std::string task;
  std::vector<std::string> aliases;
};
struct RouterStatus {
  std::vector<RouteStatus> routes;
  std::vector<DeploymentStatus> deployments;
};

class AiRouter {
 public:
  virtual ~AiRouter() = default;
  // The whole answer at once.
  virtual boost::asio::awaitable<Completion> complete(AiRequest request) = 0;
  // The answer piece by piece through `sink`; returns the same Completion
  // as complete() once the stream ended (content and reasoning in full, the
  // usage the upstream reported in its last chunk). A cache hit is delivered
  // as a single piece.
  virtual boost::asio::awaitable<Completion> stream(AiRequest request, DeltaSink sink) = 0;
  virtual boost::asio::awaitable<Transcript> transcribe(TranscribeRequest request) = 0;
  virtual RouterStatus status() const = 0;

  // What complete() and stream() refuse before any work: an invalid request
  // (AiError bad_request) or an unknown task (unknown_task). For callers
  // that must answer before streaming starts (the HTTP API's status line).
  virtual void check(const AiRequest& request) const = 0;
};

}  // namespace huntaze::ai_router
