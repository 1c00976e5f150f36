#include "ai_router/retry_after.hpp"
#include "huntaze/core/strings.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <string>

namespace huntaze::ai_router {

namespace {

using namespace std::chrono;

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

std::optional<int> number(std::string_view s) {
  if (!all_digits(s) || s.size() > 9) return std::nullopt;
  int v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

std::optional<unsigned> month_of(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (unsigned i = 0; i < kMonths.size(); ++i)
    if (kMonths[i] == name) return i + 1;
  return std::nullopt;
}

// "08:49:37"
std::optional<seconds> time_of_day(std::string_view s) {
  if (s.size() != 8 || s[2] != ':' || s[5] != ':') return std::nullopt;
  auto h = number(s.substr(0, 2)), m = number(s.substr(3, 2)), sec = number(s.substr(6, 2));
  if (!h || !m || !sec || *h > 23 || *m > 59 || *sec > 60) return std::nullopt;
  return hours(*h) + minutes(*m) + seconds(std::min(*sec, 59));
}

std::optional<SysTime> assemble(int y, unsigned mon, int d, seconds tod) {
  year_month_day ymd{year(y), month(mon), day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return std::nullopt;
  return SysTime(sys_days(ymd).time_since_epoch() + tod);
}

// Splits on single spaces, dropping empty pieces (asctime pads the day).
std::array<std::string_view, 6> words(std::string_view s, size_t& count) {
  std::array<std::string_view, 6> out{};
  count = 0;
  while (!s.empty()) {
    auto space = s.find(' ');
    auto piece = s.substr(0, space);
    if (!piece.empty()) {
      if (count == out.size()) {
        count = out.size() + 1;
        return out;
      }
      out[count++] = piece;
    }
    if (space == std::string_view::npos) break;
    s.remove_prefix(space + 1);
  }
  return out;
}

}  // namespace

std::optional<SysTime> parse_http_date(std::string_view text) {
  size_t n = 0;
  auto w = words(trim(text), n);
  if (n == 6 && w[0].size() == 4 && w[0][3] == ',' && w[5] == "GMT") {
    // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
    auto d = number(w[1]);
    auto mon = month_of(w[2]);
    auto y = number(w[3]);
    auto tod = time_of_day(w[4]);
    if (!d || !mon || !y || !tod || w[1].size() != 2 || w[3].size() != 4) return std::nullopt;
    return assemble(*y, *mon, *d, *tod);
  }
  if (n == 4 && w[0].ends_with(",") && w[3] == "GMT") {
    // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
    auto date = w[1];
    if (date.size() != 9 || date[2] != '-' || date[6] != '-') return std::nullopt;
    auto d = number(date.substr(0, 2));
    auto mon = month_of(date.substr(3, 3));
    auto yy = number(date.substr(7, 2));
    auto tod = time_of_day(w[2]);
    if (!d || !mon || !yy || !tod) return std::nullopt;
    // RFC 9110: a two-digit year more than 50 years in the future is in the past century.
    int y = 2000 + *yy;
    if (y > 2070) y -= 100;
    return assemble(y, *mon, *d, *tod);
  }
  if (n == 5 && w[0].size() == 3) {
    // asctime: Sun Nov  6 08:49:37 1994
    auto mon = month_of(w[1]);
    auto d = number(w[2]);
    auto tod = time_of_day(w[3]);
    auto y = number(w[4]);
    if (!mon || !d || !tod || !y || w[4].size() != 4) return std::nullopt;
    return assemble(*y, *mon, *d, *tod);
  }
  return std::nullopt;
}

namespace {

// No deadline is anywhere near a day: longer waits are clamped here so that
// callers adding them to a time point cannot overflow.
constexpr milliseconds kMaxRetryAfter = hours(24);

std::optional<milliseconds> parse_uncapped(std::string_view retry_after_ms, std::string_view retry_after,
                                           SysTime now) {
  if (auto ms_text = trim(retry_after_ms); !ms_text.empty()) {
    double ms = 0;
    auto [end, ec] = std::from_chars(ms_text.data(), ms_text.data() + ms_text.size(), ms);
    if (ec == std::errc() && end == ms_text.data() + ms_text.size() && std::isfinite(ms) && ms >= 0 && ms < 1e12)
      return milliseconds(static_cast<int64_t>(std::ceil(ms)));
  }
  auto text = trim(retry_after);
  if (text.empty()) return std::nullopt;
  if (all_digits(text)) {
    if (text.size() > 9) return std::nullopt;  // beyond any deadline we would honour
    return duration_cast<milliseconds>(seconds(*number(text)));
  }
  if (auto when = parse_http_date(text)) {
    if (*when <= now) return milliseconds(0);
    return ceil<milliseconds>(*when - now);
  }
  return std::nullopt;
}

}  // namespace

std::optional<milliseconds> parse_retry_after(std::string_view retry_after_ms, std::string_view retry_after,
                                              SysTime now) {
  auto wait = parse_uncapped(retry_after_ms, retry_after, now);
  if (wait) wait = std::min(*wait, kMaxRetryAfter);
  return wait;
}

}  // namespace huntaze::ai_router
