#include <openssl/evp.h>

#include <stdexcept>

#include "huntaze/redis/redis.hpp"

namespace huntaze::redis {

namespace {

// Redis names scripts by the lower-case hex SHA-1 of their source.
std::string sha1_hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha1(), nullptr) != 1)
    throw std::runtime_error("SHA-1 failed");
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0xf];
  }
  return out;
}

}  // namespace

Script::Script(std::string source) : source_(std::move(source)), sha1_(sha1_hex(source_)) {}

}  // namespace huntaze::redis
