// The token building blocks: base64url both ways (strict), standard padded
// base64 against RFC 4648's vectors, HMAC-SHA256 against RFC 4231,
// constant-time comparison, random bytes.
#include <catch2/catch.hpp>
#include <stdexcept>

#include "huntaze/core/crypto.hpp"
#include "huntaze/core/digest.hpp"

using namespace huntaze;

TEST_CASE("base64url round-trips every length and refuses other spellings", "[crypto]") {
  CHECK(crypto::base64url_encode("") == "");
  CHECK(crypto::base64url_encode("f") == "Zg");
  CHECK(crypto::base64url_encode("fo") == "Zm8");
  CHECK(crypto::base64url_encode("foo") == "Zm9v");
  CHECK(crypto::base64url_encode("\xfb\xff") == "-_8");
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t n = 0; n <= all.size(); n += 17) {
    const auto text = crypto::base64url_encode(all.substr(0, n));
    CHECK(crypto::base64url_decode(text) == all.substr(0, n));
  }
  CHECK_FALSE(crypto::base64url_decode("Zg=="));   // padding
  CHECK_FALSE(crypto::base64url_decode("Zm9v "));  // whitespace
  CHECK_FALSE(crypto::base64url_decode("+/8"));    // the other alphabet
  CHECK_FALSE(crypto::base64url_decode("Z"));      // no byte string has this length
  CHECK_FALSE(crypto::base64url_decode("Zh"));     // stray bits: a second spelling of "f"
  CHECK(crypto::base64url_decode("") == std::string());
  // Lengths a byte string can have, with one character outside the alphabet.
  CHECK_FALSE(crypto::base64url_decode(std::string("Zm9\0", 4)));  // NUL
  CHECK_FALSE(crypto::base64url_decode("Zm\xc3\xa9"));             // non-ASCII
  CHECK_FALSE(crypto::base64url_decode("Zm9."));                   // a JWT separator
  CHECK_FALSE(crypto::base64url_decode("Zm9 "));                   // whitespace ("Zm9v " has a bad length too)
}

TEST_CASE("standard base64 matches RFC 4648's test vectors, padded, in its own alphabet", "[crypto]") {
  // RFC 4648 §10.
  CHECK(crypto::base64_encode("") == "");
  CHECK(crypto::base64_encode("f") == "Zg==");
  CHECK(crypto::base64_encode("fo") == "Zm8=");
  CHECK(crypto::base64_encode("foo") == "Zm9v");
  CHECK(crypto::base64_encode("foob") == "Zm9vYg==");
  CHECK(crypto::base64_encode("fooba") == "Zm9vYmE=");
  CHECK(crypto::base64_encode("foobar") == "Zm9vYmFy");
  // The last two characters of the alphabet are '+' and '/', not '-' and '_'.
  CHECK(crypto::base64_encode("\xfb\xff") == "+/8=");
  CHECK(crypto::base64_encode("\xfb\xef\xbe") == "++++");
  CHECK(crypto::base64_encode("\xff\xff\xff") == "////");
  CHECK(crypto::base64_encode(std::string("\0", 1)) == "AA==");
  // Every length: the same digits as base64url, padded to a multiple of 4.
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t n = 0; n <= all.size(); ++n) {
    const std::string standard = crypto::base64_encode(all.substr(0, n));
    std::string url = crypto::base64url_encode(all.substr(0, n));
    for (char& c : url) c = c == '-' ? '+' : c == '_' ? '/' : c;
    CHECK(standard.size() == (n + 2) / 3 * 4);
    CHECK(standard.substr(0, url.size()) == url);
    CHECK(standard.find_first_not_of('=', url.size()) == std::string::npos);
  }
}

TEST_CASE("HMAC-SHA256 matches RFC 4231 test case 2", "[crypto]") {
  CHECK(to_hex(crypto::hmac_sha256("Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(to_hex(crypto::sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("constant_time_equal and random_bytes", "[crypto]") {
  CHECK(crypto::constant_time_equal("abc", "abc"));
  CHECK_FALSE(crypto::constant_time_equal("abc", "abd"));
  CHECK_FALSE(crypto::constant_time_equal("abc", "abcd"));
  CHECK(crypto::constant_time_equal("", ""));
  CHECK_FALSE(crypto::constant_time_equal("", "a"));
  const auto a = crypto::random_bytes(32), b = crypto::random_bytes(32);
  CHECK(a.size() == 32);
  CHECK(a != b);
  CHECK(crypto::random_bytes(0).empty());
  // Above what RAND_bytes can count: refused before anything is allocated,
  // never silently short of randomness.
  CHECK_THROWS_AS(crypto::random_bytes(size_t{1} << 32), std::length_error);
}

TEST_CASE("a streaming digest equals the one-shot digest however the input is cut", "[crypto]") {
  std::string data;
  for (int i = 0; i < 10000; ++i) data += static_cast<char>(i * 31 % 251);
  const std::string whole = to_hex(crypto::sha256(data));
  for (size_t piece : {size_t{1}, size_t{7}, size_t{64}, size_t{4096}, data.size()}) {
    StreamingDigest digest(DigestKind::sha256);
    for (size_t at = 0; at < data.size(); at += piece) digest.update(std::string_view(data).substr(at, piece));
    CHECK(to_hex(digest.finish()) == whole);
    CHECK_THROWS_AS(digest.update("more"), std::logic_error);
  }
  StreamingDigest empty(DigestKind::sha256);
  CHECK(to_hex(empty.finish()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
