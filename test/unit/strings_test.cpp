// core/strings.hpp: join and clean_utf8.
#include <catch2/catch.hpp>

#include "huntaze/core/strings.hpp"

using huntaze::clean_utf8;

TEST_CASE("clean_utf8 keeps valid text and replaces what PostgreSQL would refuse", "[strings]") {
  CHECK(clean_utf8("plain ascii", 100) == "plain ascii");
  CHECK(clean_utf8("caf\xc3\xa9 \xf0\x9f\x98\x80", 100) == "caf\xc3\xa9 \xf0\x9f\x98\x80");
  CHECK(clean_utf8(std::string("a\0b", 3), 100) == "a?b");
  CHECK(clean_utf8("\xff", 100) == "\xef\xbf\xbd");
  CHECK(clean_utf8("\xc0\xaf", 100) == "\xef\xbf\xbd\xef\xbf\xbd");            // overlong '/'
  CHECK(clean_utf8("\xed\xa0\x80", 100) == "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // a surrogate
  CHECK(clean_utf8("\xf4\x90\x80\x80", 100).find("\xf4") == std::string::npos);  // above U+10FFFF
  CHECK(clean_utf8("ok \xe2\x82", 100) == "ok \xef\xbf\xbd\xef\xbf\xbd");        // cut short
}

TEST_CASE("clean_utf8 cuts at a character boundary within the limit", "[strings]") {
  CHECK(clean_utf8("abcdef", 4) == "abcd");
  CHECK(clean_utf8("ab\xc3\xa9", 3) == "ab");  // é would need 4 bytes
  CHECK(clean_utf8("", 0).empty());
  CHECK(huntaze::join({"a", "b"}) == "a, b");
}
