// Opaque bearer secrets: refresh tokens, email links, invitations and API
// keys. Each is 256 random bits in base64url behind a short type prefix
// ("hzr_", "hze_", "hzi_", "hzk_") so that a leaked one is recognisable by
// secret scanners. Only the SHA-256 of a token is stored; a lookup by hash
// reveals nothing about other tokens, so no slow hash is needed.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "huntaze/db/value.hpp"

namespace huntaze::auth {

inline constexpr std::string_view kRefreshPrefix = "hzr_";
inline constexpr std::string_view kEmailPrefix = "hze_";
inline constexpr std::string_view kInvitePrefix = "hzi_";
inline constexpr std::string_view kApiKeyPrefix = "hzk_";

// prefix + 43 base64url characters.
std::string new_token(std::string_view prefix);

// The stored form of a token.
db::Bytes token_hash(std::string_view token);

// Whether `text` has the shape new_token(prefix) makes: checked before any
// database lookup so that junk never reaches a query.
bool well_formed_token(std::string_view text, std::string_view prefix) noexcept;

}  // namespace huntaze::auth
