// libFuzzer target: access tokens (src/auth/jwt.hpp) and the strict base64url
// decoder under them (huntaze/core/crypto.hpp).
//
// The input is used three ways:
// 1. as a token for JwtCodec::verify with a fixed key at a fixed time: it
//    never throws, and anything it accepts is what sign() makes of the claims
//    it returned, byte for byte. (verify() also takes some spellings sign()
//    does not write, such as no typ or another key order, but only from a
//    holder of the key: the fuzzer cannot sign, so it never gets there);
// 2. as base64url text: what decodes encodes back to the same text (one
//    spelling per byte string), and any bytes survive encode then decode;
// 3. as claims (three times, then sub, sid and jti separated by 0x1F): sign()
//    either refuses them with std::invalid_argument or makes a token that
//    verify() accepts at the latest of iat and nbf, with the same claims in
//    whole seconds, unless it has expired by then.
//
// Seeds: test/fuzz/corpus/jwt/. Built as `jwt_fuzz` with -DHUNTAZE_FUZZ=ON
// (clang); replayed by `fuzz_replay` in every build.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>

#include "auth/jwt.hpp"
#include "fuzz_check.hpp"
#include "huntaze/core/crypto.hpp"

namespace {

using namespace huntaze;
using std::chrono::seconds;

// The key the seed corpus was signed with. Valid seeds were issued at
// kNowSeconds with a 15-minute lifetime, so they verify at kNowSeconds.
constexpr std::string_view kKid = "fuzz";
constexpr std::string_view kSecret = "fuzz-secret-0123456789-abcdefghijklmnop";
constexpr int64_t kNowSeconds = 1795262400;  // 2026-11-21T12:00:00Z

const auth::JwtCodec& codec() {
  static const auth::JwtCodec instance([] {
    auth::JwtConfig config;
    config.keys.push_back({std::string(kKid), Secret(std::string(kSecret))});
    return config;
  }());
  return instance;
}

SysTime at(int64_t s) { return SysTime(seconds(s)); }

bool same_claims(const auth::AccessClaims& a, const auth::AccessClaims& b) {
  return a.subject == b.subject && a.session == b.session && a.token_id == b.token_id &&
         a.issued_at == b.issued_at && a.not_before == b.not_before && a.expires_at == b.expires_at;
}

// 1. Whatever verify() accepts, sign() makes again, byte for byte.
void check_verify(std::string_view token, SysTime now) {
  const auto result = codec().verify(token, now);
  if (const auto* claims = std::get_if<auth::AccessClaims>(&result)) {
    FUZZ_CHECK(token.size() <= auth::kMaxTokenBytes);
    FUZZ_CHECK(codec().sign(*claims) == token);
  } else if (token.size() > auth::kMaxTokenBytes) {
    FUZZ_CHECK(std::get<auth::JwtError>(result) == auth::JwtError::malformed);
  }
}

// 2. One spelling per byte string.
void check_base64url(std::string_view text) {
  if (const auto bytes = crypto::base64url_decode(text)) FUZZ_CHECK(crypto::base64url_encode(*bytes) == text);
  const auto back = crypto::base64url_decode(crypto::base64url_encode(text));
  FUZZ_CHECK(back && *back == text);
}

int64_t read_int64(const uint8_t* p) {
  uint64_t v = 0;
  std::memcpy(&v, p, sizeof v);
  return static_cast<int64_t>(v);
}

// A time in seconds within +-3e11 (past both ends of what a token may carry,
// far within what SysTime holds), plus up to a second of microseconds.
SysTime time_of(int64_t raw) {
  const int64_t range = 600'000'000'000;
  const int64_t s = static_cast<int64_t>(static_cast<uint64_t>(raw) % static_cast<uint64_t>(range)) - range / 2;
  const int64_t us = static_cast<int64_t>(static_cast<uint64_t>(raw) / static_cast<uint64_t>(range) % 1'000'000);
  return SysTime(seconds(s)) + std::chrono::microseconds(us);
}

// 3. Whatever sign() makes, verify() accepts while it is valid.
void check_round_trip(std::string_view input) {
  if (input.size() < 24) return;
  auth::AccessClaims claims;
  const auto* p = reinterpret_cast<const uint8_t*>(input.data());
  claims.issued_at = time_of(read_int64(p));
  claims.not_before = time_of(read_int64(p + 8));
  claims.expires_at = time_of(read_int64(p + 16));
  std::string_view rest = input.substr(24);
  std::string* fields[] = {&claims.subject, &claims.session, &claims.token_id};
  for (size_t i = 0; i < 3; ++i) {
    const size_t sep = i < 2 ? rest.find('\x1f') : std::string_view::npos;
    *fields[i] = std::string(rest.substr(0, sep));
    rest = sep == std::string_view::npos ? std::string_view{} : rest.substr(sep + 1);
  }

  std::string token;
  try {
    token = codec().sign(claims);
  } catch (const std::invalid_argument&) {
    return;  // claims no verify() could accept
  }
  auto whole = [](SysTime t) { return std::chrono::floor<seconds>(t); };
  const SysTime now = std::max(whole(claims.issued_at), whole(claims.not_before));
  const auto result = codec().verify(token, now);
  if (whole(claims.expires_at) + seconds(30) > now) {  // the default leeway
    const auto* back = std::get_if<auth::AccessClaims>(&result);
    FUZZ_CHECK(back != nullptr);
    auth::AccessClaims expected = claims;
    expected.issued_at = whole(claims.issued_at);
    expected.not_before = whole(claims.not_before);
    expected.expires_at = whole(claims.expires_at);
    FUZZ_CHECK(same_claims(*back, expected));
  } else {
    FUZZ_CHECK(std::holds_alternative<auth::JwtError>(result));
    FUZZ_CHECK(std::get<auth::JwtError>(result) == auth::JwtError::expired);
  }
  check_verify(token, now);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_verify(input, at(kNowSeconds));
  check_base64url(input);
  check_round_trip(input);
  return 0;
}
