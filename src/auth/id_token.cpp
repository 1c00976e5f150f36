#include "auth/id_token.hpp"

#include <boost/json.hpp>

#include "auth/jws.hpp"
#include "huntaze/core/crypto.hpp"
#include "huntaze/core/strings.hpp"

namespace huntaze::auth {

namespace json = boost::json;

namespace {

constexpr size_t kMaxSubjectBytes = 255;  // OIDC Core §2: sub is at most 255 ASCII characters
constexpr size_t kMaxNameBytes = 200;

}  // namespace

std::string_view to_string(IdTokenError error) noexcept {
  switch (error) {
    case IdTokenError::malformed: return "malformed";
    case IdTokenError::unsupported_alg: return "unsupported_alg";
    case IdTokenError::unknown_key: return "unknown_key";
    case IdTokenError::bad_signature: return "bad_signature";
    case IdTokenError::wrong_issuer: return "wrong_issuer";
    case IdTokenError::wrong_audience: return "wrong_audience";
    case IdTokenError::expired: return "expired";
    case IdTokenError::issued_in_future: return "issued_in_future";
    case IdTokenError::wrong_nonce: return "wrong_nonce";
    case IdTokenError::missing_claim: return "missing_claim";
  }
  return "unknown";
}

std::variant<ParsedIdToken, IdTokenError> parse_id_token(std::string_view token) {
  if (token.empty() || token.size() > kMaxIdTokenBytes) return IdTokenError::malformed;
  const auto parts = split_jws(token);
  if (!parts) return IdTokenError::malformed;
  auto header = decode_json_object(parts->header);
  auto payload_bytes = crypto::base64url_decode(parts->payload);
  auto signature = crypto::base64url_decode(parts->signature);
  if (!header || !payload_bytes || !signature) return IdTokenError::malformed;

  const auto* alg = string_claim(*header, "alg");
  if (!alg || (*alg != kRs256 && *alg != kEs256) || header->contains("crit")) return IdTokenError::unsupported_alg;
  ParsedIdToken parsed;
  parsed.alg = std::string(*alg);
  if (header->contains("kid")) {
    const auto* kid = string_claim(*header, "kid");
    if (!kid || kid->empty() || kid->size() > 256) return IdTokenError::malformed;
    parsed.kid = std::string(*kid);
  }
  parsed.signing_input = std::string(parts->signing_input);
  parsed.payload = std::move(*payload_bytes);
  parsed.signature = std::move(*signature);
  return parsed;
}

std::variant<IdTokenClaims, IdTokenError> verify_id_token(const ParsedIdToken& token, const VerifyKey* key,
                                                          const IdTokenExpectations& expected) {
  if (!key) return IdTokenError::unknown_key;
  if (key->alg != token.alg) return IdTokenError::unsupported_alg;
  if (!verify_signature(*key, token.signing_input, token.signature)) return IdTokenError::bad_signature;

  auto payload = parse_json_object(token.payload);
  if (!payload) return IdTokenError::malformed;
  const auto* iss = string_claim(*payload, "iss");
  const auto* aud = payload->if_contains("aud");
  const auto* sub = string_claim(*payload, "sub");
  const auto exp = epoch_claim(*payload, "exp", true);
  const auto iat = epoch_claim(*payload, "iat", true);
  // sub becomes a key in PostgreSQL text: valid UTF-8 without NUL only.
  if (!iss || !aud || !sub || sub->empty() || sub->size() > kMaxSubjectBytes || !is_clean_utf8(*sub) || !exp || !iat)
    return IdTokenError::missing_claim;
  if (*iss != expected.issuer) return IdTokenError::wrong_issuer;

  size_t audiences = 0;
  if (!audience_contains(*aud, expected.client_id, &audiences)) return IdTokenError::wrong_audience;
  const auto* azp = payload->if_contains("azp");
  if (azp || audiences > 1) {
    if (!azp || !azp->is_string() || azp->get_string() != expected.client_id) return IdTokenError::wrong_audience;
  }

  const int64_t now = epoch_seconds(expected.now);
  const int64_t leeway = expected.leeway.count();
  if (now >= *exp + leeway) return IdTokenError::expired;
  if (*iat > now + leeway) return IdTokenError::issued_in_future;

  const auto* nonce = string_claim(*payload, "nonce");
  if (!nonce) return IdTokenError::missing_claim;
  if (expected.nonce.empty() || !crypto::constant_time_equal(*nonce, expected.nonce)) return IdTokenError::wrong_nonce;

  IdTokenClaims claims;
  claims.subject = std::string(*sub);
  if (const auto* email = string_claim(*payload, "email"); email && !email->empty())
    claims.email = std::string(*email);
  if (const auto* verified = payload->if_contains("email_verified")) {
    // Some providers have sent the string "true".
    claims.email_verified = (verified->is_bool() && verified->get_bool()) ||
                            (verified->is_string() && verified->get_string() == "true");
  }
  if (const auto* name = string_claim(*payload, "name")) claims.name = clean_utf8(*name, kMaxNameBytes);
  claims.expires_at = from_epoch_seconds(*exp);
  return claims;
}

}  // namespace huntaze::auth
