// How long a provider asked us to wait before retrying.
//
// OpenAI and Azure send `retry-after-ms` (milliseconds, possibly fractional)
// and/or the standard `Retry-After` (RFC 9110 §10.2.3: delay-seconds or an
// HTTP-date, which may be in any of the three date formats RFC 9110 §5.6.7
// requires recipients to accept). retry-after-ms wins when both are present
// and valid. A date in the past means "now" (zero).
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "huntaze/core/clock.hpp"

namespace huntaze::ai_router {

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view retry_after_ms,
                                                           std::string_view retry_after, SysTime now);

// An HTTP-date: IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), RFC 850
// ("Sunday, 06-Nov-94 08:49:37 GMT") or asctime ("Sun Nov  6 08:49:37 1994").
std::optional<SysTime> parse_http_date(std::string_view text);

}  // namespace huntaze::ai_router
