#include "auth/tokens.hpp"

#include "huntaze/core/crypto.hpp"

namespace huntaze::auth {

namespace {
constexpr size_t kRandomBytes = 32;
constexpr size_t kEncodedLength = 43;  // ceil(32 * 8 / 6), no padding
}  // namespace

std::string new_token(std::string_view prefix) {
  return std::string(prefix) + crypto::base64url_encode(crypto::random_bytes(kRandomBytes));
}

db::Bytes token_hash(std::string_view token) { return db::Bytes{crypto::sha256(token)}; }

bool well_formed_token(std::string_view text, std::string_view prefix) noexcept {
  if (!text.starts_with(prefix) || text.size() != prefix.size() + kEncodedLength) return false;
  for (char c : text.substr(prefix.size())) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace huntaze::auth
