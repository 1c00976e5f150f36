#include "huntaze/http/byte_range.hpp"

#include <charconv>

#include "huntaze/core/strings.hpp"

namespace huntaze::http {

namespace {

// Digits only (no sign, no spaces); nullopt when empty, malformed or too big.
std::optional<uint64_t> number(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  uint64_t n = 0;
  auto r = std::from_chars(text.data(), text.data() + text.size(), n);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size()) return std::nullopt;
  return n;
}

}  // namespace

RangeRequest parse_range(std::optional<std::string_view> header, uint64_t size) {
  if (!header) return {};
  std::string_view value = trim(*header);
  constexpr std::string_view unit = "bytes=";
  // Another unit, or a malformed header, is ignored: the whole file.
  if (value.size() < unit.size() || ascii_lower(value.substr(0, unit.size())) != unit) return {};
  value = trim(value.substr(unit.size()));
  if (value.find(',') != std::string_view::npos) return {};
  const size_t dash = value.find('-');
  if (dash == std::string_view::npos) return {};
  const std::string_view first_text = trim(value.substr(0, dash)), last_text = trim(value.substr(dash + 1));

  RangeRequest out{.answer = RangeAnswer::partial};
  if (first_text.empty()) {  // a suffix: the last N bytes
    auto n = number(last_text);
    if (!n) return {};
    if (*n == 0 || size == 0) return {.answer = RangeAnswer::unsatisfiable};
    out.range = {size - std::min(*n, size), size - 1};
    return out;
  }
  auto first = number(first_text);
  if (!first) return {};
  std::optional<uint64_t> last;
  if (!last_text.empty()) {
    last = number(last_text);
    if (!last || *last < *first) return {};  // invalid syntax: ignored
  }
  if (*first >= size) return {.answer = RangeAnswer::unsatisfiable};
  out.range = {*first, last ? std::min(*last, size - 1) : size - 1};
  return out;
}

}  // namespace huntaze::http
