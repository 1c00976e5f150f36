// 128-bit identifiers. Public ids are time-ordered UUIDv7 (RFC 9562), so new
// rows land at the right edge of their B-tree indexes.
// Thread-safety: Uuid is a value type; v7() is safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace huntaze {

struct Uuid {
  std::array<uint8_t, 16> bytes{};

  // A fresh UUIDv7: 48-bit Unix milliseconds, then random bits.
  static Uuid v7();
  // Accepts the canonical 8-4-4-4-12 hex form, any case; nullopt otherwise.
  static std::optional<Uuid> parse(std::string_view text);
  // Canonical lower-case form.
  std::string str() const;
  bool is_nil() const;

  auto operator<=>(const Uuid&) const = default;
};

}  // namespace huntaze
