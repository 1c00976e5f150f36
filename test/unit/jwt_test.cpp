// Access tokens: what sign() makes verifies, with key rotation; everything
// looser is refused with its reason (alg none, HS/RS confusion, wrong kid,
// expired, not yet valid, bad signature, truncated, wrong issuer/audience).
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "auth/jwt.hpp"
#include "huntaze/core/crypto.hpp"
#include "huntaze/core/time_format.hpp"

using namespace huntaze;
using namespace std::chrono_literals;
using auth::AccessClaims;
using auth::JwtCodec;
using auth::JwtConfig;
using auth::JwtError;

namespace {

const SysTime kNow = *parse_iso8601("2026-11-21T12:00:00Z");
const std::string kSecretA(40, 'a');
const std::string kSecretB(40, 'b');

JwtConfig config(std::vector<std::pair<std::string, std::string>> keys) {
  JwtConfig c;
  for (auto& [kid, secret] : keys) c.keys.push_back({kid, Secret(secret)});
  return c;
}

AccessClaims claims(SysTime issued = kNow, std::chrono::seconds ttl = 900s) {
  AccessClaims c;
  c.subject = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
  c.session = "0190a1b2-c3d4-7e5f-8a9b-00000000beef";
  c.token_id = "jti-1";
  c.issued_at = c.not_before = issued;
  c.expires_at = issued + ttl;
  return c;
}

JwtError error_of(const JwtCodec& codec, std::string_view token, SysTime now = kNow) {
  auto result = codec.verify(token, now);
  REQUIRE(std::holds_alternative<JwtError>(result));
  return std::get<JwtError>(result);
}

// A token with this header and payload, signed by HMAC with `secret`
// (or with the given signature segment).
std::string forge(const boost::json::object& header, const boost::json::object& payload, const std::string& secret) {
  const std::string input = crypto::base64url_encode(boost::json::serialize(header)) + "." +
                            crypto::base64url_encode(boost::json::serialize(payload));
  return input + "." + crypto::base64url_encode(crypto::hmac_sha256(secret, input));
}

boost::json::object good_payload() {
  return {{"iss", "huntaze"}, {"aud", "huntaze-api"}, {"sub", "user"}, {"sid", "s"}, {"jti", "j"},
          {"iat", 1795262400}, {"nbf", 1795262400}, {"exp", 1795263300}};  // kNow, kNow + 15 min
}

}  // namespace

TEST_CASE("jwt: a signed token verifies and carries its claims", "[jwt]") {
  JwtCodec codec(config({{"k1", kSecretA}}));
  const auto token = codec.sign(claims());
  auto result = codec.verify(token, kNow + 60s);
  REQUIRE(std::holds_alternative<AccessClaims>(result));
  const auto& c = std::get<AccessClaims>(result);
  CHECK(c.subject == claims().subject);
  CHECK(c.session == claims().session);
  CHECK(c.token_id == "jti-1");
  CHECK(c.issued_at == kNow);
  CHECK(c.expires_at == kNow + 900s);
  // The hand-made payload matches what sign() writes, so forge() is a fair stand-in.
  CHECK(std::holds_alternative<AccessClaims>(codec.verify(forge({{"alg", "HS256"}, {"kid", "k1"}}, good_payload(), kSecretA), kNow)));
}

TEST_CASE("jwt: keys rotate — the first signs, every configured key verifies", "[jwt]") {
  JwtCodec old_codec(config({{"k1", kSecretA}}));
  JwtCodec rotated(config({{"k2", kSecretB}, {"k1", kSecretA}}));
  JwtCodec retired(config({{"k2", kSecretB}}));
  const auto old_token = old_codec.sign(claims());
  const auto new_token = rotated.sign(claims());
  CHECK(std::holds_alternative<AccessClaims>(rotated.verify(old_token, kNow)));
  CHECK(std::holds_alternative<AccessClaims>(rotated.verify(new_token, kNow)));
  CHECK(std::holds_alternative<AccessClaims>(retired.verify(new_token, kNow)));
  CHECK(error_of(retired, old_token) == JwtError::unknown_key);
  CHECK(error_of(old_codec, new_token) == JwtError::unknown_key);
}

