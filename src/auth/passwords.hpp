// Password hashing with argon2id (OWASP minimum by default: m = 19 MiB,
// t = 2, p = 1), stored as the standard PHC string
// "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>" so that the parameters
// travel with each hash and can be raised later (needs_rehash).
//
// Hashing costs tens of milliseconds of CPU and 19 MiB of memory on
// purpose: call these on the compute pool, never on an I/O thread.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace huntaze::auth {

struct PasswordParams {
  uint32_t memory_kib = 19 * 1024;
  uint32_t iterations = 2;
  uint32_t parallelism = 1;
};

// The most argon2 may be asked for: what auth.password may configure, and
// what a stored hash may carry to be verified at all. A hash beyond them (a
// row written by hand or by an attacker with database access) would
// otherwise make one login allocate gigabytes or loop for minutes.
inline constexpr uint32_t kMaxArgon2MemoryKib = 4 * 1024 * 1024;  // 4 GiB
inline constexpr uint32_t kMaxArgon2Iterations = 100;
inline constexpr uint32_t kMaxArgon2Parallelism = 16;

// Limits on what a user may choose. The upper bound keeps a stranger from
// making us hash megabytes.
inline constexpr size_t kMinPasswordLength = 10;
inline constexpr size_t kMaxPasswordLength = 256;

// A fresh 16-byte random salt each call. Throws std::runtime_error when
// argon2 fails (out of memory).
std::string hash_password(std::string_view password, const PasswordParams& params);

// False for a wrong password, for anything that is not an argon2id (v=19)
// PHC string, and for stored parameters beyond the kMaxArgon2* ceilings,
// which are never run. Takes as long as hashing with the stored parameters.
bool verify_password(std::string_view encoded, std::string_view password);

// Whether an argon2id (v=19) PHC string's parameters are within the
// kMaxArgon2* ceilings (and t, p at least 1): checked by verify_password
// before argon2 runs. False for a string it cannot read the parameters of.
bool argon2_parameters_within_limits(std::string_view encoded);

// True when the stored hash used weaker (or other) parameters than `params`:
// rehash after the next successful login.
bool needs_rehash(std::string_view encoded, const PasswordParams& params);

// A valid hash of a random password with `params`, made once per process:
// login verifies against it when the email is unknown, so that known and
// unknown emails take the same time.
const std::string& decoy_hash(const PasswordParams& params);

}  // namespace huntaze::auth
