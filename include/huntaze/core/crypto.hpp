// Small cryptographic building blocks over OpenSSL, for tokens and keys:
// HMAC-SHA256, SHA-256, constant-time comparison, random bytes, the
// unpadded base64url alphabet JWTs and opaque tokens use, and the standard
// padded base64 of MIME and HTTP Basic authentication.
//
// Thread-safety: pure functions (OpenSSL 3 is thread-safe for these).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace huntaze::crypto {

// 32 raw bytes.
std::string hmac_sha256(std::string_view key, std::string_view data);
std::string sha256(std::string_view data);

// Whether a and b are equal, in time that depends only on their lengths.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

// `n` bytes from the operating system's CSPRNG (RAND_bytes). Throws
// std::runtime_error if it cannot deliver, std::length_error for n > INT_MAX.
std::string random_bytes(size_t n);

// RFC 4648 §5 without padding.
std::string base64url_encode(std::string_view bytes);
// RFC 4648 §4: the standard alphabet ('+', '/'), padded with '='.
std::string base64_encode(std::string_view bytes);
// Strict: only the base64url alphabet, no padding, no whitespace, and no
// stray bits in the last character (one spelling per byte string).
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace huntaze::crypto
