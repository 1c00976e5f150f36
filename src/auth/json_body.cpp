#include "auth/json_body.hpp"

#include <boost/json.hpp>
#include <cctype>

#include "huntaze/core/strings.hpp"
#include "huntaze/mail/address.hpp"

namespace huntaze::auth {

namespace json = boost::json;

JsonBody::JsonBody(std::string_view text) {
  if (trim(text).empty()) return;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) throw ApiError(400, "invalid_json", "the body must be one JSON object");
  object_ = std::move(v.as_object());
}

std::string JsonBody::string(std::string_view field, size_t max_bytes, bool required, bool raw) {
  const json::value* v = object_.if_contains(field);
  if (!v || v->is_null()) {
    if (required) problem(std::string(field), "is required");
    return {};
  }
  if (!v->is_string()) {
    problem(std::string(field), "must be a string");
    return {};
  }
  std::string_view s(v->as_string());
  if (!raw) s = trim(s);
  if (s.size() > max_bytes) {
    problem(std::string(field), "must be at most " + std::to_string(max_bytes) + " bytes");
    return {};
  }
  if (!is_clean_utf8(s)) {
    problem(std::string(field), "must be valid UTF-8 text");
    return {};
  }
  if (required && s.empty()) problem(std::string(field), "must not be empty");
  return std::string(s);
}

std::optional<std::string> JsonBody::optional_string(std::string_view field, size_t max_bytes) {
  const json::value* v = object_.if_contains(field);
  if (!v || v->is_null()) return std::nullopt;
  return string(field, max_bytes, false);
}

std::vector<std::string> JsonBody::strings(std::string_view field, size_t max_items, size_t max_bytes) {
  std::vector<std::string> out;
  const json::value* v = object_.if_contains(field);
  if (!v || v->is_null()) return out;
  if (!v->is_array() || v->as_array().size() > max_items) {
    problem(std::string(field), "must be an array of at most " + std::to_string(max_items) + " strings");
    return out;
  }
  for (const auto& item : v->as_array()) {
    if (!item.is_string() || item.as_string().size() > max_bytes) {
      problem(std::string(field), "must contain short strings");
      return {};
    }
    out.emplace_back(item.as_string());
  }
  return out;
}

void JsonBody::check() const {
  if (!problems_.empty()) throw ApiError::bad_request("the request has invalid fields", problems_);
}

std::optional<std::string> normalize_email(std::string_view text) {
  std::string out = ascii_lower(trim(text));
  // What the mail area can deliver to is what an account may use: its links
  // must reach the address.
  if (!mail::plausible_address(out)) return std::nullopt;
  return out;
}

}  // namespace huntaze::auth
