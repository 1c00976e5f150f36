#include "content/json_fields.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "huntaze/core/strings.hpp"
#include "huntaze/core/time_format.hpp"

namespace huntaze::content {

namespace json = boost::json;

namespace {

bool has_control(std::string_view s, bool multiline) {
  return std::any_of(s.begin(), s.end(), [multiline](char c) {
    const auto u = static_cast<unsigned char>(c);
    if (multiline && (c == '\n' || c == '\t' || c == '\r')) return false;
    return u < 0x20 || u == 0x7f;
  });
}

}  // namespace

Fields::Fields(const json::object& object, std::vector<ErrorDetail>& problems, std::string prefix)
    : object_(object), problems_(problems), prefix_(std::move(prefix)) {}

void Fields::problem(std::string_view field, std::string message) {
  problems_.push_back({prefix_ + std::string(field), std::move(message)});
  failed_ = true;
}

const json::value* Fields::present(std::string_view field, Need need) {
  const auto* v = object_.if_contains(field);
  if (v && !v->is_null()) return v;
  if (need == Need::required) problem(field, "is required");
  return nullptr;
}

std::optional<std::string> Fields::text(std::string_view field, size_t max_bytes, Need need, bool multiline) {
  const auto* v = present(field, need);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    problem(field, "must be a string");
    return std::nullopt;
  }
  const std::string_view s = trim(v->get_string());
  if (s.size() > max_bytes) {
    problem(field, "must be at most " + std::to_string(max_bytes) + " bytes");
    return std::nullopt;
  }
  if (!is_clean_utf8(s) || has_control(s, multiline)) {
    problem(field, "must be valid UTF-8 text without control characters");
    return std::nullopt;
  }
  if (need == Need::required && s.empty()) {
    problem(field, "must not be empty");
    return std::nullopt;
  }
  return std::string(s);
}

std::optional<std::string> Fields::token(std::string_view field, size_t max_bytes, Need need) {
  const auto* v = present(field, need);
  if (!v) return std::nullopt;
  std::string s;
  if (v->is_string()) {
    s = std::string(v->get_string());
  } else if (v->is_int64() || v->is_uint64()) {
    s = json::serialize(*v);  // connectors often send numeric platform ids
  } else {
    problem(field, "must be a string");
    return std::nullopt;
  }
  const bool printable = std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
  if (s.empty() || s.size() > max_bytes || !printable) {
    problem(field, "must be 1 to " + std::to_string(max_bytes) + " printable ASCII characters without spaces");
    return std::nullopt;
  }
  return s;
}

std::optional<int64_t> Fields::integer(std::string_view field, int64_t min, int64_t max, Need need) {
  const auto* v = present(field, need);
  if (!v) return std::nullopt;
  std::optional<int64_t> n;
  if (v->is_int64()) n = v->get_int64();
  else if (v->is_uint64() && v->get_uint64() <= static_cast<uint64_t>(INT64_MAX)) n = static_cast<int64_t>(v->get_uint64());
  if (!n || *n < min || *n > max) {
    problem(field, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
    return std::nullopt;
  }
  return n;
}

std::optional<SysTime> Fields::time(std::string_view field, Need need) {
  const auto* v = present(field, need);
  if (!v) return std::nullopt;
  std::optional<SysTime> t;
  if (v->is_string()) t = parse_iso8601(v->get_string());
  if (!t) {
    problem(field, "must be an RFC 3339 time such as 2026-11-21T10:00:00Z");
    return std::nullopt;
  }
  return t;
}

std::optional<std::string> Fields::word(std::string_view field, const std::vector<std::string_view>& allowed,
                                        Need need) {
  const auto* v = present(field, need);
  if (!v) return std::nullopt;
  if (v->is_string()) {
    const std::string_view s = v->get_string();
    for (auto a : allowed)
      if (s == a) return std::string(s);
  }
  problem(field, "must be one of: " + join(std::vector<std::string>(allowed.begin(), allowed.end())));
  return std::nullopt;
}

std::optional<std::vector<std::string>> Fields::texts(std::string_view field, size_t max_items, size_t max_bytes,
                                                      Need need) {
  const auto* v = present(field, need);
  if (!v) return std::nullopt;
  const auto fail = [&] {
    problem(field, "must be an array of at most " + std::to_string(max_items) + " strings of at most " +
                       std::to_string(max_bytes) + " bytes");
    return std::nullopt;
  };
  if (!v->is_array() || v->get_array().size() > max_items) return fail();
  std::vector<std::string> out;
  for (const auto& item : v->get_array()) {
    if (!item.is_string()) return fail();
    const std::string_view s = trim(item.get_string());
    if (s.size() > max_bytes || !is_clean_utf8(s) || has_control(s, false)) return fail();
    if (s.empty() || std::find(out.begin(), out.end(), s) != out.end()) continue;
    out.emplace_back(s);
  }
  return out;
}

}  // namespace huntaze::content
