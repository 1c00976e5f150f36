// Metric label values shared by the server's and the outbound client's
// metrics (internal).
#pragma once

#include <array>
#include <string_view>

namespace huntaze::http::detail {

// The method as a label value: methods outside the standard set share "OTHER",
// so a client (or a caller) inventing verbs cannot grow the series count.
inline std::string_view method_label(std::string_view method) noexcept {
  static constexpr std::array<std::string_view, 9> known = {"GET",    "HEAD",    "POST",  "PUT",    "PATCH",
                                                            "DELETE", "OPTIONS", "TRACE", "CONNECT"};
  for (auto m : known)
    if (m == method) return m;
  return "OTHER";
}

}  // namespace huntaze::http::detail
