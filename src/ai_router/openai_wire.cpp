#include "ai_router/openai_wire.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <limits>

#include "huntaze/core/strings.hpp"

namespace huntaze::ai_router {

namespace json = boost::json;

namespace {

// Upstream error text reaches tenants (error bodies, SSE error events) and
// logs: whole characters only, and short.
constexpr size_t kMaxErrorText = 300;
// Token counts a provider reports are trusted only this far: the same cap
// the usage log's integer columns have, so that one absurd `usage` block
// cannot overflow a sum or put a workspace's token window in debt for years.
constexpr int64_t kMaxReportedTokens = std::numeric_limits<int32_t>::max();

json::value message_json(const Message& m) {
  json::object out;
  out["role"] = m.role;
  if (m.image_urls.empty()) {
    out["content"] = m.content;
    return out;
  }
  json::array parts;
  if (!m.content.empty()) parts.push_back(json::object{{"type", "text"}, {"text", m.content}});
  for (const auto& url : m.image_urls)
    parts.push_back(json::object{{"type", "image_url"}, {"image_url", json::object{{"url", url}}}});
  out["content"] = std::move(parts);
  return out;
}

std::string string_at(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return {};
  return std::string(it->value().as_string());
}

std::optional<Usage> usage_of(const json::object& o) {
  auto it = o.find("usage");
  if (it == o.end() || !it->value().is_object()) return std::nullopt;
  const auto& u = it->value().as_object();
  auto number = [&](std::string_view key) -> int64_t {
    auto f = u.find(key);
    if (f == u.end()) return 0;
    if (f->value().is_int64()) return std::clamp<int64_t>(f->value().as_int64(), 0, kMaxReportedTokens);
    if (f->value().is_uint64()) return kMaxReportedTokens;  // beyond int64: absurd
    return 0;
  };
  return Usage{number("prompt_tokens"), number("completion_tokens")};
}

json::object parse_object(std::string_view text, const char* what) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) throw WireError(std::string(what) + " is not JSON: " + ec.message());
  if (!v.is_object()) throw WireError(std::string(what) + " is not a JSON object");
  return std::move(v.as_object());
}

}  // namespace

std::string chat_request_body(const Deployment& d, const AiRequest& r, bool stream) {
  json::object body;
  if (!d.model.empty()) body["model"] = d.model;
  json::array messages;
  for (const auto& m : r.messages) messages.push_back(message_json(m));
  body["messages"] = std::move(messages);
  const auto& p = r.params;
  if (p.temperature) body["temperature"] = *p.temperature;
  if (p.top_p) body["top_p"] = *p.top_p;
  body["max_tokens"] = p.max_tokens ? std::min(*p.max_tokens, d.max_output) : d.max_output;
  if (p.seed) body["seed"] = *p.seed;
  if (!p.stop.empty()) {
    json::array stop;
    for (const auto& s : p.stop) stop.push_back(json::string(s));
    body["stop"] = std::move(stop);
  }
  if (p.json) body["response_format"] = json::object{{"type", "json_object"}};
  if (stream) {
    body["stream"] = true;
    body["stream_options"] = json::object{{"include_usage", true}};
  }
  return json::serialize(body);
}

std::vector<std::pair<std::string, std::string>> request_headers(const Deployment& d, bool stream) {
  std::vector<std::pair<std::string, std::string>> h{{"content-type", "application/json"},
                                                     {"accept", stream ? "text/event-stream" : "application/json"}};
  switch (d.auth) {
    case Auth::api_key:
      h.emplace_back("api-key", d.key.reveal());
      break;
    case Auth::bearer:
      h.emplace_back("authorization", "Bearer " + d.key.reveal());
      break;
    case Auth::none:
      break;
  }
  return h;
}

ParsedAnswer parse_chat_completion(std::string_view body) {
  const json::object o = parse_object(body, "the completion");
  ParsedAnswer a;
  a.id = string_at(o, "id");
  a.model = string_at(o, "model");
  a.usage = usage_of(o);
  auto choices = o.find("choices");
  if (choices == o.end() || !choices->value().is_array() || choices->value().as_array().empty())
    throw WireError("the completion has no choices");
  const auto& first = choices->value().as_array().front();
  if (!first.is_object()) throw WireError("a completion choice is not an object");
  const auto& choice = first.as_object();
  a.finish_reason = string_at(choice, "finish_reason");
  auto message = choice.find("message");
  if (message == choice.end() || !message->value().is_object()) throw WireError("the completion has no message");
  const auto& m = message->value().as_object();
  a.content = string_at(m, "content");  // null for refusals
  a.reasoning = string_at(m, "reasoning_content");
  if (a.reasoning.empty()) a.reasoning = string_at(m, "reasoning");
  return a;
}

