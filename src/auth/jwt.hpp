// Access tokens: JWTs signed with HMAC-SHA256, with a key id so that keys
// rotate (several keys configured: the first signs, all verify).
//
// verify() accepts exactly what sign() makes and nothing looser:
// - three base64url segments (strict alphabet, no padding), at most 4 KiB;
// - header {"alg":"HS256","kid":<a configured key>} (typ "JWT" allowed,
//   any "crit" refused): `alg` is pinned, so "none", RS256 (the HS/RS
//   confusion) and everything else is refused before any key is used;
// - the signature, compared in constant time, before the claims are read;
// - iss and aud equal to the configured ones; exp, iat and nbf checked
//   with a small leeway for clock skew.
//
// Thread-safety: a JwtCodec is immutable after construction; share it.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "huntaze/core/clock.hpp"
#include "huntaze/core/secret.hpp"

namespace huntaze::auth {

struct JwtKey {
  std::string kid;
  Secret secret;  // at least 32 bytes
};

struct JwtConfig {
  std::vector<JwtKey> keys;  // keys[0] signs
  std::string issuer = "huntaze";
  std::string audience = "huntaze-api";
  std::chrono::seconds leeway{30};
};

struct AccessClaims {
  std::string subject;   // sub: the user id
  std::string session;   // sid: the session (refresh token family) id
  std::string token_id;  // jti
  SysTime issued_at;     // iat
  SysTime not_before;    // nbf
  SysTime expires_at;    // exp
};

enum class JwtError {
  malformed,        // not three strict base64url segments of JSON objects, or too long
  unsupported_alg,  // alg is not HS256, or the header asks for critical extensions
  unknown_key,      // no kid, or a kid no configured key has
  bad_signature,
  expired,
  not_yet_valid,  // nbf or iat in the future
  wrong_issuer,
  wrong_audience,
  missing_claim,  // sub, sid, jti, iat or exp absent or of the wrong type
};

std::string_view to_string(JwtError error) noexcept;

inline constexpr size_t kMaxTokenBytes = 4096;

class JwtCodec {
 public:
  // Throws std::invalid_argument for no keys, a kid that is empty, longer
  // than 64 bytes, not valid UTF-8 or a duplicate, a secret shorter than 32
  // bytes, or an issuer or audience that is not valid UTF-8.
  explicit JwtCodec(JwtConfig config);

  // Signs with the first key. Times are written in whole seconds (floored).
  // Throws std::invalid_argument for claims no verify() could accept: an
  // empty subject, a sub, sid or jti that is not valid UTF-8 or holds a NUL,
  // a time before 1970 or after 9999, a token above kMaxTokenBytes.
  std::string sign(const AccessClaims& claims) const;

  std::variant<AccessClaims, JwtError> verify(std::string_view token, SysTime now) const;

 private:
  JwtConfig config_;
};

}  // namespace huntaze::auth
