// ISO-8601 / RFC 3339 text for UTC instants, as the API and logs show them.
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "huntaze/core/clock.hpp"

namespace huntaze {

// "2026-11-21T10:00:00Z", or "2026-11-21T10:00:00.250000Z" when there are
// fractional seconds.
std::string format_iso8601(SysTime t);
// Accepts the format above and an explicit offset ("+02:00"); nullopt when malformed.
std::optional<SysTime> parse_iso8601(std::string_view text);

}  // namespace huntaze
