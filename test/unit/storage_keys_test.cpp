// Blob keys that cannot leave the store, and signed download links that
// break on any change and expire.
#include <catch2/catch.hpp>

#include <string>

#include "storage/blob_key.hpp"
#include "storage/signed_url.hpp"

using namespace huntaze::storage;

TEST_CASE("storage: keys are plain relative segments", "[storage]") {
  CHECK(valid_key("ws/0192d7a4-1b2c-7def-8123-456789abcdef/media/original.mp4"));
  CHECK(valid_key("a"));
  std::string longest(kMaxKeyBytes, 'a');
  for (size_t at = 100; at < longest.size(); at += 100) longest[at] = '/';  // segments of at most 111
  CHECK(valid_key(longest));

  CHECK_FALSE(valid_key(""));
  CHECK_FALSE(valid_key("/etc/passwd"));
  CHECK_FALSE(valid_key("ws/../../etc/passwd"));
  CHECK_FALSE(valid_key(".."));
  CHECK_FALSE(valid_key("ws/./x"));
  CHECK_FALSE(valid_key("ws//x"));
  CHECK_FALSE(valid_key("ws/x/"));
  CHECK_FALSE(valid_key("ws\\..\\x"));
  CHECK_FALSE(valid_key("ws/x y"));
  CHECK_FALSE(valid_key("ws/%2e%2e/x"));
  CHECK_FALSE(valid_key(std::string("ws/a\0b", 6)));
  CHECK_FALSE(valid_key("ws/caf\xc3\xa9"));
  CHECK_FALSE(valid_key(std::string(kMaxKeySegmentBytes + 1, 'a')));
  CHECK_FALSE(valid_key(std::string(kMaxKeyBytes + 1, 'a')));
}

TEST_CASE("storage: a key joined to the root stays under it", "[storage]") {
  const std::filesystem::path root = "/var/lib/huntaze/blobs";
  CHECK(path_under(root, "ws/1/original") == "/var/lib/huntaze/blobs/ws/1/original");
  CHECK_THROWS_AS(path_under(root, "../outside"), std::invalid_argument);
  CHECK_THROWS_AS(path_under(root, "/abs"), std::invalid_argument);
}

TEST_CASE("storage: a signed link works until it expires and breaks on any change", "[storage]") {
  const std::string secret = "0123456789abcdef0123456789abcdef";
  const std::string query = sign_download(secret, "ws/1/grid.jpg", 1'800'000'000);
  REQUIRE(query.rfind("expires=1800000000&sig=", 0) == 0);
  const std::string sig = query.substr(query.find("sig=") + 4);

  CHECK(check_download(secret, "ws/1/grid.jpg", "1800000000", sig, 1'799'999'999) == LinkCheck::ok);
  CHECK(check_download(secret, "ws/1/grid.jpg", "1800000000", sig, 1'800'000'000) == LinkCheck::expired);
  // Another key, a later time, another secret, a changed signature.
  CHECK(check_download(secret, "ws/2/grid.jpg", "1800000000", sig, 0) == LinkCheck::bad_signature);
  CHECK(check_download(secret, "ws/1/grid.jpg", "1900000000", sig, 0) == LinkCheck::bad_signature);
  CHECK(check_download("another secret of enough length!", "ws/1/grid.jpg", "1800000000", sig, 0) ==
        LinkCheck::bad_signature);
  std::string flipped = sig;
  flipped[3] = flipped[3] == 'A' ? 'B' : 'A';
  CHECK(check_download(secret, "ws/1/grid.jpg", "1800000000", flipped, 0) == LinkCheck::bad_signature);
  // An expired link with a forged signature is a bad signature, not "expired".
  CHECK(check_download(secret, "ws/1/grid.jpg", "1", flipped, 1'900'000'000) == LinkCheck::bad_signature);
  // Other spellings of the same time are not accepted.
  CHECK(check_download(secret, "ws/1/grid.jpg", "01800000000", sig, 0) == LinkCheck::malformed);
  CHECK(check_download(secret, "ws/1/grid.jpg", "+1800000000", sig, 0) == LinkCheck::malformed);
  CHECK(check_download(secret, "ws/1/grid.jpg", "1800000000 ", sig, 0) == LinkCheck::malformed);
  CHECK(check_download(secret, "ws/1/grid.jpg", "", sig, 0) == LinkCheck::malformed);
  CHECK(check_download(secret, "ws/1/grid.jpg", "1800000000", "", 0) == LinkCheck::malformed);
}
