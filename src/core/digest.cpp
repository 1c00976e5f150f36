#include "huntaze/core/digest.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace huntaze {

std::string hex_digest(DigestKind kind, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  const EVP_MD* md = kind == DigestKind::sha1 ? EVP_sha1() : EVP_sha256();
  if (EVP_Digest(data.data(), data.size(), digest, &length, md, nullptr) != 1)
    throw std::runtime_error("message digest failed");
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0xf];
  }
  return out;
}

}  // namespace huntaze
