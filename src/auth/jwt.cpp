#include "auth/jwt.hpp"

#include <boost/json.hpp>
#include <set>
#include <stdexcept>

#include "auth/jws.hpp"
#include "huntaze/core/crypto.hpp"
#include "huntaze/core/strings.hpp"

namespace huntaze::auth {

namespace json = boost::json;

std::string_view to_string(JwtError error) noexcept {
  switch (error) {
    case JwtError::malformed: return "malformed";
    case JwtError::unsupported_alg: return "unsupported_alg";
    case JwtError::unknown_key: return "unknown_key";
    case JwtError::bad_signature: return "bad_signature";
    case JwtError::expired: return "expired";
    case JwtError::not_yet_valid: return "not_yet_valid";
    case JwtError::wrong_issuer: return "wrong_issuer";
    case JwtError::wrong_audience: return "wrong_audience";
    case JwtError::missing_claim: return "missing_claim";
  }
  return "unknown";
}

JwtCodec::JwtCodec(JwtConfig config) : config_(std::move(config)) {
  if (config_.keys.empty()) throw std::invalid_argument("auth: at least one JWT key is required");
  std::set<std::string> seen;
  for (const auto& k : config_.keys) {
    if (k.kid.empty() || k.kid.size() > 64 || !is_clean_utf8(k.kid))
      throw std::invalid_argument("auth: a JWT key id must be 1-64 bytes of UTF-8");
    if (!seen.insert(k.kid).second) throw std::invalid_argument("auth: duplicate JWT key id '" + k.kid + "'");
    if (k.secret.reveal().size() < 32)
      throw std::invalid_argument("auth: JWT key '" + k.kid + "' is shorter than 32 bytes");
  }
  if (!is_clean_utf8(config_.issuer) || !is_clean_utf8(config_.audience))
    throw std::invalid_argument("auth: the JWT issuer and audience must be valid UTF-8");
}

std::string JwtCodec::sign(const AccessClaims& c) const {
  // A token verify() would refuse whatever the time is a bug of the caller's.
  // boost::json serializes any bytes but parses back only valid UTF-8; NUL,
  // which JSON could carry, is refused too: no identifier has one.
  if (c.subject.empty()) throw std::invalid_argument("jwt: the subject is empty");
  for (const std::string* s : {&c.subject, &c.session, &c.token_id})
    if (!is_clean_utf8(*s)) throw std::invalid_argument("jwt: a claim is not valid UTF-8");
  for (const SysTime t : {c.issued_at, c.not_before, c.expires_at}) {
    const int64_t s = epoch_seconds(t);
    if (s < 0 || s > kMaxEpochSeconds) throw std::invalid_argument("jwt: a time before 1970 or after 9999");
  }
  const JwtKey& key = config_.keys.front();
  json::object header{{"alg", "HS256"}, {"typ", "JWT"}, {"kid", key.kid}};
  json::object payload{{"iss", config_.issuer},
                       {"aud", config_.audience},
                       {"sub", c.subject},
                       {"sid", c.session},
                       {"jti", c.token_id},
                       {"iat", epoch_seconds(c.issued_at)},
                       {"nbf", epoch_seconds(c.not_before)},
                       {"exp", epoch_seconds(c.expires_at)}};
  std::string signing_input =
      crypto::base64url_encode(json::serialize(header)) + "." + crypto::base64url_encode(json::serialize(payload));
  const std::string mac = crypto::hmac_sha256(key.secret.reveal(), signing_input);
  std::string token = signing_input + "." + crypto::base64url_encode(mac);
  if (token.size() > kMaxTokenBytes) throw std::invalid_argument("jwt: the claims make a token above 4 KiB");
  return token;
}

std::variant<AccessClaims, JwtError> JwtCodec::verify(std::string_view token, SysTime now) const {
  if (token.empty() || token.size() > kMaxTokenBytes) return JwtError::malformed;
  const auto parts = split_jws(token);
  if (!parts) return JwtError::malformed;

  auto header = decode_json_object(parts->header);
  if (!header) return JwtError::malformed;
  const auto* alg = string_claim(*header, "alg");
  if (!alg || *alg != "HS256" || header->contains("crit")) return JwtError::unsupported_alg;
  if (const auto* typ = header->if_contains("typ"); typ && !(typ->is_string() && typ->as_string() == "JWT"))
    return JwtError::malformed;
  const auto* kid = string_claim(*header, "kid");
  if (!kid) return JwtError::unknown_key;
  const JwtKey* key = nullptr;
  for (const auto& k : config_.keys)
    if (k.kid == *kid) key = &k;
  if (!key) return JwtError::unknown_key;

  const auto signature = crypto::base64url_decode(parts->signature);
  if (!signature) return JwtError::malformed;
  const std::string expected = crypto::hmac_sha256(key->secret.reveal(), parts->signing_input);
  if (!crypto::constant_time_equal(*signature, expected)) return JwtError::bad_signature;

  auto payload = decode_json_object(parts->payload);
  if (!payload) return JwtError::malformed;
  const auto* iss = string_claim(*payload, "iss");
  if (!iss || *iss != config_.issuer) return JwtError::wrong_issuer;
  const auto* aud = payload->if_contains("aud");
  if (!aud || !audience_contains(*aud, config_.audience)) return JwtError::wrong_audience;

  const auto* sub = string_claim(*payload, "sub");
  const auto* sid = string_claim(*payload, "sid");
  const auto* jti = string_claim(*payload, "jti");
  const auto iat = epoch_claim(*payload, "iat", false);
  const auto exp = epoch_claim(*payload, "exp", false);
  if (!sub || sub->empty() || !sid || !jti || !iat || !exp) return JwtError::missing_claim;
  std::optional<int64_t> nbf;
  if (payload->contains("nbf")) {
    nbf = epoch_claim(*payload, "nbf", false);
    if (!nbf) return JwtError::missing_claim;
  }

  const int64_t now_s = epoch_seconds(now);
  const int64_t leeway = config_.leeway.count();
  if (now_s >= *exp + leeway) return JwtError::expired;
  if (*iat > now_s + leeway || (nbf && *nbf > now_s + leeway)) return JwtError::not_yet_valid;

  AccessClaims claims;
  claims.subject = std::string(*sub);
  claims.session = std::string(*sid);
  claims.token_id = std::string(*jti);
  claims.issued_at = from_epoch_seconds(*iat);
  claims.not_before = from_epoch_seconds(nbf.value_or(*iat));
  claims.expires_at = from_epoch_seconds(*exp);
  return claims;
}

}  // namespace huntaze::auth
