#include "cron/cron_expr.hpp"

#include <date/tz.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <span>
#include <stdexcept>
#include <vector>

namespace huntaze::cron {

namespace {

using std::chrono::microseconds;
using std::chrono::minutes;
using LocalMinutes = date::local_time<minutes>;

constexpr int64_t kMinutesPerDay = 24 * 60;
// How far a search looks. The rarest valid spec ("Feb 29 that is a Sunday")
// fires about every 28 years, 40 across a skipped leap year such as 2100.
constexpr int64_t kHorizon = int64_t{100} * 366 * kMinutesPerDay;
// Re-search steps allowed if zone data ever contradicts the fast path.
constexpr int kMaxCorrections = 2000;

struct Field {
  const char* name;
  int lo;
  int hi;
  std::span<const char* const> names = {};  // names[i] is the value i + name_base
  int name_base = 0;
};

constexpr std::array<const char*, 12> kMonthNames = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                     "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<const char*, 7> kDayNames = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

const Field kMinute{"minute", 0, 59};
const Field kHour{"hour", 0, 23};
const Field kDayOfMonth{"day-of-month", 1, 31};
const Field kMonth{"month", 1, 12, kMonthNames, 1};
const Field kDayOfWeek{"day-of-week", 0, 7, kDayNames, 0};  // 7 is Sunday again

[[noreturn]] void fail(const Field& field, const std::string& message) {
  throw std::invalid_argument(std::string(field.name) + ": " + message);
}

std::string quoted(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) == std::toupper(static_cast<unsigned char>(y));
         });
}

// A number, or a month/weekday name where the field has names.
int parse_value(std::string_view text, const Field& field) {
  if (text.empty()) fail(field, "missing value");
  if (all_digits(text)) {
    int value = 0;
    // More than 4 digits cannot be in any field's range (and cannot overflow).
    if (text.size() > 4 || std::from_chars(text.data(), text.data() + text.size(), value).ec != std::errc{} ||
        value < field.lo || value > field.hi)
      fail(field, std::string(text) + " is out of range " + std::to_string(field.lo) + "-" + std::to_string(field.hi));
    return value;
  }
  if (!field.names.empty()) {
    for (size_t i = 0; i < field.names.size(); ++i)
      if (iequals(text, field.names[i])) return static_cast<int>(i) + field.name_base;
    fail(field, quoted(text) + " is neither a number nor a " + (field.name_base == 1 ? "month" : "weekday") + " name");
  }
  fail(field, quoted(text) + " is not a number");
}

int parse_step(std::string_view text, const Field& field) {
  int step = 0;
  if (!all_digits(text) || text.size() > 4 ||
      std::from_chars(text.data(), text.data() + text.size(), step).ec != std::errc{} || step < 1 || step > field.hi)
    fail(field, "step " + quoted(text) + " must be a number from 1 to " + std::to_string(field.hi));
  return step;
}

