#include "huntaze/core/time_format.hpp"

#include <cstdio>

namespace huntaze {

std::string format_iso8601(SysTime t) {
  using namespace std::chrono;
  auto day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss<microseconds> hms{t - day};
  char buf[40];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(ymd.year()),
                        static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                        static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                        static_cast<int>(hms.seconds().count()));
  std::string out(buf, static_cast<size_t>(n));
  if (auto us = hms.subseconds().count(); us != 0) {
    std::snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(us));
    out += buf;
  }
  out += 'Z';
  return out;
}

std::chrono::year_month utc_month(SysTime t) {
  const std::chrono::year_month_day d{std::chrono::floor<std::chrono::days>(t)};
  return d.year() / d.month();
}

SysTime month_start(std::chrono::year_month m) {
  return SysTime(std::chrono::sys_days(m / 1).time_since_epoch());
}

std::string format_year_month(std::chrono::year_month m, char separator) {
  char buf[16];
  if (separator)
    std::snprintf(buf, sizeof buf, "%04d%c%02u", static_cast<int>(m.year()), separator, static_cast<unsigned>(m.month()));
  else
    std::snprintf(buf, sizeof buf, "%04d%02u", static_cast<int>(m.year()), static_cast<unsigned>(m.month()));
  return buf;
}

namespace {

bool digits(std::string_view s, size_t pos, size_t count, int& out) {
  if (pos + count > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

}  // namespace

std::optional<SysTime> parse_iso8601(std::string_view s) {
  using namespace std::chrono;
  int y, mo, d, h, mi, se;
  if (s.size() < 20 || !digits(s, 0, 4, y) || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2, h) || s[13] != ':' ||
      !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, se))
    return std::nullopt;
  year_month_day ymd{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || se > 59) return std::nullopt;
  size_t pos = 19;
  int64_t micros = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (n < 6) micros = micros * 10 + (s[pos] - '0');
      ++n, ++pos;
    }
    if (n == 0) return std::nullopt;
    for (; n < 6; ++n) micros *= 10;
  }
  int offset_minutes = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !digits(s, pos + 4, 2, om) ||
        oh > 23 || om > 59)
      return std::nullopt;
    offset_minutes = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  SysTime t = sys_days(ymd) + hours(h) + minutes(mi) + seconds(se) + microseconds(micros);
  t -= minutes(offset_minutes);
  // Year 0000 (or an offset that reaches it, or 10000) is no time
  // PostgreSQL accepts: refused here rather than failing a query later.
  if (t < kEarliestTime || t > kLatestTime) return std::nullopt;
  return t;
}

std::optional<SysTime> parse_day_or_time(std::string_view text) {
  if (text.size() == 10) return parse_iso8601(std::string(text) + "T00:00:00Z");
  return parse_iso8601(text);
}

}  // namespace huntaze
