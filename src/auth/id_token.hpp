// OpenID Connect ID tokens (OIDC Core 1.0 §3.1.3.7), verified in two steps
// so that the caller can refresh the provider's keys when the token names a
// key it has not seen yet:
//
//   auto parsed = parse_id_token(token);            // shape and header only
//   const VerifyKey* key = keys.find(parsed->kid, parsed->alg);
//   if (!key) { refresh the key set; look again }
//   auto claims = verify_id_token(*parsed, key, expected);
//
// What is checked, and nothing is read from the payload before the signature:
// - three strict base64url segments, at most 16 KiB;
// - alg RS256 or ES256 only (no "none", no HMAC with the public key), no "crit";
// - the signature, with a key of the provider's set whose type fits the alg;
// - iss equal to the provider's issuer; aud the client id, or a list holding
//   it (then azp, when present or when there are several audiences, must be
//   the client id too);
// - exp in the future and iat not in the future, with a leeway;
// - nonce equal to the one sent with the authorization request;
// - sub a non-empty string of at most 255 bytes.
//
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "auth/jwks.hpp"
#include "huntaze/core/clock.hpp"

namespace huntaze::auth {

inline constexpr size_t kMaxIdTokenBytes = 16 * 1024;

enum class IdTokenError {
  malformed,        // not a compact JWS of JSON objects, or too long
  unsupported_alg,  // not RS256/ES256, or "crit" present
  unknown_key,      // no key in the provider's set for this kid and alg
  bad_signature,
  wrong_issuer,
  wrong_audience,  // aud does not hold the client id, or azp names another client
  expired,
  issued_in_future,
  wrong_nonce,
  missing_claim,  // sub, iss, aud, exp, iat or nonce absent or of the wrong type
};

// Snake case, for metrics and logs: "bad_signature", ...
std::string_view to_string(IdTokenError error) noexcept;

struct ParsedIdToken {
  std::string alg;
  std::string kid;
  std::string signing_input;  // "<header>.<payload>", as received
  std::string payload;        // decoded JSON, not yet trusted
  std::string signature;      // decoded bytes
};

std::variant<ParsedIdToken, IdTokenError> parse_id_token(std::string_view token);

struct IdTokenExpectations {
  std::string issuer;
  std::string client_id;
  std::string nonce;
  SysTime now;
  std::chrono::seconds leeway{60};
};

struct IdTokenClaims {
  std::string subject;
  std::optional<std::string> email;
  bool email_verified = false;  // true only for a boolean true (or the string "true")
  std::string name;             // may be empty
  SysTime expires_at;
};

// `key` is the provider's key for the token's kid and alg (null: unknown_key).
std::variant<IdTokenClaims, IdTokenError> verify_id_token(const ParsedIdToken& token, const VerifyKey* key,
                                                          const IdTokenExpectations& expected);

}  // namespace huntaze::auth
