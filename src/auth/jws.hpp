// What the two token readers share: access tokens we sign (jwt.cpp) and ID
// tokens identity providers sign (id_token.cpp) are both compact JWS
// (RFC 7515) carrying a JSON object of claims.
//
// Thread-safety: pure functions.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "huntaze/core/clock.hpp"

namespace huntaze::auth {

// "<header>.<payload>.<signature>", views into the token.
struct JwsParts {
  std::string_view header;
  std::string_view payload;
  std::string_view signature;
  std::string_view signing_input;  // "<header>.<payload>"
};

// Exactly three dot-separated segments; nullopt otherwise. The segments are
// not decoded.
std::optional<JwsParts> split_jws(std::string_view token);

// The JSON object in `json`; nullopt for invalid JSON or another type.
std::optional<boost::json::object> parse_json_object(std::string_view json);
// The same from a base64url segment (strict alphabet, no padding).
std::optional<boost::json::object> decode_json_object(std::string_view segment);

// The claim when it is a string, else null.
const boost::json::string* string_claim(const boost::json::object& claims, std::string_view key);

// Whether an "aud" claim (a string or an array of strings) names `who`;
// `count`, when given, receives how many audiences it names.
bool audience_contains(const boost::json::value& aud, std::string_view who, size_t* count = nullptr);

// 9999-12-31T23:59:59Z: the latest time a token may carry.
inline constexpr int64_t kMaxEpochSeconds = 253402300799;

// A NumericDate claim as whole seconds in [0, kMaxEpochSeconds]; nullopt when
// absent, of another type or out of range. `allow_fractional`: also accept a
// non-integer number (RFC 7519 allows it; some providers send one), floored.
std::optional<int64_t> epoch_claim(const boost::json::object& claims, std::string_view key, bool allow_fractional);

int64_t epoch_seconds(SysTime t);  // floored
SysTime from_epoch_seconds(int64_t seconds);

}  // namespace huntaze::auth
