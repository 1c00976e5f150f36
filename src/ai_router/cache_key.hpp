// The response cache's key: which requests are "the same question".
//
//   "huntaze:ai:c1:" + lower-case hex SHA-256 of a canonical serialization of
//   the workspace, the route (the task or alias as the router resolved it),
//   every message (role, content, image URLs in order) and every Params field.
//
// Canonical means no two different requests serialize alike: fields in a fixed
// order, strings length-prefixed (("ab","c") != ("a","bc")), optionals with an
// explicit presence marker (absent != 0), doubles printed to round-trip
// ("%.17g"). The workspace comes first, so one tenant can never read another's
// answers. Cache mode, TTL, deadline and request id describe how to ask, not
// what, and are left out.
//
// "c1" versions the serialization and the stored value's format: change it
// whenever either changes, and old entries simply stop matching.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "huntaze/ai_router/router.hpp"

namespace huntaze::ai_router {

inline constexpr std::string_view kCacheKeyPrefix = "huntaze:ai:c1:";

std::string cache_key(const AiRequest& request, std::string_view route);

// The bytes cache_key() hashes (exposed for tests and debugging).
std::string canonical_request(const AiRequest& request, std::string_view route);

}  // namespace huntaze::ai_router
