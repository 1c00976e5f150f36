// ISO-8601 / RFC 3339 text for UTC instants, as the API and logs show them.
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "huntaze/core/clock.hpp"

namespace huntaze {

// "2026-11-21T10:00:00Z", or "2026-11-21T10:00:00.250000Z" when there are
// fractional seconds.
std::string format_iso8601(SysTime t);
// The instants the API takes and PostgreSQL stores: 0001-01-01T00:00:00Z
// to 9999-12-31T23:59:59.999999Z.
inline constexpr SysTime kEarliestTime{std::chrono::microseconds(-62'135'596'800'000'000)};
inline constexpr SysTime kLatestTime{std::chrono::microseconds(253'402'300'799'999'999)};

// Accepts the format above and an explicit offset ("+02:00"); nullopt when
// malformed or outside kEarliestTime..kLatestTime.
std::optional<SysTime> parse_iso8601(std::string_view text);
// A date ("2026-11-21": its midnight UTC) or what parse_iso8601 accepts: the
// `from`/`to` of report queries.
std::optional<SysTime> parse_day_or_time(std::string_view text);

// Calendar months in UTC (budgets, usage partitions, billing periods).
std::chrono::year_month utc_month(SysTime t);
// The first instant of the month.
SysTime month_start(std::chrono::year_month m);
// "202611", or "2026-11" with separator '-'. For years 0-9999.
std::string format_year_month(std::chrono::year_month m, char separator = '\0');

}  // namespace huntaze
