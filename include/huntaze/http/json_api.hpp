// The JSON conventions every module's routes share: JSON answers, bodies
// that must be one object, path ids, page sizes, the opaque keyset cursors
// of list endpoints and typed query parameters (DESIGN.md §5).
//
// A cursor is the base64url of a JSON array holding the sort key of the
// last row served (e.g. [spend, "id"]); clients pass it back untouched.
// Every malformed input is an ApiError (400, or 404 for a path id).
//
// Thread-safety: pure functions.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "huntaze/core/clock.hpp"
#include "huntaze/core/error.hpp"
#include "huntaze/core/uuid.hpp"
#include "huntaze/http/message.hpp"

namespace huntaze::http {

Response json_response(int status, const boost::json::value& body);
std::string encode_cursor(const boost::json::array& key);

// The request body as one JSON object; 400 invalid_json otherwise.
boost::json::object parse_object(const std::string& body);

// One page of a keyset-paginated list: `rows` holds up to limit + 1 rows
// (the extra one only says that more follow); each becomes to_json(row), and
// next_cursor is encode_cursor(key_of(last item served)), or null.
template <class Rows, class ToJson, class KeyOf>
boost::json::object page_json(const Rows& rows, int limit, ToJson to_json, KeyOf key_of) {
  boost::json::array items;
  boost::json::value next = nullptr;
  int n = 0;
  for (const auto& row : rows) {
    if (n++ == limit) {
      next = encode_cursor(key_of(items.back().as_object()));
      break;
    }
    items.push_back(to_json(row));
  }
  return boost::json::object{{"items", std::move(items)}, {"next_cursor", std::move(next)}};
}

// The {name} path parameter as a UUID; a malformed one is 404 `what` not found.
Uuid path_uuid(const Request& req, std::string_view name, std::string_view what);

// ?limit= within 1..max (default `fallback`); 400 when malformed.
int page_limit(const Request& req, int fallback = 50, int max = 200);

// ?cursor= decoded into an array of `arity` values; nullopt when absent; 400
// invalid_cursor when it is not one of ours.
std::optional<boost::json::array> page_cursor(const Request& req, size_t arity);

// A cursor value as a time (microseconds since the epoch) or a UUID; 400 invalid_cursor otherwise.
SysTime cursor_time(const boost::json::value& v);
Uuid cursor_uuid(const boost::json::value& v);
int64_t cursor_int(const boost::json::value& v);

// A time of an item already in JSON (RFC 3339) as a cursor value.
int64_t cursor_value(const boost::json::value& rfc3339);

// RFC 3339, or null.
boost::json::value time_or_null(const std::optional<SysTime>& t);
// The text, or null.
boost::json::value text_or_null(const std::optional<std::string>& s);
boost::json::array strings_json(const std::vector<std::string>& items);

// ?<name>= as a date (YYYY-MM-DD, midnight UTC) or an RFC 3339 time;
// nullopt when absent, 400 when malformed.
std::optional<SysTime> time_query(const Request& req, const char* name);
// ?<name>= when it is one of `allowed`; nullopt when absent, 400 otherwise.
std::optional<std::string> word_query(const Request& req, const char* name,
                                      const std::vector<std::string_view>& allowed);

}  // namespace huntaze::http
