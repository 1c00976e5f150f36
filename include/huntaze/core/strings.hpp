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

}  // namespace huntaze
