// The OpenAI chat-completions wire format, as spoken by Azure AI Foundry,
// Azure OpenAI, OpenAI, DeepSeek, Groq, Ollama and vLLM: request bodies,
// answers, stream chunks and error bodies. Pure functions; no I/O.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "huntaze/ai_router/catalog.hpp"
#include "huntaze/ai_router/router.hpp"

namespace huntaze::ai_router {

// The upstream sent something that is not the documented shape.
class WireError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The JSON body of POST .../chat/completions for this deployment. max_tokens
// defaults to (and is capped at) the deployment's max_output; streams ask
// for the usage in the last chunk (stream_options.include_usage).
std::string chat_request_body(const Deployment& deployment, const AiRequest& request, bool stream);

// Authentication and content headers for the deployment (the key included:
// never log them).
std::vector<std::pair<std::string, std::string>> request_headers(const Deployment& deployment, bool stream);

struct ParsedAnswer {
  std::string id;
  std::string model;
  std::string content;
  std::string reasoning;  // reasoning_content (or "reasoning"), before <think> splitting
  std::string finish_reason;
  std::optional<Usage> usage;
};
// A complete chat.completion. Throws WireError.
ParsedAnswer parse_chat_completion(std::string_view body);

struct ParsedChunk {
  std::string id;
  std::string model;
  std::string content;
  std::string reasoning;
  std::optional<std::string> finish_reason;
  std::optional<Usage> usage;
  bool done = false;  // the "[DONE]" sentinel
  std::string error;  // an {"error": ...} object sent inside the stream
};
// One `data:` payload of a chat.completion.chunk stream. Throws WireError.
ParsedChunk parse_chat_chunk(std::string_view data);

// What a failed call means for routing.
enum class FailureAction {
  retry,     // transient (408, 409, 429, 5xx, timeouts, broken connections): retry, then fall back
  fallback,  // this deployment cannot serve the request: go to the next alias at once
  fatal,     // the request itself is wrong: no other deployment will do better
};
struct UpstreamFailure {
  FailureAction action = FailureAction::retry;
  std::string reason;   // bounded metric label: http_429, http_5xx, timeout, connect, malformed, ...
  bool unhealthy = true;  // counts against the deployment's circuit breaker
  std::optional<std::chrono::milliseconds> retry_after;
  std::string message;  // for logs and the final error; never contains the key
  std::optional<AiError::Kind> kind;  // content_filter / context_too_long / bad_request when that is what it was
};
// Classifies a non-2xx answer from its status and error body.
UpstreamFailure classify_http_failure(int status, std::string_view body);

// A rough token estimate (4 characters per token, images at the Phi-4 tile
// cost), used only to skip deployments whose context window cannot fit.
int64_t estimate_prompt_tokens(const AiRequest& request);

}  // namespace huntaze::ai_router