TEST_CASE("jwt: algorithms other than HS256 are refused before any key is used", "[jwt]") {
  JwtCodec codec(config({{"k1", kSecretA}}));
  auto payload = good_payload();
  // alg none with an empty signature, and with a signature anyway.
  const std::string unsigned_token = crypto::base64url_encode(R"({"alg":"none","kid":"k1"})") + "." +
                                     crypto::base64url_encode(boost::json::serialize(payload)) + ".";
  CHECK(error_of(codec, unsigned_token) == JwtError::unsupported_alg);
  CHECK(error_of(codec, forge({{"alg", "none"}, {"kid", "k1"}}, payload, kSecretA)) == JwtError::unsupported_alg);
  CHECK(error_of(codec, forge({{"alg", "None"}, {"kid", "k1"}}, payload, kSecretA)) == JwtError::unsupported_alg);
  // HS/RS confusion: an "RS256" token whose signature is an HMAC with our secret.
  CHECK(error_of(codec, forge({{"alg", "RS256"}, {"kid", "k1"}}, payload, kSecretA)) == JwtError::unsupported_alg);
  CHECK(error_of(codec, forge({{"alg", "HS512"}, {"kid", "k1"}}, payload, kSecretA)) == JwtError::unsupported_alg);
  CHECK(error_of(codec, forge({{"kid", "k1"}}, payload, kSecretA)) == JwtError::unsupported_alg);
  CHECK(error_of(codec, forge({{"alg", "HS256"}, {"kid", "k1"}, {"crit", boost::json::array{"exp"}}}, payload,
                              kSecretA)) == JwtError::unsupported_alg);
}

TEST_CASE("jwt: key ids must name a configured key", "[jwt]") {
  JwtCodec codec(config({{"k1", kSecretA}}));
  CHECK(error_of(codec, forge({{"alg", "HS256"}}, good_payload(), kSecretA)) == JwtError::unknown_key);
  CHECK(error_of(codec, forge({{"alg", "HS256"}, {"kid", "k9"}}, good_payload(), kSecretA)) == JwtError::unknown_key);
  CHECK(error_of(codec, forge({{"alg", "HS256"}, {"kid", 1}}, good_payload(), kSecretA)) == JwtError::unknown_key);
}

TEST_CASE("jwt: signatures by another key, or altered tokens, are refused", "[jwt]") {
  JwtCodec codec(config({{"k1", kSecretA}}));
  CHECK(error_of(codec, forge({{"alg", "HS256"}, {"kid", "k1"}}, good_payload(), kSecretB)) == JwtError::bad_signature);
  const auto token = codec.sign(claims());
  const size_t dot = token.rfind('.');
  // One character of the payload changed.
  std::string tampered = token;
  tampered[dot - 3] = tampered[dot - 3] == 'A' ? 'B' : 'A';
  CHECK(error_of(codec, tampered) == JwtError::bad_signature);
  // The payload swapped for a more generous one, signature kept.
  auto generous = good_payload();
  generous["exp"] = 4102444800;
  const std::string swapped = token.substr(0, token.find('.') + 1) +
                              crypto::base64url_encode(boost::json::serialize(generous)) + token.substr(dot);
  CHECK(error_of(codec, swapped) == JwtError::bad_signature);
  // The signature (43 characters) cut to 40, a whole number of bytes, or dropped.
  CHECK(error_of(codec, token.substr(0, token.size() - 3)) == JwtError::bad_signature);
  CHECK(error_of(codec, token.substr(0, dot + 1)) == JwtError::bad_signature);
}

