#include "auth/jws.hpp"

#include <boost/json.hpp>
#include <cmath>

#include "huntaze/core/crypto.hpp"

namespace huntaze::auth {

namespace json = boost::json;

std::optional<JwsParts> split_jws(std::string_view token) {
  const size_t first = token.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  const size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) return std::nullopt;
  return JwsParts{token.substr(0, first), token.substr(first + 1, second - first - 1), token.substr(second + 1),
                  token.substr(0, second)};
}

std::optional<json::object> parse_json_object(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

std::optional<json::object> decode_json_object(std::string_view segment) {
  auto bytes = crypto::base64url_decode(segment);
  if (!bytes) return std::nullopt;
  return parse_json_object(*bytes);
}

const json::string* string_claim(const json::object& claims, std::string_view key) {
  const auto* v = claims.if_contains(key);
  return v ? v->if_string() : nullptr;
}

bool audience_contains(const json::value& aud, std::string_view who, size_t* count) {
  size_t n = 0;
  bool found = false;
  if (aud.is_string()) {
    n = 1;
    found = aud.get_string() == who;
  } else if (const auto* list = aud.if_array()) {
    n = list->size();
    for (const auto& a : *list) found = found || (a.is_string() && a.get_string() == who);
  }
  if (count) *count = n;
  return found;
}

std::optional<int64_t> epoch_claim(const json::object& claims, std::string_view key, bool allow_fractional) {
  const auto* v = claims.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) {
    const int64_t s = v->get_int64();
    if (s < 0 || s > kMaxEpochSeconds) return std::nullopt;
    return s;
  }
  if (!allow_fractional) return std::nullopt;
  double s = 0;
  if (v->is_uint64())
    s = static_cast<double>(v->get_uint64());
  else if (v->is_double())
    s = std::floor(v->get_double());
  else
    return std::nullopt;
  if (!(s >= 0 && s <= static_cast<double>(kMaxEpochSeconds))) return std::nullopt;
  return static_cast<int64_t>(s);
}

int64_t epoch_seconds(SysTime t) {
  return std::chrono::floor<std::chrono::seconds>(t).time_since_epoch().count();
}

SysTime from_epoch_seconds(int64_t s) {
  return SysTime(std::chrono::duration_cast<SysTime::duration>(std::chrono::seconds(s)));
}

}  // namespace huntaze::auth
