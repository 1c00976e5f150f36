// Cron expressions: parsing, the instants they fire at in UTC and in zones
// with daylight saving time.
#include "cron/cron_expr.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "huntaze/core/time_format.hpp"

using namespace huntaze;
using Catch::Matchers::Contains;
using cron::CronExpr;
using cron::find_zone;

namespace {

SysTime at(const std::string& iso) {
  auto t = parse_iso8601(iso);
  if (!t) throw std::invalid_argument("bad test time " + iso);
  return *t;
}

std::string iso(SysTime t) {
  return format_iso8601(t);
}

// The first `count` ticks strictly after `start`.
std::vector<std::string> ticks(const std::string& spec, const std::string& start, int count,
                               const std::string& zone = "UTC") {
  const auto expr = CronExpr::parse(spec);
  const auto* z = find_zone(zone);
  std::vector<std::string> out;
  SysTime t = at(start);
  for (int i = 0; i < count; ++i) {
    t = expr.next_after(t, z);
    out.push_back(iso(t));
  }
  return out;
}

using Ticks = std::vector<std::string>;

std::string latest(const std::string& spec, const std::string& t, const std::string& zone = "UTC") {
  return iso(CronExpr::parse(spec).latest_at_or_before(at(t), find_zone(zone)));
}

std::string next(const std::string& spec, const std::string& t, const std::string& zone = "UTC") {
  return iso(CronExpr::parse(spec).next_after(at(t), find_zone(zone)));
}

}  // namespace

TEST_CASE("cron: every field form selects the documented minutes", "[cron]") {
  // 2026-01-01 is a Thursday.
  CHECK(ticks("*/15 * * * *", "2026-01-01T00:00:00Z", 4) ==
        Ticks{"2026-01-01T00:15:00Z", "2026-01-01T00:30:00Z", "2026-01-01T00:45:00Z", "2026-01-01T01:00:00Z"});
  CHECK(ticks("5,10-12 * * * *", "2026-01-01T00:00:00Z", 5) == Ticks{"2026-01-01T00:05:00Z", "2026-01-01T00:10:00Z",
                                                                     "2026-01-01T00:11:00Z", "2026-01-01T00:12:00Z",
                                                                     "2026-01-01T01:05:00Z"});
  CHECK(ticks("10-40/15 * * * *", "2026-01-01T00:00:00Z", 4) ==
        Ticks{"2026-01-01T00:10:00Z", "2026-01-01T00:25:00Z", "2026-01-01T00:40:00Z", "2026-01-01T01:10:00Z"});
  // a/n runs from a to the end of the field.
  CHECK(ticks("50/5 * * * *", "2026-01-01T00:00:00Z", 3) ==
        Ticks{"2026-01-01T00:50:00Z", "2026-01-01T00:55:00Z", "2026-01-01T01:50:00Z"});
  CHECK(ticks("0 9-17/4 * * *", "2026-01-01T00:00:00Z", 4) ==
        Ticks{"2026-01-01T09:00:00Z", "2026-01-01T13:00:00Z", "2026-01-01T17:00:00Z", "2026-01-02T09:00:00Z"});
  CHECK(ticks("0 0 1 */4 *", "2026-01-01T00:00:00Z", 3) ==
        Ticks{"2026-05-01T00:00:00Z", "2026-09-01T00:00:00Z", "2027-01-01T00:00:00Z"});
  // Tabs and extra blanks separate fields too.
  CHECK(ticks("  0\t0  * * *  ", "2026-01-01T00:00:00Z", 1) == Ticks{"2026-01-02T00:00:00Z"});
}

TEST_CASE("cron: month and weekday names are case-insensitive, 7 is Sunday", "[cron]") {
  CHECK(ticks("0 0 1 jan,JUL *", "2026-01-15T00:00:00Z", 3) ==
        Ticks{"2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z", "2027-07-01T00:00:00Z"});
  CHECK(ticks("0 0 1 Mar-May *", "2026-01-15T00:00:00Z", 4) ==
        Ticks{"2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z", "2027-03-01T00:00:00Z"});
  // From Saturday 2026-01-03.
  CHECK(ticks("0 0 * * MON-wed", "2026-01-03T00:00:00Z", 4) ==
        Ticks{"2026-01-05T00:00:00Z", "2026-01-06T00:00:00Z", "2026-01-07T00:00:00Z", "2026-01-12T00:00:00Z"});
  const Ticks sundays{"2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z"};
  CHECK(ticks("0 0 * * 0", "2026-01-03T00:00:00Z", 2) == sundays);
  CHECK(ticks("0 0 * * 7", "2026-01-03T00:00:00Z", 2) == sundays);
  CHECK(ticks("0 0 * * sun", "2026-01-03T00:00:00Z", 2) == sundays);
  CHECK(ticks("0 0 * * 5-7", "2026-01-01T00:00:00Z", 4) ==
        Ticks{"2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z", "2026-01-09T00:00:00Z"});
}

