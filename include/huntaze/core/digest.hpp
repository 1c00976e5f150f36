// Message digests as lower-case hex (OpenSSL EVP underneath).
// Thread-safety: pure functions.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace huntaze {

enum class DigestKind { sha1, sha256 };

// Throws std::runtime_error if OpenSSL fails (it does not in practice).
std::string hex_digest(DigestKind kind, std::string_view data);

// The raw digest of the concatenated parts, without concatenating them.
std::string digest_bytes(DigestKind kind, std::initializer_list<std::string_view> parts);

// Lower-case hex of any bytes (a MAC, a random token).
std::string to_hex(std::string_view bytes);

}  // namespace huntaze
