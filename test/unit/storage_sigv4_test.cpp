// AWS Signature Version 4 for S3 against the examples AWS publishes in the S3
// API reference ("Signature Calculations for the Authorization Header" and
// "Authenticating Requests: Using Query Parameters"): the canonical requests,
// strings to sign and signatures printed there, byte for byte.
#include <catch2/catch.hpp>
#include <chrono>
#include <stdexcept>
#include <string>

#include "huntaze/core/digest.hpp"
#include "storage/sigv4.hpp"

using namespace huntaze;
using namespace huntaze::storage;

namespace {

constexpr std::string_view kAccessKey = "AKIAIOSFODNN7EXAMPLE";
constexpr std::string_view kSecretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kHost = "examplebucket.s3.amazonaws.com";

// 2013-05-24T00:00:00Z, the time of every AWS example.
std::chrono::system_clock::time_point example_time() {
  return std::chrono::sys_days{std::chrono::year{2013} / 5 / 24};
}

sigv4::Credentials example_credentials() {
  return {kAccessKey, kSecretKey, "us-east-1"};
}

std::string signature_of(const std::string& authorization) {
  const auto at = authorization.find("Signature=");
  return at == std::string::npos ? "" : authorization.substr(at + 10);
}

}  // namespace

TEST_CASE("storage sigv4: dates and scope are in the AWS format", "[storage]") {
  CHECK(sigv4::amz_date(example_time()) == "20130524T000000Z");
  CHECK(sigv4::amz_date(example_time() + std::chrono::hours(13) + std::chrono::minutes(4) + std::chrono::seconds(5) +
                        std::chrono::milliseconds(999)) == "20130524T130405Z");
  CHECK(sigv4::credential_scope("20130524", "us-east-1") == "20130524/us-east-1/s3/aws4_request");
}

TEST_CASE("storage sigv4: encodes everything but the unreserved characters", "[storage]") {
  CHECK(sigv4::uri_encode("AZaz09-._~") == "AZaz09-._~");
  CHECK(sigv4::uri_encode("a b+c/d=e&f$") == "a%20b%2Bc%2Fd%3De%26f%24");
  CHECK(sigv4::uri_encode("a/b c", /*encode_slash=*/false) == "a/b%20c");
  CHECK(sigv4::uri_encode("\xc3\xa9\x7f") == "%C3%A9%7F");
  CHECK(sigv4::canonical_uri("/my bucket/x$y/z") == "/my%20bucket/x%24y/z");
  CHECK(sigv4::canonical_uri("") == "/");
}

TEST_CASE("storage sigv4: canonical query sorts by encoded name and keeps empty values", "[storage]") {
  const sigv4::Params query = {
      {"prefix", "J"}, {"max-keys", "2"}, {"uploads", ""}, {"X-Amz-Date", "x"}, {"a b", "c/d"}};
  CHECK(sigv4::canonical_query(query) == "X-Amz-Date=x&a%20b=c%2Fd&max-keys=2&prefix=J&uploads=");
}

