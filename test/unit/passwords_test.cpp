// argon2id password hashes: PHC strings with their parameters, salted,
// verified, refused when wrong or foreign, and flagged for rehash when the
// parameters change. Small parameters keep the test fast; one case uses
// the OWASP defaults to show they are what the string says.
#include <catch2/catch.hpp>

#include "auth/passwords.hpp"

using namespace huntaze::auth;

namespace {
const PasswordParams kFast{.memory_kib = 64, .iterations = 1, .parallelism = 1};
}

TEST_CASE("passwords: hash and verify with argon2id", "[passwords]") {
  const auto h = hash_password("correct horse battery staple", kFast);
  CHECK(h.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
  CHECK(verify_password(h, "correct horse battery staple"));
  CHECK_FALSE(verify_password(h, "correct horse battery stapl"));
  CHECK_FALSE(verify_password(h, ""));
  // Salted: the same password hashes differently each time.
  CHECK(hash_password("correct horse battery staple", kFast) != h);
}

TEST_CASE("passwords: foreign or damaged hashes never verify", "[passwords]") {
  const auto h = hash_password("pw-0123456789", kFast);
  CHECK_FALSE(verify_password("", "pw-0123456789"));
  CHECK_FALSE(verify_password("$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA", "pw-0123456789"));
  CHECK_FALSE(verify_password("$2b$12$abcdefghijklmnopqrstuv", "pw-0123456789"));  // bcrypt
  CHECK_FALSE(verify_password(h.substr(0, h.size() - 5), "pw-0123456789"));
  std::string flipped = h;
  flipped[flipped.size() - 2] = flipped[flipped.size() - 2] == 'A' ? 'B' : 'A';
  CHECK_FALSE(verify_password(flipped, "pw-0123456789"));
}

TEST_CASE("passwords: the defaults are OWASP's argon2id minimum, and weaker hashes need a rehash", "[passwords]") {
  const PasswordParams defaults;
  const auto h = hash_password("pw-0123456789", defaults);
  CHECK(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
  CHECK(verify_password(h, "pw-0123456789"));
  CHECK_FALSE(needs_rehash(h, defaults));
  CHECK(needs_rehash(hash_password("pw-0123456789", kFast), defaults));
  CHECK(needs_rehash("$2b$12$abcdefghijklmnopqrstuv", defaults));
}

TEST_CASE("passwords: the decoy hash is stable per parameters and matches no chosen password", "[passwords]") {
  const auto& a = decoy_hash(kFast);
  CHECK(&a == &decoy_hash(kFast));
  CHECK(a.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
  CHECK_FALSE(verify_password(a, ""));
  CHECK_FALSE(verify_password(a, "password1234"));
}

TEST_CASE("passwords: every byte counts, NUL and beyond", "[passwords]") {
  // argon2 takes a pointer and a length: nothing may cut the password at a
  // NUL, or every password with one would match its prefix.
  const std::string with_nul("pw-01234\0-56789", 15);
  const auto h = hash_password(with_nul, kFast);
  CHECK(verify_password(h, with_nul));
  CHECK_FALSE(verify_password(h, "pw-01234"));
  CHECK_FALSE(verify_password(h, std::string("pw-01234\0-56780", 15)));
  // The longest password a user may choose is hashed whole.
  const std::string longest(kMaxPasswordLength * 4, 'p');
  const auto hl = hash_password(longest, kFast);
  CHECK(verify_password(hl, longest));
  CHECK_FALSE(verify_password(hl, longest.substr(1) + "q"));
}

TEST_CASE("passwords: stored parameters beyond the ceilings are never run", "[passwords]") {
  // Genuine hashes of the password, with more passes or lanes than any
  // configuration allows (cheap to make here; a huge m would be the attack).
  const auto many_passes = hash_password("pw-0123456789", {.memory_kib = 8, .iterations = 101, .parallelism = 1});
  CHECK_FALSE(verify_password(many_passes, "pw-0123456789"));
  const auto many_lanes = hash_password("pw-0123456789", {.memory_kib = 17 * 8, .iterations = 1, .parallelism = 17});
  CHECK_FALSE(verify_password(many_lanes, "pw-0123456789"));
  const auto at_ceiling = hash_password("pw-0123456789", {.memory_kib = 16 * 8, .iterations = 100, .parallelism = 16});
  CHECK(verify_password(at_ceiling, "pw-0123456789"));
  CHECK_FALSE(verify_password("$argon2id$v=19$m=8388608,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
                              "pw-0123456789"));
  CHECK_FALSE(verify_password("$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA", "x"));
}

TEST_CASE("passwords: the ceilings are read from the stored parameters, up to and not past each", "[passwords]") {
  // An m past the ceiling cannot be shown through verify_password (making
  // such a hash, or refusing a garbage one, takes as long either way): the
  // check it runs first is tested directly.
  const auto with = [](uint64_t m, uint64_t t, uint64_t p) {
    return "$argon2id$v=19$m=" + std::to_string(m) + ",t=" + std::to_string(t) + ",p=" + std::to_string(p) +
           "$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA";
  };
  CHECK(argon2_parameters_within_limits(hash_password("pw-0123456789", kFast)));
  CHECK(argon2_parameters_within_limits(with(kMaxArgon2MemoryKib, kMaxArgon2Iterations, kMaxArgon2Parallelism)));
  CHECK_FALSE(argon2_parameters_within_limits(with(uint64_t{kMaxArgon2MemoryKib} + 1, 1, 1)));
  CHECK_FALSE(argon2_parameters_within_limits(with(8388608, 1, 1)));
  CHECK_FALSE(argon2_parameters_within_limits(with(64, uint64_t{kMaxArgon2Iterations} + 1, 1)));
  CHECK_FALSE(argon2_parameters_within_limits(with(64, 1, uint64_t{kMaxArgon2Parallelism} + 1)));
  CHECK_FALSE(argon2_parameters_within_limits(with(64, 0, 1)));
  CHECK_FALSE(argon2_parameters_within_limits(with(64, 1, 0)));
  // Past what 64 bits hold: unreadable, not wrapped around to a small number.
  CHECK_FALSE(argon2_parameters_within_limits(
      "$argon2id$v=19$m=18446744073709551680,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA"));
  CHECK_FALSE(argon2_parameters_within_limits("$argon2id$v=19$t=1,m=64,p=1$c2FsdHNhbHRzYWx0$aGFzaA"));
  CHECK_FALSE(argon2_parameters_within_limits("$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaA"));
  CHECK_FALSE(argon2_parameters_within_limits(""));
}
