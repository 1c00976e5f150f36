// ID tokens from OpenID Connect providers: keys from a JWKS, RS256 and ES256
// signatures made here with OpenSSL, and every check of verify_id_token
// (signature, alg, kid, iss, aud/azp, exp, iat, nonce, sub); plus the small
// pieces of the flow (PKCE S256, return paths, provider URLs, the config).
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "auth/id_token.hpp"
#include "auth/jwks.hpp"
#include "auth/oidc_config.hpp"
#include "auth/oidc_login.hpp"
#include "auth/oidc_provider.hpp"
#include "huntaze/core/crypto.hpp"
#include "huntaze/core/time_format.hpp"
#include "huntaze/http/message.hpp"
#include "support/config_parse.hpp"

using namespace huntaze;
using namespace huntaze::auth;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

const SysTime kNow = *parse_iso8601("2026-11-21T12:00:00Z");
const int64_t kNowSeconds = std::chrono::duration_cast<std::chrono::seconds>(kNow.time_since_epoch()).count();
const std::string kIssuer = "https://id.example.com";
const std::string kClient = "huntaze-web";
const std::string kNonce = "n-0S6_WzA2Mj";

std::string bignum_bytes(const BIGNUM* bn, int width = 0) {
  std::string out(static_cast<size_t>(width ? width : BN_num_bytes(bn)), '\0');
  if (width)
    BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), width);
  else
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

// A provider's key pair, and the JWK it would publish.
struct TestKey {
  std::shared_ptr<EVP_PKEY> pkey;
  std::string alg;
  std::string kid;

  static TestKey rsa(std::string kid, int bits = 2048) {
    return {std::shared_ptr<EVP_PKEY>(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)),
                                      EVP_PKEY_free),
            "RS256", std::move(kid)};
  }
  static TestKey p256(std::string kid) {
    return {std::shared_ptr<EVP_PKEY>(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), EVP_PKEY_free), "ES256",
            std::move(kid)};
  }

  json::object jwk() const {
    json::object o{{"kid", kid}, {"use", "sig"}};
    if (alg == "RS256") {
      BIGNUM* n = nullptr;
      BIGNUM* e = nullptr;
      EVP_PKEY_get_bn_param(pkey.get(), OSSL_PKEY_PARAM_RSA_N, &n);
      EVP_PKEY_get_bn_param(pkey.get(), OSSL_PKEY_PARAM_RSA_E, &e);
      o["kty"] = "RSA";
      o["n"] = crypto::base64url_encode(bignum_bytes(n));
      o["e"] = crypto::base64url_encode(bignum_bytes(e));
      BN_free(n);
      BN_free(e);
    } else {
      unsigned char point[65];
      size_t length = 0;
      EVP_PKEY_get_octet_string_param(pkey.get(), OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &length);
      REQUIRE(length == 65);
      o["kty"] = "EC";
      o["crv"] = "P-256";
      o["x"] = crypto::base64url_encode(std::string_view(reinterpret_cast<char*>(point + 1), 32));
      o["y"] = crypto::base64url_encode(std::string_view(reinterpret_cast<char*>(point + 33), 32));
    }
    return o;
  }

  // The JWS signature bytes over `input` (for ES256, r || s).
  std::string sign(std::string_view input) const {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t length = 0;
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, pkey.get());
    EVP_DigestSign(ctx, nullptr, &length, reinterpret_cast<const unsigned char*>(input.data()), input.size());
    std::string sig(length, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &length,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    EVP_MD_CTX_free(ctx);
    sig.resize(length);
    if (alg == "RS256") return sig;
    const auto* der = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* parsed = d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(sig.size()));
    std::string raw = bignum_bytes(ECDSA_SIG_get0_r(parsed), 32) + bignum_bytes(ECDSA_SIG_get0_s(parsed), 32);
    ECDSA_SIG_free(parsed);
    return raw;
  }
};