// One field: a comma list of `*`, `v`, `a-b`, each optionally `/step`.
template <size_t N>
std::bitset<N> parse_field(std::string_view text, const Field& field) {
  std::bitset<N> bits;
  size_t pos = 0;
  while (true) {
    const size_t comma = text.find(',', pos);
    const std::string_view item = text.substr(pos, comma == std::string_view::npos ? text.npos : comma - pos);
    if (item.empty()) fail(field, "empty item in list " + quoted(text));
    const size_t slash = item.find('/');
    const std::string_view base = item.substr(0, slash);
    int lo = 0;
    int hi = 0;
    if (base == "*") {
      lo = field.lo;
      hi = field.hi;
    } else if (const size_t dash = base.find('-'); dash != std::string_view::npos) {
      lo = parse_value(base.substr(0, dash), field);
      hi = parse_value(base.substr(dash + 1), field);
      if (lo > hi) fail(field, "range " + quoted(base) + " goes backwards");
    } else {
      lo = parse_value(base, field);
      // "a/n" runs from a to the end of the field, as in Vixie cron.
      hi = slash == std::string_view::npos ? lo : field.hi;
    }
    const int step = slash == std::string_view::npos ? 1 : parse_step(item.substr(slash + 1), field);
    for (int v = lo; v <= hi; v += step) bits.set(static_cast<size_t>(v % static_cast<int>(N)));
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return bits;
}

std::vector<std::string_view> split_fields(std::string_view spec) {
  std::vector<std::string_view> fields;
  size_t pos = 0;
  while (pos < spec.size()) {
    const size_t start = spec.find_first_not_of(" \t", pos);
    if (start == std::string_view::npos) break;
    size_t end = spec.find_first_of(" \t", start);
    if (end == std::string_view::npos) end = spec.size();
    fields.push_back(spec.substr(start, end - start));
    pos = end;
  }
  return fields;
}

std::string_view expand_macro(std::string_view macro) {
  struct Macro {
    const char* name;
    const char* spec;
  };
  static constexpr Macro kMacros[] = {{"@hourly", "0 * * * *"},  {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
                                      {"@weekly", "0 0 * * 0"},  {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"},
                                      {"@annually", "0 0 1 1 *"}};
  for (const auto& m : kMacros)
    if (iequals(macro, m.name)) return m.spec;
  throw std::invalid_argument("unknown macro " + quoted(macro) +
                              " (expected @hourly, @daily, @midnight, @weekly, @monthly, @yearly or @annually)");
}

// The latest local time the zone has shown at or before t, in whole minutes.
// Usually the local time of t; right after a fall-back it is the local time
// just before the change, because the repeated local times already passed.
int64_t latest_local_minute(SysTime t, const date::time_zone* zone) {
  const auto to_minute = [](microseconds local) { return std::chrono::floor<minutes>(local).count(); };
  if (!zone) return to_minute(t.time_since_epoch());
  const auto info = zone->get_info(t);
  microseconds best = t.time_since_epoch() + info.offset;
  auto begin = info.begin;
  // Only a transition within the last two days can repeat the current local time.
  const SysTime window_start = t - std::chrono::hours(48);
  for (int i = 0; i < 8 && begin > window_start; ++i) {
    const SysTime before = SysTime(begin) - microseconds(1);
    const auto prev = zone->get_info(before);
    best = std::max(best, before.time_since_epoch() + prev.offset);
    begin = prev.begin;
  }
  return to_minute(best);
}

// The first instant at which the zone's local time reaches the local minute:
// the minute itself when unique, its first occurrence when a fall-back
// repeats it, the end of the gap when a spring-forward skips it.
SysTime instant_of(int64_t local_minute, const date::time_zone* zone) {
  const minutes m{local_minute};
  if (!zone) return SysTime(m);
  const auto info = zone->get_info(LocalMinutes(m));
  if (info.result == date::local_info::nonexistent) return SysTime(info.second.begin);
  return SysTime(m - info.first.offset);
}

int64_t minute_of(date::local_days day, int hour, int minute) {
  return int64_t{day.time_since_epoch().count()} * kMinutesPerDay + hour * 60 + minute;
}

}  // namespace

const date::time_zone* find_zone(const std::string& name) {
  if (name.empty() || name.size() > 64) throw std::invalid_argument("unknown time zone " + quoted(name));
  try {
    return date::locate_zone(name);
  } catch (const std::runtime_error&) {
    throw std::invalid_argument("unknown time zone " + quoted(name));
  }
}

CronExpr CronExpr::parse(std::string_view spec) {
  if (spec.size() > kMaxLength)
    throw std::invalid_argument("spec is longer than " + std::to_string(kMaxLength) + " characters");
  auto fields = split_fields(spec);
  if (fields.empty()) throw std::invalid_argument("spec is empty");
  if (fields.front().starts_with('@')) {
    if (fields.size() != 1) throw std::invalid_argument("a macro such as @daily must be the whole spec");
    fields = split_fields(expand_macro(fields.front()));
  }
  if (fields.size() != 5)
    throw std::invalid_argument("expected 5 fields (minute hour day-of-month month day-of-week), got " +
                                std::to_string(fields.size()));
  CronExpr e;
  e.minutes_ = parse_field<60>(fields[0], kMinute);
  e.hours_ = parse_field<24>(fields[1], kHour);
  e.days_ = parse_field<32>(fields[2], kDayOfMonth);
  e.months_ = parse_field<13>(fields[3], kMonth);
  e.weekdays_ = parse_field<7>(fields[4], kDayOfWeek);  // 7 folds onto 0 (Sunday)
  e.days_star_ = fields[2].starts_with('*');
  e.weekdays_star_ = fields[4].starts_with('*');
  e.check_can_fire(fields[2], fields[3]);
  return e;
}

// A spec can only fail to fire when the days come from day-of-month alone and
// none of them exists in the chosen months (Feb 29 counts: it comes back).
// Every calendar date falls on every weekday within the 400-year cycle, so a
// weekday restriction never makes a valid date impossible.
void CronExpr::check_can_fire(std::string_view dom_text, std::string_view month_text) const {
  if (!days_star_ && !weekdays_star_) return;  // either rule: every week has a matching weekday
  static constexpr int kLongest[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  for (int m = 1; m <= 12; ++m) {
    if (!months_[static_cast<size_t>(m)]) continue;
    for (int d = 1; d <= kLongest[m]; ++d)
      if (days_[static_cast<size_t>(d)]) return;
  }
  throw std::invalid_argument("spec never fires: day-of-month " + quoted(dom_text) + " does not occur in month " +
                              quoted(month_text));
}

bool CronExpr::day_matches(unsigned day_of_month, unsigned weekday) const {
  const bool dom = days_[day_of_month];
  const bool dow = weekdays_[weekday];
  return (days_star_ || weekdays_star_) ? (dom && dow) : (dom || dow);
}

// Walks forward a day at a time, skipping whole months that cannot match and
// whole days that do not, then scans the day's hours and minutes.
std::optional<int64_t> CronExpr::first_match(int64_t from, int64_t limit) const {
  const LocalMinutes start{minutes{from}};
  auto day = date::floor<date::days>(start);
  const auto last_day = date::floor<date::days>(LocalMinutes{minutes{limit}});
  int tod = static_cast<int>((start - day).count());
  int hour = tod / 60;
  int minute = tod % 60;
  while (day <= last_day) {
    const date::year_month_day ymd{day};
    if (!months_[static_cast<unsigned>(ymd.month())]) {
      day = date::local_days{(ymd.year() / ymd.month() + date::months{1}) / 1};
      hour = minute = 0;
      continue;
    }
    if (day_matches(static_cast<unsigned>(ymd.day()), date::weekday{day}.c_encoding())) {
      for (; hour < 24; ++hour, minute = 0) {
        if (!hours_[static_cast<size_t>(hour)]) continue;
        for (; minute < 60; ++minute) {
          if (!minutes_[static_cast<size_t>(minute)]) continue;
          const int64_t found = minute_of(day, hour, minute);
          if (found > limit) return std::nullopt;
          return found;
        }
      }
    }
    day += date::days{1};
    hour = minute = 0;
  }
  return std::nullopt;
}

// The mirror image of first_match.
std::optional<int64_t> CronExpr::last_match(int64_t until, int64_t limit) const {
  const LocalMinutes start{minutes{until}};
  auto day = date::floor<date::days>(start);
  const auto first_day = date::floor<date::days>(LocalMinutes{minutes{limit}});
  int tod = static_cast<int>((start - day).count());
  int hour = tod / 60;
  int minute = tod % 60;
  while (day >= first_day) {
    const date::year_month_day ymd{day};
    if (!months_[static_cast<unsigned>(ymd.month())]) {
      day = date::local_days{ymd.year() / ymd.month() / 1} - date::days{1};
      hour = 23;
      minute = 59;
      continue;
    }
    if (day_matches(static_cast<unsigned>(ymd.day()), date::weekday{day}.c_encoding())) {
      for (; hour >= 0; --hour, minute = 59) {
        if (!hours_[static_cast<size_t>(hour)]) continue;
        for (; minute >= 0; --minute) {
          if (!minutes_[static_cast<size_t>(minute)]) continue;
          const int64_t found = minute_of(day, hour, minute);
          if (found < limit) return std::nullopt;
          return found;
        }
      }
    }
    day -= date::days{1};
    hour = 23;
    minute = 59;
  }
  return std::nullopt;
}

// A local minute m fires at instant_of(m), which never decreases as m grows.
// The ticks at or before t are therefore exactly the local minutes up to the
// latest local time shown so far, and the next tick is the first one after it.
SysTime CronExpr::next_after(SysTime t, const date::time_zone* zone) const {
  const int64_t seen = latest_local_minute(t, zone);
  auto m = first_match(seen + 1, seen + kHorizon);
  // The loop only guards the contract should zone data be inconsistent.
  for (int i = 0; m && i < kMaxCorrections; ++i) {
    const SysTime at = instant_of(*m, zone);
    if (at > t) return at;
    m = first_match(*m + 1, seen + kHorizon);
  }
  throw std::runtime_error("cron: no tick within 100 years");
}

SysTime CronExpr::latest_at_or_before(SysTime t, const date::time_zone* zone) const {
  const int64_t seen = latest_local_minute(t, zone);
  auto m = last_match(seen, seen - kHorizon);
  for (int i = 0; m && i < kMaxCorrections; ++i) {
    const SysTime at = instant_of(*m, zone);
    if (at <= t) return at;
    m = last_match(*m - 1, seen - kHorizon);
  }
  throw std::runtime_error("cron: no tick within 100 years");
}

}  // namespace huntaze::cron
