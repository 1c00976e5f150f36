#include "auth/passwords.hpp"

#include <argon2.h>

#include <map>
#include <mutex>
#include <stdexcept>
#include <tuple>

#include "huntaze/core/crypto.hpp"

namespace huntaze::auth {

namespace {

constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;

}  // namespace

std::string hash_password(std::string_view password, const PasswordParams& p) {
  const std::string salt = crypto::random_bytes(kSaltBytes);
  const size_t length =
      argon2_encodedlen(p.iterations, p.memory_kib, p.parallelism, kSaltBytes, kHashBytes, Argon2_id);
  std::string encoded(length, '\0');
  const int rc = argon2id_hash_encoded(p.iterations, p.memory_kib, p.parallelism, password.data(), password.size(),
                                       salt.data(), salt.size(), kHashBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) throw std::runtime_error(std::string("argon2id: ") + argon2_error_message(rc));
  encoded.resize(encoded.find('\0'));
  return encoded;
}

bool verify_password(std::string_view encoded, std::string_view password) {
  if (!encoded.starts_with("$argon2id$") || encoded.size() > 512) return false;
  const std::string z(encoded);  // argon2 wants a NUL-terminated string
  return argon2id_verify(z.c_str(), password.data(), password.size()) == ARGON2_OK;
}

bool needs_rehash(std::string_view encoded, const PasswordParams& p) {
  const std::string expected = "$argon2id$v=19$m=" + std::to_string(p.memory_kib) + ",t=" +
                               std::to_string(p.iterations) + ",p=" + std::to_string(p.parallelism) + "$";
  return !encoded.starts_with(expected);
}

const std::string& decoy_hash(const PasswordParams& p) {
  static std::mutex mutex;
  static std::map<std::tuple<uint32_t, uint32_t, uint32_t>, std::string> hashes;
  std::lock_guard lock(mutex);
  auto& h = hashes[{p.memory_kib, p.iterations, p.parallelism}];
  if (h.empty()) h = hash_password(crypto::base64url_encode(crypto::random_bytes(24)), p);
  return h;
}

}  // namespace huntaze::auth