const TestKey& rsa_key() {
  static const TestKey key = TestKey::rsa("r1");
  return key;
}
const TestKey& ec_key() {
  static const TestKey key = TestKey::p256("e1");
  return key;
}

json::object good_claims() {
  return json::object{{"iss", kIssuer},         {"aud", kClient},      {"sub", "1122334455"},
                      {"exp", kNowSeconds + 600}, {"iat", kNowSeconds - 5}, {"nonce", kNonce},
                      {"email", "Ada@Example.com"}, {"email_verified", true}, {"name", "Ada"}};
}

std::string make_token(const TestKey& key, const json::object& claims, json::object header = {}) {
  if (header.empty()) header = json::object{{"alg", key.alg}, {"kid", key.kid}, {"typ", "JWT"}};
  const std::string input =
      crypto::base64url_encode(json::serialize(header)) + "." + crypto::base64url_encode(json::serialize(claims));
  return input + "." + crypto::base64url_encode(key.sign(input));
}

KeySet published(std::initializer_list<const TestKey*> keys) {
  json::array list;
  for (const auto* k : keys) list.push_back(k->jwk());
  return KeySet::parse(json::serialize(json::object{{"keys", list}}));
}

IdTokenExpectations expectations() { return {kIssuer, kClient, kNonce, kNow, 60s}; }

// parse, look up the key, verify: what OidcProvider::verify does.
std::variant<IdTokenClaims, IdTokenError> check(const std::string& token, const KeySet& keys,
                                                IdTokenExpectations expected = expectations()) {
  auto parsed = parse_id_token(token);
  if (auto* e = std::get_if<IdTokenError>(&parsed)) return *e;
  const auto& p = std::get<ParsedIdToken>(parsed);
  return verify_id_token(p, keys.find(p.kid, p.alg), expected);
}

IdTokenError error_of(const std::variant<IdTokenClaims, IdTokenError>& result) {
  REQUIRE(std::holds_alternative<IdTokenError>(result));
  return std::get<IdTokenError>(result);
}

}  // namespace

TEST_CASE("An RS256 ID token from the provider's key set verifies and yields its claims", "[auth][oidc]") {
  const KeySet keys = published({&rsa_key(), &ec_key()});
  REQUIRE(keys.size() == 2);
  auto result = check(make_token(rsa_key(), good_claims()), keys);
  REQUIRE(std::holds_alternative<IdTokenClaims>(result));
  const auto& claims = std::get<IdTokenClaims>(result);
  CHECK(claims.subject == "1122334455");
  CHECK(claims.email == "Ada@Example.com");
  CHECK(claims.email_verified);
  CHECK(claims.name == "Ada");
  CHECK(claims.expires_at == SysTime(std::chrono::seconds(kNowSeconds + 600)));
}

TEST_CASE("An ES256 ID token verifies, and an ES256 signature of the wrong size does not", "[auth][oidc]") {
  const KeySet keys = published({&rsa_key(), &ec_key()});
  const std::string token = make_token(ec_key(), good_claims());
  CHECK(std::holds_alternative<IdTokenClaims>(check(token, keys)));
  const std::string input = token.substr(0, token.rfind('.'));
  const std::string short_sig = input + "." + crypto::base64url_encode(ec_key().sign(input).substr(0, 63));
  CHECK(error_of(check(short_sig, keys)) == IdTokenError::bad_signature);
}

TEST_CASE("A tampered ID token or one signed by another key fails the signature check", "[auth][oidc]") {
  const KeySet keys = published({&rsa_key()});
  std::string token = make_token(rsa_key(), good_claims());
  const size_t dot = token.find('.');
  json::object changed = good_claims();
  changed["sub"] = "someone-else";
  const std::string tampered = token.substr(0, dot + 1) + crypto::base64url_encode(json::serialize(changed)) +
                               token.substr(token.rfind('.'));
  CHECK(error_of(check(tampered, keys)) == IdTokenError::bad_signature);

  const TestKey impostor = TestKey::rsa("r1");  // same kid, other key
  CHECK(error_of(check(make_token(impostor, good_claims()), keys)) == IdTokenError::bad_signature);
}

