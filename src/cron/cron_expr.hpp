// A parsed cron expression and the instants it fires at (private to cron).
//
//   auto expr = CronExpr::parse("*/15 9-17 * * MON-FRI");
//   SysTime next = expr.next_after(now, find_zone("Europe/Paris"));
//
// Fields: minute hour day-of-month month day-of-week, each `*`, a number, a
// name (JAN..DEC, SUN..SAT), a range `a-b`, a step `*/n`, `a-b/n` or `a/n`
// (a to the field's end), or a comma list of those; day-of-week 7 is Sunday
// like 0. Macros: @hourly @daily @midnight @weekly @monthly @yearly @annually.
//
// Day matching follows crontab(5): when both day fields are restricted (do
// not start with `*`), a day matches if either does ("0 0 1 * MON" is the 1st
// and every Monday); otherwise both must ("0 0 */2 * MON" is odd-numbered
// Mondays).
//
// Ticks are whole minutes of local time in a zone (nullptr means UTC). Across
// DST changes every local tick fires exactly once: a local time skipped by a
// spring-forward gap fires at the instant the gap ends, and a local time that
// a fall-back repeats fires at its first occurrence only.
//
// Note: with the OS time zone database, the date library knows transitions
// only as far as the zoneinfo files list them (2037); later instants use the
// zone's last offset.
//
// Thread-safety: an immutable value type.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "huntaze/core/clock.hpp"

namespace date {
class time_zone;
}

namespace huntaze::cron {

// The zone of an IANA name ("UTC", "Europe/Paris"); throws
// std::invalid_argument naming it when the database does not know it.
const date::time_zone* find_zone(const std::string& name);

class CronExpr {
 public:
  static constexpr size_t kMaxLength = 256;

  // Throws std::invalid_argument saying what is wrong, e.g.
  // "minute: 61 is out of range 0-59", or that the spec can never fire
  // ("0 0 30 2 *").
  static CronExpr parse(std::string_view spec);

  // The first tick strictly after t.
  SysTime next_after(SysTime t, const date::time_zone* zone) const;
  // The latest tick at or before t.
  SysTime latest_at_or_before(SysTime t, const date::time_zone* zone) const;

 private:
  CronExpr() = default;

  // Searches over local minutes counted from the local epoch (1970-01-01
  // 00:00 local time), bounded by `limit`.
  std::optional<int64_t> first_match(int64_t from, int64_t limit) const;
  std::optional<int64_t> last_match(int64_t until, int64_t limit) const;
  bool day_matches(unsigned day_of_month, unsigned weekday) const;
  void check_can_fire(std::string_view dom_text, std::string_view month_text) const;

  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1..31
  std::bitset<13> months_;   // 1..12
  std::bitset<7> weekdays_;  // 0 = Sunday
  bool days_star_ = false;   // the day-of-month field starts with '*'
  bool weekdays_star_ = false;
};

}  // namespace huntaze::cron
