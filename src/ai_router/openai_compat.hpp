// Our side of the OpenAI-compatible endpoint (POST /api/v1/ai/chat/completions):
// reading a client's chat request and writing answers and stream chunks as
// the official SDKs expect them. `model` names a task or an alias.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "huntaze/ai_router/router.hpp"

namespace huntaze::ai_router {

struct CompatRequest {
  AiRequest request;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
};

// Throws ApiError 400 (code invalid_request) naming the offending field.
CompatRequest parse_compat_request(std::string_view body);

// A chat.completion object for the answer. `created` is Unix seconds.
std::string compat_completion(const Completion& c, int64_t created);

// chat.completion.chunk payloads (without "data: ").
std::string compat_chunk(const std::string& id, const std::string& model, int64_t created, const Delta& delta,
                         bool first);
std::string compat_final_chunk(const std::string& id, const std::string& model, int64_t created,
                               const std::string& finish_reason);
std::string compat_usage_chunk(const std::string& id, const std::string& model, int64_t created, const Usage& usage);
// {"error":{"message","type","code"}} as OpenAI sends it.
std::string compat_error(std::string_view code, std::string_view message);

}  // namespace huntaze::ai_router
