#include "jobs/admin_json.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <cstdint>

#include "huntaze/core/error.hpp"
#include "huntaze/core/time_format.hpp"

namespace huntaze::jobs::admin {

namespace json = boost::json;

namespace {

constexpr const char* kStateList = "available, scheduled, running, retryable, completed, cancelled, discarded";

// A query parameter, with an empty value treated as absent (forms and
// scripts send "?queue=&state=" for "no filter").
std::optional<std::string> query_value(const http::Request& req, std::string_view name) {
  auto value = req.query_param(name);
  if (value && value->empty()) return std::nullopt;
  return value;
}

json::value optional_time(const db::Row& row, const char* column) {
  auto t = row.get<std::optional<db::Timestamp>>(column);
  return t ? json::value(format_iso8601(*t)) : json::value(nullptr);
}

json::value optional_text(const db::Row& row, const char* column) {
  auto s = row.get<std::optional<std::string>>(column);
  return s ? json::value(*s) : json::value(nullptr);
}

// A jsonb column as JSON (not as a string holding JSON).
json::value json_column(const db::Row& row, const char* column) {
  return json::parse(row.get<db::Json>(column).text);
}

// Integers only: JSON has no integer type, so 5.0 and 1e3 are refused too,
// rather than silently truncated.
std::optional<int64_t> as_int64(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<uint64_t>(INT64_MAX)) return static_cast<int64_t>(v.get_uint64());
  return std::nullopt;
}

}  // namespace

std::optional<int64_t> parse_positive_id(std::string_view text) {
  if (text.empty() || text.front() < '0' || text.front() > '9') return std::nullopt;  // no sign, no space
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

// Decimal today; opaque so that it can carry more (a sort key) later.
std::string encode_cursor(int64_t last_id) {
  return std::to_string(last_id);
}

std::optional<int64_t> decode_cursor(std::string_view cursor) {
  return parse_positive_id(cursor);
}

int64_t path_id(const http::Request& req) {
  auto text = req.param("id");
  auto id = parse_positive_id(text);
  if (!id)
    throw ApiError(400, "invalid_parameter", "job id must be a positive integer, got '" + std::string(text) + "'",
                   {{"id", "a positive integer"}});
  return *id;
}

ListQuery parse_list_query(const http::Request& req, bool with_state) {
  ListQuery q;
  std::vector<ErrorDetail> bad;
  q.queue = query_value(req, "queue");
  q.kind = query_value(req, "kind");
  if (with_state) {
    if (auto state = query_value(req, "state")) {
      q.state = parse_job_state(*state);
      if (!q.state) bad.push_back({"state", "unknown job state '" + *state + "' (one of " + kStateList + ")"});
    }
  }
  if (auto limit = query_value(req, "limit")) {
    auto n = parse_positive_id(*limit);
    if (!n || *n > kMaxLimit)
      bad.push_back(
          {"limit", "limit must be an integer from 1 to " + std::to_string(kMaxLimit) + ", got '" + *limit + "'"});
    else
      q.limit = static_cast<int>(*n);
  }
  if (auto cursor = query_value(req, "cursor")) {
    q.before = decode_cursor(*cursor);
    if (!q.before) bad.push_back({"cursor", "malformed cursor '" + *cursor + "' (pass next_cursor back unchanged)"});
  }
  if (!bad.empty()) {
    std::string message = bad.size() == 1 ? bad.front().message : "invalid query parameters";
    throw ApiError(400, "invalid_parameter", std::move(message), std::move(bad));
  }
  return q;
}

ReplayRequest parse_replay_body(std::string_view body) {
  ReplayRequest r;
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return r;
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  if (ec) throw ApiError(400, "invalid_json", "the body is not valid JSON: " + ec.message());
  if (!doc.is_object())
    throw ApiError(400, "invalid_body", "the body must be a JSON object", {{"", "expected an object"}});

  std::vector<ErrorDetail> bad;
  auto text_field = [&](const json::value& v, const std::string& pointer) -> std::optional<std::string> {
    if (!v.is_string() || v.get_string().empty()) {
      bad.push_back({pointer, "expected a non-empty string"});
      return std::nullopt;
    }
    return std::string(v.get_string());
  };
  for (const auto& [key, value] : doc.get_object()) {
    const std::string pointer = "/" + std::string(key);
    if (key == "kind") {
      r.kind = text_field(value, pointer);
    } else if (key == "queue") {
      r.queue = text_field(value, pointer);
    } else if (key == "limit") {
      auto n = as_int64(value);
      if (!n || *n < 1 || *n > kMaxReplayLimit)
        bad.push_back({pointer, "expected an integer from 1 to " + std::to_string(kMaxReplayLimit)});
      else
        r.limit = *n;
    } else if (key == "ids") {
      if (!value.is_array()) {
        bad.push_back({pointer, "expected an array of job ids"});
        continue;
      }
      std::vector<int64_t> ids;
      const auto& items = value.get_array();
      for (size_t i = 0; i < items.size(); ++i) {
        auto id = as_int64(items[i]);
        if (!id || *id <= 0)
          bad.push_back({pointer + "/" + std::to_string(i), "expected a positive integer"});
        else
          ids.push_back(*id);
      }
      r.ids = std::move(ids);
    } else {
      bad.push_back({pointer, "unknown field (expected kind, queue, ids, limit)"});
    }
  }
  if (!bad.empty()) {
    std::string message = bad.size() == 1 ? bad.front().field + ": " + bad.front().message : "invalid replay request";
    throw ApiError(400, "invalid_body", std::move(message), std::move(bad));
  }
  return r;
}

json::object job_summary(const db::Row& row) {
  json::object o;
  o["id"] = row.get<int64_t>("id");
  o["queue"] = row.get<std::string>("queue");
  o["kind"] = row.get<std::string>("kind");
  o["state"] = row.get<std::string>("state");
  o["priority"] = row.get<int32_t>("priority");
  o["attempt"] = row.get<int32_t>("attempt");
  o["max_attempts"] = row.get<int32_t>("max_attempts");
  o["run_at"] = format_iso8601(row.get<db::Timestamp>("run_at"));
  o["created_at"] = format_iso8601(row.get<db::Timestamp>("created_at"));
  o["attempted_at"] = optional_time(row, "attempted_at");
  o["finished_at"] = optional_time(row, "finished_at");
  o["unique_key"] = optional_text(row, "unique_key");
  o["worker_id"] = optional_text(row, "worker_id");
  o["last_error"] = optional_text(row, "last_error");
  return o;
}

json::object job_detail(const db::Row& row) {
  json::object o = job_summary(row);
  o["timeout_ms"] = row.get<int32_t>("timeout_ms");
  o["heartbeat_at"] = optional_time(row, "heartbeat_at");
  o["payload"] = json_column(row, "payload");
  o["errors"] = json_column(row, "errors");
  return o;
}

http::Response json_response(int status, const json::object& body) {
  return http::Response::json_text(status, json::serialize(body));
}

}  // namespace huntaze::jobs::admin