TEST_CASE("ID tokens with alg none, HS256 or crit are refused before any key is used", "[auth][oidc]") {
  const KeySet keys = published({&rsa_key()});
  const std::string payload = crypto::base64url_encode(json::serialize(good_claims()));
  const std::string none = crypto::base64url_encode(R"({"alg":"none"})") + "." + payload + ".";
  CHECK(error_of(check(none, keys)) == IdTokenError::unsupported_alg);
  const std::string hs_input = crypto::base64url_encode(R"({"alg":"HS256","kid":"r1"})") + "." + payload;
  const std::string hs = hs_input + "." + crypto::base64url_encode(crypto::hmac_sha256("secret", hs_input));
  CHECK(error_of(check(hs, keys)) == IdTokenError::unsupported_alg);
  json::object crit{{"alg", "RS256"}, {"kid", "r1"}, {"crit", json::array{"exp"}}};
  CHECK(error_of(check(make_token(rsa_key(), good_claims(), crit), keys)) == IdTokenError::unsupported_alg);
  // An RSA key never verifies an ES256 header, whatever the kid says.
  json::object mixed{{"alg", "ES256"}, {"kid", "r1"}};
  CHECK(error_of(check(make_token(ec_key(), good_claims(), mixed), keys)) == IdTokenError::unknown_key);
}

TEST_CASE("An ID token naming a key the set lacks is unknown_key - without kid the only key is used", "[auth][oidc]") {
  const KeySet keys = published({&rsa_key()});
  const TestKey other = TestKey::rsa("r2");
  CHECK(error_of(check(make_token(other, good_claims()), keys)) == IdTokenError::unknown_key);
  json::object no_kid{{"alg", "RS256"}};
  CHECK(std::holds_alternative<IdTokenClaims>(check(make_token(rsa_key(), good_claims(), no_kid), keys)));
  // Two RSA keys and no kid: ambiguous, so none.
  const KeySet two = published({&rsa_key(), &other});
  CHECK(error_of(check(make_token(rsa_key(), good_claims(), no_kid), two)) == IdTokenError::unknown_key);
}