TEST_CASE("storage sigv4: signs the AWS GET object example with a range", "[storage]") {
  sigv4::Request r;
  r.method = "GET";
  r.path = "/test.txt";
  r.headers = {{"Host", std::string(kHost)}, {"Range", "bytes=0-9"}};
  sigv4::add_auth_headers(r, example_time(), sigv4::kEmptyPayloadHash);

  const std::string canonical =
      "GET\n"
      "/test.txt\n"
      "\n"
      "host:examplebucket.s3.amazonaws.com\n"
      "range:bytes=0-9\n"
      "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
      "x-amz-date:20130524T000000Z\n"
      "\n"
      "host;range;x-amz-content-sha256;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  CHECK(sigv4::canonical_request(r) == canonical);
  CHECK(sigv4::string_to_sign("20130524T000000Z", "20130524/us-east-1/s3/aws4_request", canonical) ==
        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
        "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  CHECK(sigv4::authorization(r, example_credentials(), example_time()) ==
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST_CASE("storage sigv4: signs the AWS PUT object example with an encoded key and a signed payload", "[storage]") {
  const std::string payload = "Welcome to Amazon S3.";
  const std::string payload_hash = hex_digest(DigestKind::sha256, payload);
  REQUIRE(payload_hash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");

  sigv4::Request r;
  r.method = "PUT";
  r.path = "/test$file.text";
  // Header names and order as a client might send them: signing sorts them.
  r.headers = {{"x-amz-storage-class", "REDUCED_REDUNDANCY"},
               {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
               {"Host", std::string(kHost)}};
  sigv4::add_auth_headers(r, example_time(), payload_hash);

  CHECK(sigv4::canonical_request(r) ==
        "PUT\n"
        "/test%24file.text\n"
        "\n"
        "date:Fri, 24 May 2013 00:00:00 GMT\n"
        "host:examplebucket.s3.amazonaws.com\n"
        "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
        "x-amz-date:20130524T000000Z\n"
        "x-amz-storage-class:REDUCED_REDUNDANCY\n"
        "\n"
        "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
        "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  CHECK(hex_digest(DigestKind::sha256, sigv4::canonical_request(r)) ==
        "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  CHECK(sigv4::authorization(r, example_credentials(), example_time()) ==
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"
        "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST_CASE("storage sigv4: signs the AWS GET bucket lifecycle example with a valueless parameter", "[storage]") {
  sigv4::Request r;
  r.method = "GET";
  r.path = "/";
  r.query = {{"lifecycle", ""}};
  r.headers = {{"host", std::string(kHost)}};
  sigv4::add_auth_headers(r, example_time(), sigv4::kEmptyPayloadHash);

  CHECK(sigv4::canonical_request(r) ==
        "GET\n"
        "/\n"
        "lifecycle=\n"
        "host:examplebucket.s3.amazonaws.com\n"
        "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
        "x-amz-date:20130524T000000Z\n"
        "\n"
        "host;x-amz-content-sha256;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(hex_digest(DigestKind::sha256, sigv4::canonical_request(r)) ==
        "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca");
  CHECK(signature_of(sigv4::authorization(r, example_credentials(), example_time())) ==
        "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST_CASE("storage sigv4: signs the AWS list objects example with sorted parameters", "[storage]") {
  sigv4::Request r;
  r.method = "GET";
  r.path = "/";
  r.query = {{"prefix", "J"}, {"max-keys", "2"}};
  r.headers = {{"host", std::string(kHost)}};
  sigv4::add_auth_headers(r, example_time(), sigv4::kEmptyPayloadHash);

  CHECK(sigv4::canonical_request(r) ==
        "GET\n"
        "/\n"
        "max-keys=2&prefix=J\n"
        "host:examplebucket.s3.amazonaws.com\n"
        "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
        "x-amz-date:20130524T000000Z\n"
        "\n"
        "host;x-amz-content-sha256;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(hex_digest(DigestKind::sha256, sigv4::canonical_request(r)) ==
        "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7");
  CHECK(signature_of(sigv4::authorization(r, example_credentials(), example_time())) ==
        "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST_CASE("storage sigv4: presigns the AWS example URL", "[storage]") {
  sigv4::Request r;
  r.method = "GET";
  r.path = "/test.txt";
  r.headers = {{"host", std::string(kHost)}};
  const std::string query = sigv4::presign_query(r, example_credentials(), example_time(), 86400);
  CHECK(query ==
        "X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
        "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST_CASE("storage sigv4: presigned URLs sign their extra parameters and headers", "[storage]") {
  sigv4::Request r;
  r.method = "GET";
  r.path = "/test.txt";
  r.headers = {{"host", std::string(kHost)}};
  const std::string plain = sigv4::presign_query(r, example_credentials(), example_time(), 86400);

  sigv4::Request named = r;
  named.query = {{"response-content-disposition", "attachment; filename=\"a b.txt\""}};
  const std::string with_name = sigv4::presign_query(named, example_credentials(), example_time(), 86400);
  // The parameter is in the URL, encoded, after the X-Amz- ones (byte order),
  // and it changes the signature.
  CHECK(with_name.find("&X-Amz-SignedHeaders=host&response-content-disposition="
                       "attachment%3B%20filename%3D%22a%20b.txt%22&X-Amz-Signature=") != std::string::npos);
  CHECK(with_name.substr(with_name.size() - 64) != plain.substr(plain.size() - 64));

  sigv4::Request put = r;
  put.method = "PUT";
  put.headers.emplace_back("Content-Type", "video/mp4");
  const std::string upload = sigv4::presign_query(put, example_credentials(), example_time(), 600);
  CHECK(upload.find("&X-Amz-Expires=600&X-Amz-SignedHeaders=content-type%3Bhost&") != std::string::npos);

  // A different secret, time or lifetime is a different signature.
  const sigv4::Credentials other{kAccessKey, "another-secret", "us-east-1"};
  CHECK(sigv4::presign_query(r, other, example_time(), 86400) != plain);
  CHECK(sigv4::presign_query(r, example_credentials(), example_time(), 86399).substr(plain.size() - 64) !=
        plain.substr(plain.size() - 64));
}

TEST_CASE("storage sigv4: presigned URLs live one second to one week", "[storage]") {
  sigv4::Request r;
  r.method = "GET";
  r.path = "/k";
  r.headers = {{"host", "h"}};
  CHECK_NOTHROW(sigv4::presign_query(r, example_credentials(), example_time(), 1));
  CHECK_NOTHROW(sigv4::presign_query(r, example_credentials(), example_time(), 604800));
  CHECK_THROWS_AS(sigv4::presign_query(r, example_credentials(), example_time(), 0), std::invalid_argument);
  CHECK_THROWS_AS(sigv4::presign_query(r, example_credentials(), example_time(), 604801), std::invalid_argument);
}

TEST_CASE("storage sigv4: folds header whitespace and joins repeated headers", "[storage]") {
  sigv4::Request r;
  r.method = "GET";
  r.path = "/";
  r.headers = {{"Host", "  h  "}, {"X-Amz-Meta-A", "one   two\t three "}, {"x-amz-meta-a", "again"}};
  CHECK(sigv4::canonical_request(r) == "GET\n/\n\nhost:h\nx-amz-meta-a:one two three,again\n\nhost;x-amz-meta-a\n" +
                                           std::string(sigv4::kEmptyPayloadHash));
  CHECK(sigv4::signed_headers(r) == "host;x-amz-meta-a");
}
