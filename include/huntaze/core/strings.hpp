// Small string helpers shared across areas.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace huntaze {

// "a, b, c" for {"a", "b", "c"} with the default separator.
inline std::string join(const std::vector<std::string>& items, std::string_view separator = ", ") {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

// Without leading and trailing ASCII whitespace (space, tab, CR, LF).
inline std::string_view trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// A-Z lowered; every other byte as it was.
inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Text that must be valid UTF-8 without NUL bytes (PostgreSQL text and
// jsonb reject both) made so: whole valid characters are kept, each invalid
// byte becomes U+FFFD, NUL becomes '?', and the result is cut at a character
// boundary so it never exceeds max_bytes.
std::string clean_utf8(std::string_view text, size_t max_bytes);

// Whether `text` is valid UTF-8 (no overlong forms, surrogates or code
// points above U+10FFFF) without NUL bytes: what clean_utf8 leaves unchanged.
bool is_clean_utf8(std::string_view text);

}  // namespace huntaze
