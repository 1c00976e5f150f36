#include "huntaze/http/json_api.hpp"

#include <boost/json.hpp>
#include <charconv>

#include "huntaze/core/crypto.hpp"
#include "huntaze/core/strings.hpp"
#include "huntaze/core/time_format.hpp"

namespace huntaze::http {

namespace json = boost::json;

namespace {

constexpr size_t kMaxCursorBytes = 512;

ApiError invalid_cursor() {
  return ApiError(400, "invalid_cursor", "the cursor is not valid; start again without one", {{"cursor", "invalid"}});
}

}  // namespace

Response json_response(int status, const json::value& body) {
  return http::Response::json_text(status, json::serialize(body));
}

json::object parse_object(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) throw ApiError(400, "invalid_json", "the body must be one JSON object");
  return std::move(v.get_object());
}

int64_t cursor_value(const json::value& rfc3339) {
  auto t = rfc3339.is_string() ? parse_iso8601(rfc3339.get_string()) : std::nullopt;
  return t ? t->time_since_epoch().count() : 0;
}

Uuid path_uuid(const Request& req, std::string_view name, std::string_view what) {
  auto id = Uuid::parse(req.param(name));
  if (!id) throw ApiError::not_found(std::string(what) + " not found");
  return *id;
}

int page_limit(const Request& req, int fallback, int max) {
  auto text = req.query_param("limit");
  if (!text) return fallback;
  int n = 0;
  const auto r = std::from_chars(text->data(), text->data() + text->size(), n);
  if (text->empty() || r.ec != std::errc() || r.ptr != text->data() + text->size() || n < 1 || n > max)
    throw ApiError::bad_request("limit must be an integer from 1 to " + std::to_string(max), {{"limit", "invalid"}});
  return n;
}

std::string encode_cursor(const json::array& key) {
  return crypto::base64url_encode(json::serialize(key));
}

std::optional<json::array> page_cursor(const Request& req, size_t arity) {
  auto text = req.query_param("cursor");
  if (!text || text->empty()) return std::nullopt;
  if (text->size() > kMaxCursorBytes) throw invalid_cursor();
  auto raw = crypto::base64url_decode(*text);
  if (!raw) throw invalid_cursor();
  boost::system::error_code ec;
  json::value v = json::parse(*raw, ec);
  if (ec || !v.is_array() || v.get_array().size() != arity) throw invalid_cursor();
  return std::move(v.get_array());
}

SysTime cursor_time(const json::value& v) {
  // Within what parse_iso8601 accepts for the rows' own times (an offer may
  // start before 1970), which PostgreSQL can compare: a crafted cursor must
  // be a 400, not a "timestamp out of range" 500.
  if (!v.is_int64()) throw invalid_cursor();
  const SysTime t{std::chrono::microseconds(v.get_int64())};
  if (t < kEarliestTime || t > kLatestTime) throw invalid_cursor();
  return t;
}

Uuid cursor_uuid(const json::value& v) {
  std::optional<Uuid> id;
  if (v.is_string()) id = Uuid::parse(v.get_string());
  if (!id) throw invalid_cursor();
  return *id;
}

int64_t cursor_int(const json::value& v) {
  if (!v.is_int64()) throw invalid_cursor();
  return v.get_int64();
}

json::value time_or_null(const std::optional<SysTime>& t) {
  return t ? json::value(format_iso8601(*t)) : json::value(nullptr);
}

json::value text_or_null(const std::optional<std::string>& s) {
  return s ? json::value(*s) : json::value(nullptr);
}

json::array strings_json(const std::vector<std::string>& items) {
  json::array out;
  out.reserve(items.size());
  for (const auto& s : items) out.push_back(json::value(s));
  return out;
}

std::optional<SysTime> time_query(const Request& req, const char* name) {
  auto text = req.query_param(name);
  if (!text) return std::nullopt;
  auto t = parse_day_or_time(*text);
  if (!t)
    throw ApiError::bad_request(std::string(name) + " must be a date (YYYY-MM-DD) or an RFC 3339 time",
                                {{name, "invalid"}});
  return t;
}

std::optional<std::string> word_query(const Request& req, const char* name,
                                      const std::vector<std::string_view>& allowed) {
  auto text = req.query_param(name);
  if (!text) return std::nullopt;
  for (auto a : allowed)
    if (*text == a) return text;
  const std::vector<std::string> words(allowed.begin(), allowed.end());
  throw ApiError::bad_request(std::string(name) + " must be one of: " + join(words), {{name, "invalid"}});
}

}  // namespace huntaze::http
