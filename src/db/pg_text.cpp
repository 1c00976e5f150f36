#include "pg_text.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

namespace huntaze::db::pg {

namespace {

using std::chrono::microseconds;

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

// Proleptic Gregorian calendar <-> days since 1970-01-01 (H. Hinnant's
// algorithms), on int64 so every Timestamp is representable, including the
// years beyond std::chrono::year's range that PostgreSQL accepts.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil {
  int64_t year;
  unsigned month, day;
};

Civil civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

bool leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned days_in_month(int64_t y, unsigned m) {
  static constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : days[m - 1];
}

[[noreturn]] void bad(std::string_view what, std::string_view text) {
  std::string shown(text.substr(0, 64));
  throw std::invalid_argument("invalid " + std::string(what) + " '" + shown + "'");
}

template <class Int>
Int parse_integer(std::string_view text, std::string_view what) {
  Int v{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec == std::errc::result_out_of_range) bad(std::string(what) + " (out of range)", text);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) bad(what, text);
  return v;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// A cursor over timestamp text.
struct Scanner {
  std::string_view s;
  size_t i = 0;
  bool done() const { return i >= s.size(); }
  char peek() const { return done() ? '\0' : s[i]; }
  bool eat(char c) {
    if (peek() != c) return false;
    ++i;
    return true;
  }
  // Exactly `n` digits (or at least `n` when `more` is set).
  bool digits(size_t n, int64_t& out, bool more = false) {
    size_t start = i;
    out = 0;
    while (!done() && s[i] >= '0' && s[i] <= '9' && (more || i - start < n)) {
      if (out > std::numeric_limits<int64_t>::max() / 10) return false;
      out = out * 10 + (s[i] - '0');
      ++i;
    }
    return i - start >= n;
  }
};

void append_quoted(std::string& out, std::string_view element) {
  out += '"';
  for (char c : element) {
    if (c == '\0') throw std::invalid_argument("text array element contains a NUL byte");
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

}  // namespace

// ---- formatting --------------------------------------------------------------

std::string format_timestamp(Timestamp t) {
  if (t == Timestamp::max()) return "infinity";
  if (t == Timestamp::min()) return "-infinity";
  const int64_t us = t.time_since_epoch().count();
  int64_t days = us / kMicrosPerDay;
  int64_t rem = us % kMicrosPerDay;
  if (rem < 0) {
    rem += kMicrosPerDay;
    --days;
  }
  const Civil c = civil_from_days(days);
  // PostgreSQL has no year 0: astronomical year 0 is 1 BC.
  const bool bc = c.year <= 0;
  const int64_t year = bc ? 1 - c.year : c.year;
  const int64_t secs = rem / kMicrosPerSecond;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ%s", static_cast<long long>(year),
                c.month, c.day, static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                static_cast<long long>(secs % 60), static_cast<long long>(rem % kMicrosPerSecond), bc ? " BC" : "");
  return buf;
}

std::string format_double(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

std::string format_array(const std::vector<int64_t>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(values[i]);
  }
  return out + "}";
}

std::string format_array(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    append_quoted(out, values[i]);
  }
  return out + "}";
}

std::string format_array(const std::vector<Uuid>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += values[i].str();
  }
  return out + "}";
}

// ---- parsing -----------------------------------------------------------------

bool parse_bool(std::string_view text) {
  if (text == "t" || text == "true") return true;
  if (text == "f" || text == "false") return false;
  bad("boolean", text);
}

int32_t parse_int32(std::string_view text) {
  return parse_integer<int32_t>(text, "integer");
}

int64_t parse_int64(std::string_view text) {
  return parse_integer<int64_t>(text, "bigint");
}

double parse_double(std::string_view text) {
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text == "Infinity") return std::numeric_limits<double>::infinity();
  if (text == "-Infinity") return -std::numeric_limits<double>::infinity();
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  // Out of range (e.g. a huge numeric) is reported rather than silently clamped.
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) bad("double precision", text);
  return v;
}

Uuid parse_uuid(std::string_view text) {
  auto u = Uuid::parse(text);
  if (!u) bad("uuid", text);
  return *u;
}

std::string parse_bytea(std::string_view text) {
  auto hex = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    bad("bytea", text);
  };
  std::string out;
  if (text.size() >= 2 && text[0] == '\\' && text[1] == 'x') {
    if (text.size() % 2 != 0) bad("bytea", text);
    out.reserve((text.size() - 2) / 2);
    for (size_t i = 2; i < text.size(); i += 2) out += static_cast<char>(hex(text[i]) << 4 | hex(text[i + 1]));
    return out;
  }
  // Escape format (bytea_output = escape): \\ and \ooo octal, the rest literal.
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
    } else if (i + 1 < text.size() && text[i + 1] == '\\') {
      out += '\\';
      ++i;
    } else if (text.size() - i >= 4) {
      int v = 0;
      for (size_t k = 1; k <= 3; ++k) {
        char c = text[i + k];
        if (c < '0' || c > '7') bad("bytea", text);
        v = v * 8 + (c - '0');
      }
      out += static_cast<char>(v);
      i += 3;
    } else {
      bad("bytea", text);
    }
  }
  return out;
}