TEST_CASE("cron: restricted day-of-month and day-of-week match either, a '*' field makes both required", "[cron]") {
  // Fridays of January 2026 are 2, 9, 16, 23, 30; the 13th is a Tuesday.
  CHECK(ticks("0 0 13 * FRI", "2026-01-01T00:00:00Z", 5) == Ticks{"2026-01-02T00:00:00Z", "2026-01-09T00:00:00Z",
                                                                  "2026-01-13T00:00:00Z", "2026-01-16T00:00:00Z",
                                                                  "2026-01-23T00:00:00Z"});
  // crontab(5): a field starting with '*' is not "restricted": odd days that are Fridays.
  CHECK(ticks("0 0 */2 * FRI", "2026-01-01T00:00:00Z", 4) ==
        Ticks{"2026-01-09T00:00:00Z", "2026-01-23T00:00:00Z", "2026-02-13T00:00:00Z", "2026-02-27T00:00:00Z"});
  CHECK(ticks("0 0 13 * *", "2026-01-01T00:00:00Z", 2) == Ticks{"2026-01-13T00:00:00Z", "2026-02-13T00:00:00Z"});
  CHECK(ticks("0 0 * * FRI", "2026-01-01T00:00:00Z", 2) == Ticks{"2026-01-02T00:00:00Z", "2026-01-09T00:00:00Z"});
  // Day 30 never occurs in February, but the Mondays of February do.
  CHECK(ticks("0 0 30 2 MON", "2026-01-01T00:00:00Z", 2) == Ticks{"2026-02-02T00:00:00Z", "2026-02-09T00:00:00Z"});
}

TEST_CASE("cron: macros", "[cron]") {
  const std::string from = "2026-01-03T10:30:00Z";  // a Saturday
  CHECK(ticks("@hourly", from, 2) == Ticks{"2026-01-03T11:00:00Z", "2026-01-03T12:00:00Z"});
  CHECK(ticks("@daily", from, 2) == Ticks{"2026-01-04T00:00:00Z", "2026-01-05T00:00:00Z"});
  CHECK(ticks("@midnight", from, 1) == Ticks{"2026-01-04T00:00:00Z"});
  CHECK(ticks("@weekly", from, 2) == Ticks{"2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z"});
  CHECK(ticks("@monthly", from, 2) == Ticks{"2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"});
  CHECK(ticks("@yearly", from, 2) == Ticks{"2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z"});
  CHECK(ticks("@annually", from, 1) == Ticks{"2027-01-01T00:00:00Z"});
  CHECK(ticks("@DAILY", from, 1) == Ticks{"2026-01-04T00:00:00Z"});
}

TEST_CASE("cron: next is strictly after, latest is at or before", "[cron]") {
  CHECK(next("0 * * * *", "2026-05-05T10:00:00Z") == "2026-05-05T11:00:00Z");
  CHECK(next("0 * * * *", "2026-05-05T09:59:59.999999Z") == "2026-05-05T10:00:00Z");
  CHECK(latest("0 * * * *", "2026-05-05T10:00:00Z") == "2026-05-05T10:00:00Z");
  CHECK(latest("0 * * * *", "2026-05-05T10:59:59.999999Z") == "2026-05-05T10:00:00Z");
  CHECK(latest("0 * * * *", "2026-05-05T09:59:59Z") == "2026-05-05T09:00:00Z");
  CHECK(latest("0 0 1 1 *", "2026-06-01T12:00:00Z") == "2026-01-01T00:00:00Z");
  CHECK(latest("*/10 9-17 * * MON-FRI", "2026-01-03T12:00:00Z") == "2026-01-02T17:50:00Z");
  // A null zone is UTC.
  const auto expr = CronExpr::parse("15 3 * * *");
  CHECK(iso(expr.next_after(at("2026-01-01T00:00:00Z"), nullptr)) == "2026-01-01T03:15:00Z");
  CHECK(iso(expr.latest_at_or_before(at("2026-01-01T00:00:00Z"), nullptr)) == "2025-12-31T03:15:00Z");
}

