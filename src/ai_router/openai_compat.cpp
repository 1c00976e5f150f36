#include "ai_router/openai_compat.hpp"

#include <boost/json.hpp>

#include "huntaze/core/error.hpp"

namespace huntaze::ai_router {

namespace json = boost::json;

namespace {

[[noreturn]] void invalid(const std::string& field, const std::string& message) {
  throw ApiError(400, "invalid_request", message, {{field, message}});
}

std::string text_of(const json::value& v, const std::string& field) {
  if (!v.is_string()) invalid(field, field + " must be a string");
  return std::string(v.as_string());
}

double number_of(const json::value& v, const std::string& field) {
  if (v.is_double()) return v.as_double();
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  if (v.is_uint64()) return static_cast<double>(v.as_uint64());
  invalid(field, field + " must be a number");
}

int64_t integer_of(const json::value& v, const std::string& field) {
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64() && v.as_uint64() <= INT64_MAX) return static_cast<int64_t>(v.as_uint64());
  invalid(field, field + " must be an integer");
}

Message message_of(const json::value& v, size_t index) {
  const std::string at = "messages[" + std::to_string(index) + "]";
  if (!v.is_object()) invalid(at, at + " must be an object");
  const auto& o = v.as_object();
  Message m;
  auto role = o.find("role");
  if (role == o.end()) invalid(at + ".role", "role is required");
  m.role = text_of(role->value(), at + ".role");
  auto content = o.find("content");
  if (content == o.end() || content->value().is_null()) return m;
  if (content->value().is_string()) {
    m.content = std::string(content->value().as_string());
    return m;
  }
  if (!content->value().is_array()) invalid(at + ".content", "content must be a string or an array of parts");
  size_t part_index = 0;
  for (const auto& part : content->value().as_array()) {
    const std::string p = at + ".content[" + std::to_string(part_index++) + "]";
    if (!part.is_object()) invalid(p, "a content part must be an object");
    const auto& po = part.as_object();
    auto type = po.find("type");
    if (type == po.end()) invalid(p + ".type", "type is required");
    const std::string kind = text_of(type->value(), p + ".type");
    if (kind == "text") {
      auto text = po.find("text");
      if (text == po.end()) invalid(p + ".text", "text is required");
      if (!m.content.empty()) m.content += "\n";
      m.content += text_of(text->value(), p + ".text");
    } else if (kind == "image_url") {
      auto image = po.find("image_url");
      if (image == po.end()) invalid(p + ".image_url", "image_url is required");
      if (image->value().is_string()) {
        m.image_urls.push_back(std::string(image->value().as_string()));
      } else if (image->value().is_object() && image->value().as_object().contains("url")) {
        m.image_urls.push_back(text_of(image->value().as_object().at("url"), p + ".image_url.url"));
      } else {
        invalid(p + ".image_url", "image_url must hold a url");
      }
    } else {
      invalid(p + ".type", "unsupported content part type '" + kind.substr(0, 32) + "'");
    }
  }
  return m;
}

json::object usage_json(const Usage& u) {
  return {{"prompt_tokens", u.input_tokens},
          {"completion_tokens", u.output_tokens},
          {"total_tokens", u.input_tokens + u.output_tokens}};
}

}  // namespace

