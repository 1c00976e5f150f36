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

// Text that must be valid UTF-8 without NUL bytes (PostgreSQL text and
// jsonb reject both) made so: whole valid characters are kept, each invalid
// byte becomes U+FFFD, NUL becomes '?', and the result is cut at a character
// boundary so it never exceeds max_bytes.
std::string clean_utf8(std::string_view text, size_t max_bytes);

// Whether `text` is valid UTF-8 (no overlong forms, surrogates or code
// points above U+10FFFF) without NUL bytes: what clean_utf8 leaves unchanged.
bool is_clean_utf8(std::string_view text);

}  // namespace huntaze
