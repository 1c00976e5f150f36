#include "auth/passwords.hpp"

#include <argon2.h>

#include <charconv>
#include <map>
#include <optional>
#include <mutex>
#include <stdexcept>
#include <tuple>

#include "huntaze/core/crypto.hpp"

namespace huntaze::auth {

namespace {

constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;

// Reads "<name>=<digits>" at the start of `text` and moves past it.
std::optional<uint64_t> take_param(std::string_view& text, std::string_view name) {
  if (!text.starts_with(name) || text.size() <= name.size() || text[name.size()] != '=') return std::nullopt;
  text.remove_prefix(name.size() + 1);
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  text.remove_prefix(static_cast<size_t>(end - text.data()));
  return value;
}

}  // namespace

bool argon2_parameters_within_limits(std::string_view encoded) {
  if (!encoded.starts_with("$argon2id$")) return false;
  std::string_view rest = encoded.substr(std::string_view("$argon2id$").size());
  if (!rest.starts_with("v=19$")) return false;
  rest.remove_prefix(5);
  const auto m = take_param(rest, "m");
  if (!m || !rest.starts_with(',')) return false;
  rest.remove_prefix(1);
  const auto t = take_param(rest, "t");
  if (!t || !rest.starts_with(',')) return false;
  rest.remove_prefix(1);
  const auto p = take_param(rest, "p");
  if (!p || !rest.starts_with('$')) return false;
  return *m <= kMaxArgon2MemoryKib && *t >= 1 && *t <= kMaxArgon2Iterations && *p >= 1 &&
         *p <= kMaxArgon2Parallelism;
}

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
  if (encoded.size() > 512 || !argon2_parameters_within_limits(encoded)) return false;  // also: not argon2id
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
