// The jobs admin API's edges: reading its parameters and bodies (throwing
// ApiError 400 with details) and writing jobs as JSON. No I/O here, so all of
// it can be unit-tested.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "huntaze/db/result.hpp"
#include "huntaze/http/message.hpp"
#include "huntaze/jobs/job.hpp"

namespace huntaze::jobs::admin {

inline constexpr int kDefaultLimit = 50;
inline constexpr int kMaxLimit = 500;
inline constexpr int64_t kDefaultReplayLimit = 1000;
inline constexpr int64_t kMaxReplayLimit = 10'000;

// The filters and page of a listing. `before` comes from the cursor: the
// page holds jobs with smaller ids.
struct ListQuery {
  std::optional<std::string> queue;
  std::optional<std::string> kind;
  std::optional<JobState> state;
  int limit = kDefaultLimit;
  std::optional<int64_t> before;
};

// Reads queue, kind, limit, cursor and (when `with_state`) state; empty
// values count as absent. Throws ApiError 400 invalid_parameter naming every
// bad parameter in details.
ListQuery parse_list_query(const http::Request& req, bool with_state);

// The cursor after a page ending with `last_id`. Clients treat it as opaque.
std::string encode_cursor(int64_t last_id);
std::optional<int64_t> decode_cursor(std::string_view cursor);

// A positive int64 in decimal without sign or spaces; nullopt otherwise.
std::optional<int64_t> parse_positive_id(std::string_view text);
// The {id} path parameter; throws ApiError 400 invalid_parameter.
int64_t path_id(const http::Request& req);

struct ReplayRequest {
  std::optional<std::string> kind;
  std::optional<std::string> queue;
  std::optional<std::vector<int64_t>> ids;
  int64_t limit = kDefaultReplayLimit;
};

// An empty body means "every dead letter, up to the default limit". Throws
// ApiError 400 invalid_json (not JSON) or invalid_body (not an object,
// unknown fields, wrong types, out-of-range values; details name each field
// as a JSON pointer).
ReplayRequest parse_replay_body(std::string_view body);

// A row with the columns of admin_sql's summary (and detail) lists.
boost::json::object job_summary(const db::Row& row);
boost::json::object job_detail(const db::Row& row);

http::Response json_response(int status, const boost::json::object& body);

}  // namespace huntaze::jobs::admin