Timestamp parse_timestamp(std::string_view text) {
  if (text == "infinity") return Timestamp::max();
  if (text == "-infinity") return Timestamp::min();
  bool bc = false;
  if (text.size() > 3 && text.substr(text.size() - 3) == " BC") {
    bc = true;
    text.remove_suffix(3);
  }
  Scanner sc{text};
  int64_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, micros = 0;
  if (!sc.digits(4, year, true) || !sc.eat('-') || !sc.digits(2, month) || !sc.eat('-') || !sc.digits(2, day))
    bad("timestamp", text);
  if (month < 1 || month > 12 || year < 1) bad("timestamp", text);
  if (bc) year = 1 - year;
  if (day < 1 || static_cast<unsigned>(day) > days_in_month(year, static_cast<unsigned>(month))) bad("timestamp", text);
  int64_t offset_seconds = 0;
  if (!sc.done()) {
    if (!sc.eat(' ') && !sc.eat('T')) bad("timestamp", text);
    if (!sc.digits(2, hour) || !sc.eat(':') || !sc.digits(2, minute) || !sc.eat(':') || !sc.digits(2, second))
      bad("timestamp", text);
    // 24:00:00 is valid input for PostgreSQL, but it never prints it.
    if (hour > 23 || minute > 59 || second > 59) bad("timestamp", text);
    if (sc.eat('.')) {
      int64_t scale = 100'000;
      size_t start = sc.i;
      while (!sc.done() && sc.peek() >= '0' && sc.peek() <= '9') {
        micros += (sc.peek() - '0') * scale;
        scale /= 10;
        ++sc.i;
      }
      if (sc.i == start) bad("timestamp", text);
    }
    if (sc.eat('Z')) {
      // UTC
    } else if (sc.peek() == '+' || sc.peek() == '-') {
      const int sign = sc.peek() == '-' ? -1 : 1;
      ++sc.i;
      int64_t oh = 0, om = 0, os = 0;
      if (!sc.digits(2, oh)) bad("timestamp", text);
      if (sc.eat(':')) {
        if (!sc.digits(2, om)) bad("timestamp", text);
        if (sc.eat(':') && !sc.digits(2, os)) bad("timestamp", text);
      } else if (!sc.done()) {
        if (!sc.digits(2, om)) bad("timestamp", text);  // +HHMM
      }
      offset_seconds = sign * (oh * 3600 + om * 60 + os);
    }
    if (!sc.done()) bad("timestamp", text);
  }
  // Timestamp counts microseconds in an int64: about ±292,000 years.
  const int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  if (days > std::numeric_limits<int64_t>::max() / kMicrosPerDay - 1 ||
      days < std::numeric_limits<int64_t>::min() / kMicrosPerDay + 1)
    bad("timestamp (out of range)", text);
  const int64_t us =
      days * kMicrosPerDay + ((hour * 60 + minute) * 60 + second - offset_seconds) * kMicrosPerSecond + micros;
  return Timestamp(microseconds(us));
}

std::vector<std::optional<std::string>> parse_array(std::string_view text) {
  std::vector<std::optional<std::string>> out;
  size_t i = 0;
  // Arrays whose lower bound is not 1 carry a dimension prefix: "[0:2]={...}".
  if (!text.empty() && text[0] == '[') {
    auto eq = text.find('=');
    if (eq == std::string_view::npos) bad("array", text);
    i = eq + 1;
  }
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  if (i >= text.size() || text[i] != '{') bad("array", text);
  ++i;
  while (i < text.size() && space(text[i])) ++i;
  if (i < text.size() && text[i] == '}') {
    if (i + 1 != text.size()) bad("array", text);
    return out;
  }
  for (;;) {
    while (i < text.size() && space(text[i])) ++i;
    if (i >= text.size()) bad("array", text);
    if (text[i] == '{') throw std::invalid_argument("multi-dimensional arrays are not supported");
    std::string element;
    bool quoted = false, escaped = false;
    if (text[i] == '"') {
      quoted = true;
      ++i;
      for (;;) {
        if (i >= text.size()) bad("array", text);
        char c = text[i++];
        if (c == '"') break;
        if (c == '\\') {
          if (i >= text.size()) bad("array", text);
          c = text[i++];
        }
        element += c;
      }
      while (i < text.size() && space(text[i])) ++i;
    } else {
      size_t last_significant = 0;  // length of element without trailing blanks
      while (i < text.size() && text[i] != ',' && text[i] != '}') {
        char c = text[i++];
        if (c == '"' || c == '{') bad("array", text);
        if (c == '\\') {
          if (i >= text.size()) bad("array", text);
          c = text[i++];
          escaped = true;
          element += c;
          last_significant = element.size();
          continue;
        }
        element += c;
        if (!space(c)) last_significant = element.size();
      }
      element.resize(last_significant);
      if (element.empty()) bad("array", text);
    }
    if (!quoted && !escaped && iequals(element, "NULL"))
      out.emplace_back(std::nullopt);
    else
      out.emplace_back(std::move(element));
    if (i >= text.size()) bad("array", text);
    if (text[i] == ',') {
      ++i;
      continue;
    }
    if (text[i] == '}' && i + 1 == text.size()) return out;
    bad("array", text);
  }
}

}  // namespace huntaze::db::pg
