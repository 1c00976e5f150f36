// Conversions between C++ values and PostgreSQL's text representation.
//
// Parameters are sent in text format (except bytea) and every result column
// comes back as text, so these functions are the whole type mapping. The
// session runs with TimeZone=UTC and DateStyle=ISO (set at connect), which is
// the timestamp format parse_timestamp() expects.
//
// Parsers throw std::invalid_argument describing what was wrong; the caller
// adds the column name. Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "huntaze/db/value.hpp"

namespace huntaze::db::pg {

// ---- C++ -> PostgreSQL input syntax ----------------------------------------

// ISO 8601 in UTC with microseconds: "2024-05-06T07:08:09.123456Z" (" BC"
// appended before year 1). Timestamp::max()/min() map to 'infinity'/'-infinity'.
std::string format_timestamp(Timestamp t);
// Shortest text that reads back to the same double; NaN and the infinities
// in PostgreSQL's spelling.
std::string format_double(double v);
// Array literals. Every text element is double-quoted, so commas, braces,
// spaces, the word NULL and empty strings all survive unchanged.
std::string format_array(const std::vector<int64_t>& values);
std::string format_array(const std::vector<std::string>& values);
std::string format_array(const std::vector<Uuid>& values);

// ---- PostgreSQL output -> C++ ----------------------------------------------

bool parse_bool(std::string_view text);
int32_t parse_int32(std::string_view text);
int64_t parse_int64(std::string_view text);
double parse_double(std::string_view text);
Uuid parse_uuid(std::string_view text);
// bytea in hex ("\x0102") or the older escape format.
std::string parse_bytea(std::string_view text);
// timestamptz/timestamp/date as PostgreSQL prints them with DateStyle=ISO;
// also accepts the 'T' separator and a 'Z' zone. Values without a zone are UTC.
Timestamp parse_timestamp(std::string_view text);
// The elements of a one-dimensional array literal; nullopt for NULL elements.
std::vector<std::optional<std::string>> parse_array(std::string_view text);

}  // namespace huntaze::db::pg