TEST_CASE("ID token claims: issuer, audience, azp, expiry, iat, nonce and sub are all checked", "[auth][oidc]") {
  const KeySet keys = published({&rsa_key()});
  auto with = [&](const char* name, json::value v) {
    json::object c = good_claims();
    if (v.is_null())
      c.erase(name);
    else
      c[name] = std::move(v);
    return check(make_token(rsa_key(), c), keys);
  };
  CHECK(error_of(with("iss", "https://evil.example.com")) == IdTokenError::wrong_issuer);
  CHECK(error_of(with("iss", json::string(kIssuer + "/"))) == IdTokenError::wrong_issuer);
  CHECK(error_of(with("aud", "someone-else")) == IdTokenError::wrong_audience);
  CHECK(error_of(with("aud", json::array{"someone-else"})) == IdTokenError::wrong_audience);
  // Several audiences need azp naming us.
  CHECK(error_of(with("aud", json::array{kClient, "other"})) == IdTokenError::wrong_audience);
  {
    json::object c = good_claims();
    c["aud"] = json::array{kClient, "other"};
    c["azp"] = kClient;
    CHECK(std::holds_alternative<IdTokenClaims>(check(make_token(rsa_key(), c), keys)));
    c["azp"] = "other";
    CHECK(error_of(check(make_token(rsa_key(), c), keys)) == IdTokenError::wrong_audience);
  }
  CHECK(std::holds_alternative<IdTokenClaims>(with("aud", json::array{kClient})));
  // Expiry with the 60 s leeway: 59 s past is accepted, 60 s past is not.
  CHECK(std::holds_alternative<IdTokenClaims>(with("exp", kNowSeconds - 59)));
  CHECK(error_of(with("exp", kNowSeconds - 60)) == IdTokenError::expired);
  CHECK(error_of(with("iat", kNowSeconds + 3600)) == IdTokenError::issued_in_future);
  CHECK(error_of(with("nonce", "another-nonce")) == IdTokenError::wrong_nonce);
  CHECK(error_of(with("nonce", nullptr)) == IdTokenError::missing_claim);
  CHECK(error_of(with("sub", nullptr)) == IdTokenError::missing_claim);
  CHECK(error_of(with("sub", "")) == IdTokenError::missing_claim);
  CHECK(error_of(with("sub", json::string(std::string(256, 's')))) == IdTokenError::missing_claim);
  // A sub PostgreSQL could not store (NUL) is no subject.
  CHECK(error_of(with("sub", json::string(std::string("ab\0cd", 5)))) == IdTokenError::missing_claim);
  // RFC 7519 NumericDates may be fractional: floored.
  CHECK(std::holds_alternative<IdTokenClaims>(with("exp", static_cast<double>(kNowSeconds) + 600.75)));
  CHECK(error_of(with("exp", -1)) == IdTokenError::missing_claim);
  CHECK(error_of(with("exp", "tomorrow")) == IdTokenError::missing_claim);
  CHECK(error_of(with("aud", nullptr)) == IdTokenError::missing_claim);

  // A flow always has a nonce: an empty expected one never matches.
  IdTokenExpectations no_nonce = expectations();
  no_nonce.nonce = "";
  json::object empty_nonce = good_claims();
  empty_nonce["nonce"] = "";
  CHECK(error_of(check(make_token(rsa_key(), empty_nonce), keys, no_nonce)) == IdTokenError::wrong_nonce);
}

TEST_CASE("A provider's name claim is cut to 200 bytes of clean UTF-8", "[auth][oidc]") {
  const KeySet keys = published({&rsa_key()});
  json::object c = good_claims();
  c["name"] = json::string(std::string("Ada\0", 4) + std::string(300, 'x'));
  const auto claims = std::get<IdTokenClaims>(check(make_token(rsa_key(), c), keys));
  CHECK(claims.name.size() == 200);
  CHECK(claims.name.starts_with("Ada?x"));
}

TEST_CASE("email_verified counts only when the provider says true", "[auth][oidc]") {
  const KeySet keys = published({&rsa_key()});
  auto verified = [&](json::value v) {
    json::object c = good_claims();
    if (v.is_null())
      c.erase("email_verified");
    else
      c["email_verified"] = std::move(v);
    return std::get<IdTokenClaims>(check(make_token(rsa_key(), c), keys)).email_verified;
  };
  CHECK(verified(true));
  CHECK(verified("true"));
  CHECK_FALSE(verified(false));
  CHECK_FALSE(verified("false"));
  CHECK_FALSE(verified(1));
  CHECK_FALSE(verified(nullptr));
}

TEST_CASE("Malformed ID tokens are refused as malformed", "[auth][oidc]") {
  const KeySet keys = published({&rsa_key()});
  const std::string good = make_token(rsa_key(), good_claims());
  for (const std::string& bad : {std::string(), std::string("a.b"), good + ".x", good + "=", std::string("..."),
                                 std::string(kMaxIdTokenBytes + 1, 'a')})
    CHECK(error_of(check(bad, keys)) == IdTokenError::malformed);
  const std::string not_json = crypto::base64url_encode("[1]") + good.substr(good.find('.'));
  CHECK(error_of(check(not_json, keys)) == IdTokenError::malformed);
}