ParsedChunk parse_chat_chunk(std::string_view data) {
  ParsedChunk c;
  if (data == "[DONE]") {
    c.done = true;
    return c;
  }
  const json::object o = parse_object(data, "a stream chunk");
  if (auto e = o.find("error"); e != o.end()) {
    c.error = e->value().is_object() ? clean_utf8(string_at(e->value().as_object(), "message"), kMaxErrorText) : "";
    if (c.error.empty()) c.error = "error in stream";
    return c;
  }
  c.id = string_at(o, "id");
  c.model = string_at(o, "model");
  c.usage = usage_of(o);
  auto choices = o.find("choices");
  if (choices == o.end() || !choices->value().is_array()) return c;  // e.g. the usage-only last chunk
  for (const auto& v : choices->value().as_array()) {
    if (!v.is_object()) throw WireError("a chunk choice is not an object");
    const auto& choice = v.as_object();
    if (auto f = choice.find("finish_reason"); f != choice.end() && f->value().is_string())
      c.finish_reason = std::string(f->value().as_string());
    auto delta = choice.find("delta");
    if (delta == choice.end() || !delta->value().is_object()) continue;
    const auto& d = delta->value().as_object();
    c.content += string_at(d, "content");
    std::string reasoning = string_at(d, "reasoning_content");
    if (reasoning.empty()) reasoning = string_at(d, "reasoning");
    c.reasoning += reasoning;
    break;  // one choice per request
  }
  return c;
}

UpstreamFailure classify_http_failure(int status, std::string_view body) {
  UpstreamFailure f;
  f.reason = status == 429 ? "http_429" : status >= 500 ? "http_5xx" : "http_" + std::to_string(status);
  std::string code, message;
  {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (!ec && v.is_object()) {
      if (auto e = v.as_object().find("error"); e != v.as_object().end() && e->value().is_object()) {
        const auto& err = e->value().as_object();
        code = string_at(err, "code");
        message = string_at(err, "message");
        if (auto inner = err.find("innererror"); inner != err.end() && inner->value().is_object()) {
          auto inner_code = string_at(inner->value().as_object(), "code");
          if (!inner_code.empty() && code.empty()) code = inner_code;
          if (inner_code == "ResponsibleAIPolicyViolation") code = "content_filter";
        }
      }
    }
  }
  message = clean_utf8(message.empty() ? body : std::string_view(message), kMaxErrorText);
  code = clean_utf8(code, 64);
  f.message = "HTTP " + std::to_string(status) + (code.empty() ? "" : " " + code) + ": " + message;
  const std::string lowered = ascii_lower(message);
  if (status < 400) {
    // Redirects are not followed (a moved or http->https endpoint is a
    // misconfigured deployment): the next one may work.
    f.action = FailureAction::fallback;
    f.reason = "http_3xx";
    return f;
  }
  if (status == 408 || status == 409 || status == 429 || status >= 500) {
    f.action = FailureAction::retry;
    return f;
  }
  if (code == "content_filter" || code == "content_policy_violation") {
    f.action = FailureAction::fallback;
    f.reason = "content_filter";
    f.unhealthy = false;
    f.kind = AiError::Kind::content_filter;
    return f;
  }
  if (code == "context_length_exceeded" || code == "string_above_max_length" ||
      lowered.find("maximum context length") != std::string::npos ||
      lowered.find("context length") != std::string::npos || status == 413) {
    f.action = FailureAction::fallback;
    f.reason = "context_length";
    f.unhealthy = false;
    f.kind = AiError::Kind::context_too_long;
    return f;
  }
  if (status == 401 || status == 403 || status == 404) {
    // A wrong key, a missing deployment: this deployment is broken, others may work.
    f.action = FailureAction::fallback;
    f.reason = status == 404 ? "not_found" : "auth";
    return f;
  }
  f.action = FailureAction::fatal;
  f.reason = "bad_request";
  f.unhealthy = false;
  f.kind = AiError::Kind::bad_request;
  return f;
}

int64_t estimate_prompt_tokens(const AiRequest& request) {
  int64_t chars = 0, images = 0;
  for (const auto& m : request.messages) {
    chars += static_cast<int64_t>(m.content.size()) + 8;
    images += static_cast<int64_t>(m.image_urls.size());
  }
  return chars / 4 + images * 1600;
}

}  // namespace huntaze::ai_router
