#include "huntaze/core/strings.hpp"

namespace huntaze {

namespace {

// Length of the valid UTF-8 sequence at text[i], or 0 (RFC 3629: no
// overlongs, no surrogates, nothing above U+10FFFF).
size_t sequence_length(std::string_view text, size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  const size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > text.size()) return 0;
  for (size_t k = 1; k < len; ++k)
    if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return 0;
  const auto c1 = len > 1 ? static_cast<unsigned char>(text[i + 1]) : 0;
  if (len == 2 && c < 0xC2) return 0;
  if (len == 3 && ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0))) return 0;
  if (len == 4 && (c > 0xF4 || (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 >= 0x90))) return 0;
  return len;
}

}  // namespace

std::string clean_utf8(std::string_view text, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes));
  size_t i = 0;
  while (i < text.size()) {
    const size_t len = sequence_length(text, i);
    const std::string_view piece = len == 0            ? std::string_view("\xEF\xBF\xBD")
                                   : text[i] == '\0' ? std::string_view("?")
                                                     : text.substr(i, len);
    if (out.size() + piece.size() > max_bytes) break;
    out += piece;
    i += len == 0 ? 1 : len;
  }
  return out;
}

bool is_clean_utf8(std::string_view text) { return clean_utf8(text, text.size()) == text; }

}  // namespace huntaze
