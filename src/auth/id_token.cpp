#include "auth/id_token.hpp"

#include <boost/json.hpp>

#include "huntaze/core/crypto.hpp"

namespace huntaze::auth {

namespace json = boost::json;
using std::chrono::seconds;

namespace {

constexpr size_t kMaxSubjectBytes = 255;  // OIDC Core §2: sub is at most 255 ASCII characters
constexpr int64_t kMaxEpochSeconds = 253402300799;  // 9999-12-31T23:59:59Z

std::optional<json::object> parse_object(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

const json::string* string_field(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v ? v->if_string() : nullptr;
}

// Whole seconds since the epoch (some providers write them as doubles).
std::optional<int64_t> seconds_field(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v) return std::nullopt;
  double s = 0;
  if (v->is_int64()) s = static_cast<double>(v->get_int64());
  else if (v->is_uint64()) s = static_cast<double>(v->get_uint64());
  else if (v->is_double()) s = v->get_double();
  else return std::nullopt;
  if (!(s >= 0 && s <= static_cast<double>(kMaxEpochSeconds))) return std::nullopt;
  return static_cast<int64_t>(s);
}

constexpr size_t kMaxNameBytes = 200;

// At most `limit` bytes of `text`, cut before a UTF-8 continuation byte.
std::string utf8_prefix(std::string_view text, size_t limit) {
  if (text.size() <= limit) return std::string(text);
  size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end));
}

int64_t epoch_seconds(SysTime t) { return std::chrono::floor<seconds>(t).time_since_epoch().count(); }

bool audience_holds(const json::value& aud, std::string_view client_id, size_t& count) {
  if (aud.is_string()) {
    count = 1;
    return aud.get_string() == client_id;
  }
  bool found = false;
  if (const auto* list = aud.if_array()) {
    count = list->size();
    for (const auto& a : *list) found = found || (a.is_string() && a.get_string() == client_id);
  }
  return found;
}

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
  const size_t first = token.find('.');
  if (first == std::string_view::npos) return IdTokenError::malformed;
  const size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
    return IdTokenError::malformed;

  auto header_bytes = crypto::base64url_decode(token.substr(0, first));
  auto payload_bytes = crypto::base64url_decode(token.substr(first + 1, second - first - 1));
  auto signature = crypto::base64url_decode(token.substr(second + 1));
  if (!header_bytes || !payload_bytes || !signature) return IdTokenError::malformed;
  auto header = parse_object(*header_bytes);
  if (!header) return IdTokenError::malformed;

  const auto* alg = string_field(*header, "alg");
  if (!alg || (*alg != kRs256 && *alg != kEs256) || header->contains("crit")) return IdTokenError::unsupported_alg;
  ParsedIdToken parsed;
  parsed.alg = std::string(*alg);
  if (header->contains("kid")) {
    const auto* kid = string_field(*header, "kid");
    if (!kid || kid->empty() || kid->size() > 256) return IdTokenError::malformed;
    parsed.kid = std::string(*kid);
  }
  parsed.signing_input = std::string(token.substr(0, second));
  parsed.payload = std::move(*payload_bytes);
  parsed.signature = std::move(*signature);
  return parsed;
}

std::variant<IdTokenClaims, IdTokenError> verify_id_token(const ParsedIdToken& token, const VerifyKey* key,
                                                          const IdTokenExpectations& expected) {
  if (!key) return IdTokenError::unknown_key;
  if (key->alg != token.alg) return IdTokenError::unsupported_alg;
  if (!verify_signature(*key, token.signing_input, token.signature)) return IdTokenError::bad_signature;

  auto payload = parse_object(token.payload);
  if (!payload) return IdTokenError::malformed;
  const auto* iss = string_field(*payload, "iss");
  const auto* aud = payload->if_contains("aud");
  const auto* sub = string_field(*payload, "sub");
  const auto exp = seconds_field(*payload, "exp");
  const auto iat = seconds_field(*payload, "iat");
  if (!iss || !aud || !sub || sub->empty() || sub->size() > kMaxSubjectBytes || !exp || !iat)
    return IdTokenError::missing_claim;
  if (*iss != expected.issuer) return IdTokenError::wrong_issuer;

  size_t audiences = 0;
  if (!audience_holds(*aud, expected.client_id, audiences)) return IdTokenError::wrong_audience;
  const auto* azp = payload->if_contains("azp");
  if (azp || audiences > 1) {
    if (!azp || !azp->is_string() || azp->get_string() != expected.client_id) return IdTokenError::wrong_audience;
  }

  const int64_t now = epoch_seconds(expected.now);
  const int64_t leeway = expected.leeway.count();
  if (now >= *exp + leeway) return IdTokenError::expired;
  if (*iat > now + leeway) return IdTokenError::issued_in_future;

  const auto* nonce = string_field(*payload, "nonce");
  if (!nonce) return IdTokenError::missing_claim;
  if (expected.nonce.empty() || !crypto::constant_time_equal(*nonce, expected.nonce)) return IdTokenError::wrong_nonce;

  IdTokenClaims claims;
  claims.subject = std::string(*sub);
  if (const auto* email = string_field(*payload, "email"); email && !email->empty())
    claims.email = std::string(*email);
  if (const auto* verified = payload->if_contains("email_verified")) {
    // Some providers have sent the string "true".
    claims.email_verified = (verified->is_bool() && verified->get_bool()) ||
                            (verified->is_string() && verified->get_string() == "true");
  }
  if (const auto* name = string_field(*payload, "name")) claims.name = utf8_prefix(*name, kMaxNameBytes);
  claims.expires_at = SysTime(std::chrono::duration_cast<SysTime::duration>(seconds(*exp)));
  return claims;
}

}  // namespace huntaze::auth
