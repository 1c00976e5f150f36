#include "storage/signed_url.hpp"

#include <charconv>

#include "huntaze/core/crypto.hpp"

namespace huntaze::storage {
namespace {

std::string signature(std::string_view secret, std::string_view key, std::string_view expires) {
  std::string message;
  message.reserve(5 + key.size() + expires.size());
  message.append("GET\n").append(key).append("\n").append(expires);
  return crypto::base64url_encode(crypto::hmac_sha256(secret, message));
}

}  // namespace

std::string sign_download(std::string_view secret, std::string_view key, int64_t expires_unix) {
  const std::string expires = std::to_string(expires_unix);
  return "expires=" + expires + "&sig=" + signature(secret, key, expires);
}

LinkCheck check_download(std::string_view secret, std::string_view key, std::string_view expires,
                         std::string_view sig, int64_t now_unix) {
  // Only the spelling sign_download makes: decimal digits, no sign, no
  // leading zero, at most 12 of them.
  if (expires.empty() || expires.size() > 12 || (expires.size() > 1 && expires.front() == '0') || sig.empty() ||
      sig.size() > 64) {
    return LinkCheck::malformed;
  }
  int64_t at = 0;
  const auto [end, ec] = std::from_chars(expires.data(), expires.data() + expires.size(), at);
  if (ec != std::errc() || end != expires.data() + expires.size() || at < 0) return LinkCheck::malformed;
  if (!crypto::constant_time_equal(signature(secret, key, expires), sig)) return LinkCheck::bad_signature;
  return now_unix < at ? LinkCheck::ok : LinkCheck::expired;
}

}  // namespace huntaze::storage