TEST_CASE("jwt: malformed and truncated tokens are refused", "[jwt]") {
  JwtCodec codec(config({{"k1", kSecretA}}));
  const auto token = codec.sign(claims());
  CHECK(error_of(codec, "") == JwtError::malformed);
  CHECK(error_of(codec, "abc") == JwtError::malformed);
  CHECK(error_of(codec, token.substr(0, token.rfind('.'))) == JwtError::malformed);  // two segments
  CHECK(error_of(codec, token + ".x") == JwtError::malformed);                      // four
  CHECK(error_of(codec, token.substr(0, 10)) == JwtError::malformed);
  CHECK(error_of(codec, token + "=") == JwtError::malformed);  // padding
  CHECK(error_of(codec, "e30." + token.substr(token.find('.') + 1)) == JwtError::unsupported_alg);  // header {}
  CHECK(error_of(codec, crypto::base64url_encode("[1]") + ".e30.") == JwtError::malformed);
  CHECK(error_of(codec, std::string(auth::kMaxTokenBytes + 1, 'a')) == JwtError::malformed);
  CHECK(error_of(codec, forge({{"alg", "HS256"}, {"kid", "k1"}, {"typ", "at+jwt"}}, good_payload(), kSecretA)) ==
        JwtError::malformed);
}

TEST_CASE("jwt: exp, nbf and iat are checked with the leeway", "[jwt]") {
  JwtCodec codec(config({{"k1", kSecretA}}));  // leeway 30 s
  const auto token = codec.sign(claims(kNow, 900s));
  CHECK(std::holds_alternative<AccessClaims>(codec.verify(token, kNow + 900s + 29s)));
  CHECK(error_of(codec, token, kNow + 900s + 30s) == JwtError::expired);
  CHECK(std::holds_alternative<AccessClaims>(codec.verify(token, kNow - 30s)));
  CHECK(error_of(codec, token, kNow - 31s) == JwtError::not_yet_valid);
  auto later = good_payload();
  later["nbf"] = 1795262400 + 3600;
  CHECK(error_of(codec, forge({{"alg", "HS256"}, {"kid", "k1"}}, later, kSecretA)) == JwtError::not_yet_valid);
}

TEST_CASE("jwt: issuer, audience and required claims", "[jwt]") {
  JwtCodec codec(config({{"k1", kSecretA}}));
  const boost::json::object header{{"alg", "HS256"}, {"kid", "k1"}};
  auto p = good_payload();
  p["iss"] = "someone-else";
  CHECK(error_of(codec, forge(header, p, kSecretA)) == JwtError::wrong_issuer);
  p = good_payload();
  p["aud"] = "another-api";
  CHECK(error_of(codec, forge(header, p, kSecretA)) == JwtError::wrong_audience);
  p["aud"] = boost::json::array{"another-api", "huntaze-api"};
  CHECK(std::holds_alternative<AccessClaims>(codec.verify(forge(header, p, kSecretA), kNow)));
  for (const char* claim : {"sub", "sid", "jti", "iat", "exp"}) {
    p = good_payload();
    p.erase(claim);
    CHECK(error_of(codec, forge(header, p, kSecretA)) == JwtError::missing_claim);
  }
  p = good_payload();
  p["exp"] = "1795263300";  // a string, not a number
  CHECK(error_of(codec, forge(header, p, kSecretA)) == JwtError::missing_claim);
}

TEST_CASE("jwt: configuration mistakes are refused at start", "[jwt]") {
  CHECK_THROWS_AS(JwtCodec(JwtConfig{}), std::invalid_argument);
  CHECK_THROWS_AS(JwtCodec(config({{"k1", "short"}})), std::invalid_argument);
  CHECK_THROWS_AS(JwtCodec(config({{"", kSecretA}})), std::invalid_argument);
  CHECK_THROWS_AS(JwtCodec(config({{"k1", kSecretA}, {"k1", kSecretB}})), std::invalid_argument);
  CHECK_NOTHROW(JwtCodec(config({{std::string(64, 'k'), kSecretA}})));
  CHECK_THROWS_AS(JwtCodec(config({{std::string(65, 'k'), kSecretA}})), std::invalid_argument);
  // Header and payload are JSON, which cannot carry invalid UTF-8 back.
  CHECK_THROWS_AS(JwtCodec(config({{"k\xff", kSecretA}})), std::invalid_argument);
  JwtConfig bad_issuer = config({{"k1", kSecretA}});
  bad_issuer.issuer = "huntaze\xc3";
  CHECK_THROWS_AS(JwtCodec(bad_issuer), std::invalid_argument);
}

