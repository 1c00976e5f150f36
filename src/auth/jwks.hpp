// Public keys from an identity provider's JSON Web Key Set (RFC 7517), and
// the two signature algorithms ID tokens are accepted with:
//   RS256  RSASSA-PKCS1-v1_5 with SHA-256, RSA keys of 2048 bits or more
//   ES256  ECDSA on P-256 with SHA-256 (the JWS form: r || s, 64 bytes)
// Nothing else: no HMAC (a provider's public key is not a secret), no "none".
//
// Keys a set cannot use are skipped, not fatal, so that a provider that
// publishes a key of another kind beside ours still works: other kty or
// crv, "use" other than "sig", an "alg" other than the key type's, RSA
// under 2048 bits, malformed members. Entries after the first
// KeySet::kMaxExamined are not looked at.
//
// Thread-safety: a KeySet is immutable after parse(); share it.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

typedef struct evp_pkey_st EVP_PKEY;  // OpenSSL's own forward declaration

namespace huntaze::auth {

inline constexpr std::string_view kRs256 = "RS256";
inline constexpr std::string_view kEs256 = "ES256";

// One usable public key.
struct VerifyKey {
  std::string kid;  // may be empty: the provider gave none
  std::string alg;  // RS256 or ES256: fixed by the key's type
  std::shared_ptr<EVP_PKEY> key;
};

class KeySet {
 public:
  // At most this many keys are kept (a JWKS holds a handful).
  static constexpr size_t kMaxKeys = 32;
  // At most this many entries are looked at, usable or not: bounded work on
  // a hostile or huge set (the answer itself is capped at 256 KiB).
  static constexpr size_t kMaxExamined = 4 * kMaxKeys;

  // Throws std::invalid_argument when `json` is not an object with a "keys" array.
  static KeySet parse(std::string_view json);

  // The key with this kid that can verify `alg`; with an empty kid, the one
  // key for `alg` when there is exactly one. Null when there is none.
  const VerifyKey* find(std::string_view kid, std::string_view alg) const;
  size_t size() const noexcept { return keys_.size(); }

 private:
  std::vector<VerifyKey> keys_;
};

// True when `signature` (the raw bytes of the JWS signature segment) is a
// valid `key.alg` signature over `signing_input` ("<header>.<payload>").
bool verify_signature(const VerifyKey& key, std::string_view signing_input, std::string_view signature);

}  // namespace huntaze::auth