TEST_CASE("A key set skips keys it cannot use and refuses what is not a key set", "[auth][oidc]") {
  const TestKey weak = TestKey::rsa("weak", 1024);
  json::object enc = rsa_key().jwk();
  enc["kid"] = "enc";
  enc["use"] = "enc";
  json::object wrong_alg = rsa_key().jwk();
  wrong_alg["kid"] = "wrong-alg";
  wrong_alg["alg"] = "RS512";
  json::object off_curve = ec_key().jwk();
  off_curve["kid"] = "off-curve";
  off_curve["y"] = crypto::base64url_encode(std::string(32, '\x01'));
  json::object other_curve = ec_key().jwk();
  other_curve["kid"] = "p384";
  other_curve["crv"] = "P-384";
  json::object symmetric{{"kty", "oct"}, {"kid", "hmac"}, {"k", "c2VjcmV0"}};
  json::object bad_base64 = rsa_key().jwk();
  bad_base64["kid"] = "bad";
  bad_base64["n"] = "not base64!";
  json::array list{weak.jwk(), enc, wrong_alg, off_curve, other_curve, symmetric, bad_base64, 42, rsa_key().jwk()};
  const KeySet keys = KeySet::parse(json::serialize(json::object{{"keys", list}}));
  CHECK(keys.size() == 1);
  CHECK(keys.find("r1", "RS256") != nullptr);
  CHECK(keys.find("r1", "ES256") == nullptr);
  for (const char* kid : {"weak", "enc", "wrong-alg", "off-curve", "p384", "hmac", "bad"})
    CHECK(keys.find(kid, "RS256") == nullptr);

  CHECK_THROWS_AS(KeySet::parse("[]"), std::invalid_argument);
  CHECK_THROWS_AS(KeySet::parse(R"({"keys": {}})"), std::invalid_argument);
  CHECK_THROWS_AS(KeySet::parse("not json"), std::invalid_argument);
  CHECK(KeySet::parse(R"({"keys": []})").size() == 0);
}

TEST_CASE("A key set keeps at most kMaxKeys keys and looks at no more than kMaxExamined entries", "[auth][oidc]") {
  auto parse = [](const json::array& list) { return KeySet::parse(json::serialize(json::object{{"keys", list}})); };
  // Many usable keys: the first kMaxKeys are kept.
  json::array many;
  for (size_t i = 0; i < KeySet::kMaxKeys + 3; ++i) {
    json::object k = ec_key().jwk();
    k["kid"] = "e" + std::to_string(i);
    many.push_back(k);
  }
  const KeySet capped = parse(many);
  CHECK(capped.size() == KeySet::kMaxKeys);
  CHECK(capped.find("e" + std::to_string(KeySet::kMaxKeys - 1), "ES256") != nullptr);
  CHECK(capped.find("e" + std::to_string(KeySet::kMaxKeys), "ES256") == nullptr);

  // Entries it cannot use count too: a key after kMaxExamined of them is
  // never reached, one just before the bound still is.
  json::object unusable = rsa_key().jwk();
  unusable["use"] = "enc";
  auto after = [&](size_t skipped) {
    json::array list;
    for (size_t i = 0; i < skipped; ++i) list.push_back(i % 2 ? json::value(unusable) : json::value(42));
    list.push_back(rsa_key().jwk());
    return parse(list);
  };
  CHECK(after(KeySet::kMaxExamined - 1).find("r1", "RS256") != nullptr);
  CHECK(after(KeySet::kMaxExamined).size() == 0);
}