CompatRequest parse_compat_request(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) throw ApiError(400, "invalid_json", "the body is not valid JSON: " + ec.message());
  if (!v.is_object()) throw ApiError(400, "invalid_json", "the body must be a JSON object");
  const auto& o = v.as_object();
  CompatRequest out;
  auto& r = out.request;
  auto model = o.find("model");
  if (model == o.end()) invalid("model", "model is required (a task such as \"generate\" or a model alias)");
  r.task = text_of(model->value(), "model");
  auto messages = o.find("messages");
  if (messages == o.end() || !messages->value().is_array()) invalid("messages", "messages must be an array");
  size_t i = 0;
  for (const auto& m : messages->value().as_array()) r.messages.push_back(message_of(m, i++));
  auto& p = r.params;
  for (const auto& [key, value] : o) {
    if (value.is_null()) continue;
    const std::string k(key);
    if (k == "model" || k == "messages" || k == "user") continue;
    if (k == "temperature") {
      p.temperature = number_of(value, k);
    } else if (k == "top_p") {
      p.top_p = number_of(value, k);
    } else if (k == "max_tokens" || k == "max_completion_tokens") {
      const int64_t n = integer_of(value, k);
      if (n < 1 || n > 1'000'000) invalid(k, k + " must be within [1, 1000000]");
      p.max_tokens = static_cast<int>(n);
    } else if (k == "seed") {
      p.seed = integer_of(value, k);
    } else if (k == "stop") {
      if (value.is_string()) {
        p.stop.push_back(std::string(value.as_string()));
      } else if (value.is_array()) {
        for (const auto& s : value.as_array()) p.stop.push_back(text_of(s, "stop"));
      } else {
        invalid("stop", "stop must be a string or an array of strings");
      }
    } else if (k == "response_format") {
      if (!value.is_object() || !value.as_object().contains("type")) invalid(k, "response_format must have a type");
      const std::string type = text_of(value.as_object().at("type"), "response_format.type");
      if (type != "text" && type != "json_object") invalid(k, "response_format.type must be text or json_object");
      p.json = type == "json_object";
    } else if (k == "stream") {
      if (!value.is_bool()) invalid(k, "stream must be a boolean");
      out.stream = value.as_bool();
    } else if (k == "stream_options") {
      if (!value.is_object()) invalid(k, "stream_options must be an object");
      if (auto iu = value.as_object().find("include_usage"); iu != value.as_object().end()) {
        if (!iu->value().is_bool()) invalid("stream_options.include_usage", "include_usage must be a boolean");
        out.include_usage = iu->value().as_bool();
      }
    } else if (k == "n") {
      if (integer_of(value, k) != 1) invalid(k, "only n = 1 is supported");
    } else {
      invalid(k, "unsupported parameter '" + k.substr(0, 64) + "'");
    }
  }
  return out;
}

std::string compat_completion(const Completion& c, int64_t created) {
  json::object message{{"role", "assistant"}, {"content", c.content}};
  if (!c.reasoning.empty()) message["reasoning_content"] = c.reasoning;
  json::object choice{{"index", 0}, {"message", std::move(message)}, {"finish_reason", c.finish_reason}};
  json::object out{{"id", c.id},
                   {"object", "chat.completion"},
                   {"created", created},
                   {"model", c.model},
                   {"choices", json::array{std::move(choice)}},
                   {"usage", usage_json(c.usage)}};
  return json::serialize(out);
}

namespace {

// A chat.completion.chunk around `choices` (and the usage when given).
std::string chunk_json(const std::string& id, const std::string& model, int64_t created, json::array choices,
                       const Usage* usage = nullptr) {
  json::object out{{"id", id},
                   {"object", "chat.completion.chunk"},
                   {"created", created},
                   {"model", model},
                   {"choices", std::move(choices)}};
  if (usage) out["usage"] = usage_json(*usage);
  return json::serialize(out);
}

}  // namespace

std::string compat_chunk(const std::string& id, const std::string& model, int64_t created, const Delta& delta,
                         bool first) {
  json::object d;
  if (first) d["role"] = "assistant";
  if (!delta.content.empty() || first) d["content"] = delta.content;
  if (!delta.reasoning.empty()) d["reasoning_content"] = delta.reasoning;
  json::object choice{{"index", 0}, {"delta", std::move(d)}, {"finish_reason", nullptr}};
  return chunk_json(id, model, created, json::array{std::move(choice)});
}

std::string compat_final_chunk(const std::string& id, const std::string& model, int64_t created,
                               const std::string& finish_reason) {
  json::object choice{{"index", 0}, {"delta", json::object{}}, {"finish_reason", finish_reason}};
  return chunk_json(id, model, created, json::array{std::move(choice)});
}

std::string compat_usage_chunk(const std::string& id, const std::string& model, int64_t created, const Usage& usage) {
  return chunk_json(id, model, created, json::array{}, &usage);
}

std::string compat_error(std::string_view code, std::string_view message) {
  json::object e{{"message", message}, {"type", code == "bad_request" ? "invalid_request_error" : "api_error"},
                 {"code", code}};
  return json::serialize(json::object{{"error", std::move(e)}});
}

}  // namespace huntaze::ai_router