TEST_CASE("cron: February 29 fires in leap years only, skipping 2100", "[cron]") {
  CHECK(ticks("0 0 29 2 *", "2026-01-01T00:00:00Z", 2) == Ticks{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"});
  CHECK(next("0 0 29 2 *", "2096-03-01T00:00:00Z") == "2104-02-29T00:00:00Z");
  CHECK(latest("0 0 29 2 *", "2103-12-31T00:00:00Z") == "2096-02-29T00:00:00Z");
  // The rarest kind of spec: Feb 29 that is also a Sunday ('*/7' makes the
  // weekday a requirement), 40 years apart across 2100.
  CHECK(next("0 0 29 2 */7", "2089-01-01T00:00:00Z") == "2128-02-29T00:00:00Z");
  CHECK(latest("0 0 29 2 */7", "2128-02-28T00:00:00Z") == "2088-02-29T00:00:00Z");
  CHECK(ticks("0 12 28-29 2 *", "2027-01-01T00:00:00Z", 3) ==
        Ticks{"2027-02-28T12:00:00Z", "2028-02-28T12:00:00Z", "2028-02-29T12:00:00Z"});
}

TEST_CASE("cron: a named zone shifts the ticks to its local time", "[cron]") {
  CHECK(next("0 9 * * *", "2026-01-01T00:00:00Z", "Asia/Tokyo") == "2026-01-02T00:00:00Z");
  CHECK(next("0 9 * * *", "2026-01-01T00:00:00Z", "Asia/Kolkata") == "2026-01-01T03:30:00Z");
  // Local midnight of 1 January in New York is 05:00 UTC.
  CHECK(latest("@yearly", "2026-01-01T04:59:00Z", "America/New_York") == "2025-01-01T05:00:00Z");
}

TEST_CASE("cron: New York spring-forward gap fires once, at the end of the gap", "[cron]") {
  // 2026-03-08: 02:00 EST jumps to 03:00 EDT at 07:00 UTC.
  const std::string ny = "America/New_York";
  CHECK(ticks("30 2 * * *", "2026-03-07T00:00:00Z", 3, ny) ==
        Ticks{"2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"});
  CHECK(latest("30 2 * * *", "2026-03-08T06:59:59Z", ny) == "2026-03-07T07:30:00Z");
  CHECK(latest("30 2 * * *", "2026-03-08T07:00:00Z", ny) == "2026-03-08T07:00:00Z");
  // 02:00, 02:20, 02:40 do not exist and 03:00 is the gap's end: one tick for all four.
  CHECK(ticks("*/20 * * * *", "2026-03-08T06:30:00Z", 3, ny) ==
        Ticks{"2026-03-08T06:40:00Z", "2026-03-08T07:00:00Z", "2026-03-08T07:20:00Z"});
}

TEST_CASE("cron: New York fall-back hour fires once, at its first occurrence", "[cron]") {
  // 2026-11-01: 02:00 EDT falls back to 01:00 EST at 06:00 UTC.
  const std::string ny = "America/New_York";
  CHECK(ticks("30 1 * * *", "2026-10-31T00:00:00Z", 3, ny) ==
        Ticks{"2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"});
  CHECK(ticks("0 * * * *", "2026-11-01T04:30:00Z", 3, ny) ==
        Ticks{"2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z", "2026-11-01T08:00:00Z"});
  // During the repeated hour (01:10 EST) the repeated ticks count as past.
  CHECK(next("*/30 * * * *", "2026-11-01T06:10:00Z", ny) == "2026-11-01T07:00:00Z");
  CHECK(latest("*/30 * * * *", "2026-11-01T06:10:00Z", ny) == "2026-11-01T05:30:00Z");
  CHECK(latest("30 1 * * *", "2026-11-01T06:45:00Z", ny) == "2026-11-01T05:30:00Z");
}

TEST_CASE("cron: Paris DST changes follow the same rules", "[cron]") {
  const std::string paris = "Europe/Paris";
  // 2026-03-29: 02:00 CET jumps to 03:00 CEST at 01:00 UTC.
  CHECK(ticks("30 2 * * *", "2026-03-28T00:00:00Z", 3, paris) ==
        Ticks{"2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"});
  // 2026-10-25: 03:00 CEST falls back to 02:00 CET at 01:00 UTC.
  CHECK(ticks("30 2 * * *", "2026-10-24T00:00:00Z", 3, paris) ==
        Ticks{"2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"});
  CHECK(latest("30 2 * * *", "2026-10-25T01:45:00Z", paris) == "2026-10-25T00:30:00Z");
}

TEST_CASE("cron: invalid specs are rejected with a message saying why", "[cron]") {
  CHECK_THROWS_WITH(CronExpr::parse("61 * * * *"), "minute: 61 is out of range 0-59");
  CHECK_THROWS_WITH(CronExpr::parse("* 24 * * *"), "hour: 24 is out of range 0-23");
  CHECK_THROWS_WITH(CronExpr::parse("* * 0 * *"), "day-of-month: 0 is out of range 1-31");
  CHECK_THROWS_WITH(CronExpr::parse("* * * 13 *"), "month: 13 is out of range 1-12");
  CHECK_THROWS_WITH(CronExpr::parse("* * * * 8"), "day-of-week: 8 is out of range 0-7");
  CHECK_THROWS_WITH(CronExpr::parse("99999999999 * * * *"), "minute: 99999999999 is out of range 0-59");
  CHECK_THROWS_WITH(CronExpr::parse("x * * * *"), "minute: \"x\" is not a number");
  CHECK_THROWS_WITH(CronExpr::parse("* * * FOO *"), "month: \"FOO\" is neither a number nor a month name");
  CHECK_THROWS_WITH(CronExpr::parse("* * * * MONDAY"),
                    "day-of-week: \"MONDAY\" is neither a number nor a weekday name");
  CHECK_THROWS_WITH(CronExpr::parse("* * MON * *"), "day-of-month: \"MON\" is not a number");
  CHECK_THROWS_WITH(CronExpr::parse("*/0 * * * *"), "minute: step \"0\" must be a number from 1 to 59");
  CHECK_THROWS_WITH(CronExpr::parse("* */ * * *"), "hour: step \"\" must be a number from 1 to 23");
  CHECK_THROWS_WITH(CronExpr::parse("30-10 * * * *"), "minute: range \"30-10\" goes backwards");
  CHECK_THROWS_WITH(CronExpr::parse("* * * * FRI-MON"), "day-of-week: range \"FRI-MON\" goes backwards");
  CHECK_THROWS_WITH(CronExpr::parse("1,,2 * * * *"), "minute: empty item in list \"1,,2\"");
  CHECK_THROWS_WITH(CronExpr::parse("-5 * * * *"), "minute: missing value");
  CHECK_THROWS_WITH(CronExpr::parse("* * * *"),
                    "expected 5 fields (minute hour day-of-month month day-of-week), got 4");
  CHECK_THROWS_WITH(CronExpr::parse("* * * * * *"),
                    "expected 5 fields (minute hour day-of-month month day-of-week), got 6");
  CHECK_THROWS_WITH(CronExpr::parse(""), "spec is empty");
  CHECK_THROWS_WITH(CronExpr::parse(" \t "), "spec is empty");
  CHECK_THROWS_WITH(CronExpr::parse("@reboot"), Contains("unknown macro \"@reboot\""));
  CHECK_THROWS_WITH(CronExpr::parse("@daily 5"), "a macro such as @daily must be the whole spec");
  CHECK_THROWS_WITH(CronExpr::parse(std::string(257, '*')), "spec is longer than 256 characters");
  CHECK_THROWS_AS(CronExpr::parse("* * * * *\n"), std::invalid_argument);
}

TEST_CASE("cron: specs that can never fire are rejected", "[cron]") {
  CHECK_THROWS_WITH(CronExpr::parse("0 0 30 2 *"),
                    "spec never fires: day-of-month \"30\" does not occur in month \"2\"");
  CHECK_THROWS_WITH(CronExpr::parse("0 0 31 apr,jun,sep,nov *"),
                    "spec never fires: day-of-month \"31\" does not occur in month \"apr,jun,sep,nov\"");
  CHECK_NOTHROW(CronExpr::parse("0 0 29 2 *"));
  CHECK_NOTHROW(CronExpr::parse("0 0 31 2,3 *"));
}

TEST_CASE("cron: unknown time zones are rejected by name", "[cron]") {
  CHECK_THROWS_WITH(find_zone("Mars/Olympus_Mons"), "unknown time zone \"Mars/Olympus_Mons\"");
  CHECK_THROWS_AS(find_zone(""), std::invalid_argument);
  CHECK(find_zone("Europe/Paris") != nullptr);
}