TEST_CASE("jwt: sign refuses claims that no verify could accept", "[jwt]") {
  JwtCodec codec(config({{"k1", kSecretA}}));
  // Valid UTF-8 beyond ASCII is fine and comes back as it went in.
  auto c = claims();
  c.subject = "\xc3\xa9lodie-\xf0\x9f\x98\x80";
  auto result = codec.verify(codec.sign(c), kNow);
  REQUIRE(std::holds_alternative<AccessClaims>(result));
  CHECK(std::get<AccessClaims>(result).subject == c.subject);

  c = claims();
  c.subject.clear();
  CHECK_THROWS_AS(codec.sign(c), std::invalid_argument);
  c = claims();
  c.subject = "user-\xff";  // not UTF-8: the payload would not parse back
  CHECK_THROWS_AS(codec.sign(c), std::invalid_argument);
  c = claims();
  c.session = "\xed\xa0\x80";  // a UTF-16 surrogate
  CHECK_THROWS_AS(codec.sign(c), std::invalid_argument);
  c = claims();
  c.token_id = std::string("jti\0x", 5);
  CHECK_THROWS_AS(codec.sign(c), std::invalid_argument);
  c = claims();
  c.issued_at = c.not_before = SysTime(std::chrono::seconds(-1));
  CHECK_THROWS_AS(codec.sign(c), std::invalid_argument);
  c = claims();
  c.expires_at = SysTime(std::chrono::seconds(253402300800));  // year 10000
  CHECK_THROWS_AS(codec.sign(c), std::invalid_argument);
  c = claims();
  c.token_id = std::string(auth::kMaxTokenBytes, 'j');
  CHECK_THROWS_AS(codec.sign(c), std::invalid_argument);
}

TEST_CASE("jwt: a correctly signed token with unreadable claims is still refused", "[jwt]") {
  JwtCodec codec(config({{"k1", kSecretA}}));
  const boost::json::object header{{"alg", "HS256"}, {"kid", "k1"}};
  auto p = good_payload();
  p["nbf"] = "1795262400";  // present, but not a number
  CHECK(error_of(codec, forge(header, p, kSecretA)) == JwtError::missing_claim);
  p = good_payload();
  p["exp"] = 253402300800;  // after 9999
  CHECK(error_of(codec, forge(header, p, kSecretA)) == JwtError::missing_claim);
  p = good_payload();
  p["iat"] = -1;
  CHECK(error_of(codec, forge(header, p, kSecretA)) == JwtError::missing_claim);
  p = good_payload();
  p["iat"] = 1795262400.0;  // a double, not whole seconds
  CHECK(error_of(codec, forge(header, p, kSecretA)) == JwtError::missing_claim);
  p = good_payload();
  p["sub"] = "";
  CHECK(error_of(codec, forge(header, p, kSecretA)) == JwtError::missing_claim);
  // A payload that is JSON but not an object, properly signed.
  const std::string input = crypto::base64url_encode(boost::json::serialize(header)) + "." +
                            crypto::base64url_encode("[1]");
  CHECK(error_of(codec, input + "." + crypto::base64url_encode(crypto::hmac_sha256(kSecretA, input))) ==
        JwtError::malformed);
}

TEST_CASE("jwt: the 4 KiB limit holds for correctly signed tokens too", "[jwt]") {
  JwtCodec codec(config({{"k1", kSecretA}}));
  const boost::json::object header{{"alg", "HS256"}, {"kid", "k1"}};
  std::string largest_allowed, too_large;
  for (size_t n = 2000; too_large.empty(); ++n) {
    auto p = good_payload();
    p["jti"] = std::string(n, 'j');
    const std::string token = forge(header, p, kSecretA);
    (token.size() <= auth::kMaxTokenBytes ? largest_allowed : too_large) = token;
  }
  CHECK(largest_allowed.size() > auth::kMaxTokenBytes - 4);
  CHECK(std::holds_alternative<AccessClaims>(codec.verify(largest_allowed, kNow)));
  CHECK(error_of(codec, too_large) == JwtError::malformed);
}
