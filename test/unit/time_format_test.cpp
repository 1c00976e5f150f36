#include <catch2/catch.hpp>

#include "huntaze/core/time_format.hpp"

using namespace huntaze;
using namespace std::chrono;

TEST_CASE("ISO-8601 formatting and parsing round-trip UTC instants", "[core]") {
  const SysTime t = sys_days(year(2026) / 11 / 21) + hours(10) + minutes(5) + seconds(7);
  CHECK(format_iso8601(t) == "2026-11-21T10:05:07Z");
  CHECK(format_iso8601(t + microseconds(250000)) == "2026-11-21T10:05:07.250000Z");
  CHECK(format_iso8601(SysTime{}) == "1970-01-01T00:00:00Z");
  CHECK(parse_iso8601("2026-11-21T10:05:07Z") == t);
  CHECK(parse_iso8601("2026-11-21T10:05:07.25Z") == t + microseconds(250000));
  CHECK(parse_iso8601("2026-11-21T12:05:07+02:00") == t);
  CHECK(parse_iso8601("2026-11-21T05:05:07-05:00") == t);
  CHECK_FALSE(parse_iso8601("2026-11-21 10:05"));
  CHECK_FALSE(parse_iso8601("2026-02-30T00:00:00Z"));
  CHECK_FALSE(parse_iso8601("2026-11-21T10:05:07"));
  CHECK_FALSE(parse_iso8601("2026-11-21T10:05:07Zjunk"));
  CHECK_FALSE(parse_iso8601("2026-11-21T24:00:00Z"));
}

TEST_CASE("ISO-8601 parsing takes years 0001 to 9999 in UTC, what PostgreSQL stores", "[core]") {
  CHECK(parse_iso8601("0001-01-01T00:00:00Z") == kEarliestTime);
  CHECK(parse_iso8601("9999-12-31T23:59:59.999999Z") == kLatestTime);
  CHECK(parse_iso8601("1969-07-20T20:17:00Z") < SysTime{});
  CHECK_FALSE(parse_iso8601("0000-06-01T00:00:00Z"));
  CHECK_FALSE(parse_iso8601("0001-01-01T01:00:00+02:00"));  // 0000-12-31 in UTC
  CHECK_FALSE(parse_iso8601("9999-12-31T23:00:00-02:00"));  // 10000-01-01 in UTC
}

TEST_CASE("UTC months: the month of an instant, its first instant, and its name", "[time]") {
  using namespace std::chrono;
  const auto t = *huntaze::parse_iso8601("2026-11-30T23:59:59.999999Z");
  CHECK(huntaze::utc_month(t) == year(2026) / November);
  CHECK(huntaze::utc_month(t + microseconds(1)) == year(2026) / December);
  CHECK(huntaze::format_iso8601(huntaze::month_start(year(2026) / November)) == "2026-11-01T00:00:00Z");
  CHECK(huntaze::month_start(year(2026) / December) == t + microseconds(1));
  CHECK(huntaze::format_year_month(year(2026) / March) == "202603");
  CHECK(huntaze::format_year_month(year(2026) / March, '-') == "2026-03");
}
