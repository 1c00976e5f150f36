// Message digests as lower-case hex (OpenSSL EVP underneath).
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace huntaze {

enum class DigestKind { sha1, sha256 };

// Throws std::runtime_error if OpenSSL fails (it does not in practice).
std::string hex_digest(DigestKind kind, std::string_view data);

}  // namespace huntaze