TEST_CASE("PKCE S256 matches RFC 7636's example", "[auth][oidc]") {
  CHECK(s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST_CASE("Return paths after an OpenID Connect sign-in stay on the web app", "[auth][oidc]") {
  CHECK(safe_return_path("/inbox?fan=12") == "/inbox?fan=12");
  CHECK(safe_return_path("/") == "/");
  for (const std::string& bad : {std::string(""), std::string("https://evil.example"), std::string("//evil.example"),
                                 std::string("/\\evil.example"), std::string("/a b"), std::string("/a\r\nSet-Cookie: x"),
                                 std::string("inbox"), std::string("/\xFF"), "/" + std::string(600, 'a')})
    CHECK(safe_return_path(bad) == "/");
}

TEST_CASE("Provider URLs must be https, or http on loopback", "[auth][oidc]") {
  CHECK(acceptable_provider_url("https://accounts.google.com"));
  CHECK(acceptable_provider_url("http://127.0.0.1:4000"));
  CHECK(acceptable_provider_url("http://localhost/oidc"));
  CHECK(acceptable_provider_url("http://[::1]:8080/x"));
  CHECK_FALSE(acceptable_provider_url("http://id.example.com"));
  CHECK_FALSE(acceptable_provider_url("http://127.0.0.1.evil.com"));
  CHECK_FALSE(acceptable_provider_url("http://localhost.evil.com"));
  CHECK_FALSE(acceptable_provider_url("https://"));
  CHECK_FALSE(acceptable_provider_url("https://user@id.example.com"));
  CHECK_FALSE(acceptable_provider_url("ftp://id.example.com"));
  CHECK_FALSE(acceptable_provider_url("https://id.example.com/a b"));
}

TEST_CASE("percent_encode keeps only unreserved characters", "[http]") {
  CHECK(http::percent_encode("aZ09-._~") == "aZ09-._~");
  CHECK(http::percent_encode("openid email+x/y?=&") == "openid%20email%2Bx%2Fy%3F%3D%26");
  CHECK(http::percent_encode("\xC3\xA9") == "%C3%A9");
  CHECK(http::percent_decode(http::percent_encode("a b&c=d/é"), false) == "a b&c=d/é");
}

TEST_CASE("The oidc section: the google preset, generic providers and their checks", "[auth][oidc][config]") {
  auto parse = [](const std::string& yaml) { return test::parse_section("oidc:\n" + yaml, "oidc", parse_oidc_config); };
  const OidcConfig c = parse(R"(
  providers:
    google: {preset: google, client_id: g-id, client_secret: g-secret}
    okta: {issuer: "https://example.okta.com", client_id: o-id, client_secret: o-secret,
           scopes: [openid, email], token_auth: client_secret_post, display_name: Okta}
)");
  REQUIRE(c.providers.size() == 2);
  CHECK(c.providers[0].name == "google");
  CHECK(c.providers[0].issuer == "https://accounts.google.com");
  CHECK(c.providers[0].display_name == "Google");
  CHECK(c.providers[0].scopes == std::vector<std::string>{"openid", "email", "profile"});
  CHECK(c.providers[0].token_auth == TokenEndpointAuth::client_secret_basic);
  CHECK(c.providers[0].link_by_email);  // google's verified addresses are its own accounts'
  CHECK_FALSE(c.providers[1].link_by_email);
  CHECK(c.providers[1].issuer == "https://example.okta.com");
  CHECK(c.providers[1].token_auth == TokenEndpointAuth::client_secret_post);
  CHECK(c.providers[1].client_secret.reveal() == "o-secret");

  CHECK_THROWS_AS(parse("  providers: {x: {issuer: 'https://a.example', client_id: i}}"), config::ConfigError);
  CHECK_THROWS_AS(parse("  providers: {x: {issuer: 'http://a.example', client_id: i, client_secret: s}}"),
                  config::ConfigError);
  CHECK_THROWS_AS(parse("  providers: {x: {preset: facebook, client_id: i, client_secret: s}}"), config::ConfigError);
  CHECK_THROWS_AS(parse("  providers: {'Bad Name': {preset: google, client_id: i, client_secret: s}}"),
                  config::ConfigError);
  CHECK_THROWS_AS(parse("  providers: {g: {preset: google, client_id: i, client_secret: s, scopes: [email]}}"),
                  config::ConfigError);
  CHECK_THROWS_AS(parse("  providers: {g: {preset: google, client_id: i, client_secret: s, typo: 1}}"),
                  config::ConfigError);
}
