// The S3 store's pure pieces: its config checks, endpoint parsing, object
// locations, the Content-Disposition of downloads, the hand-read XML, and the
// presigned URLs it builds (which need no server).
#include <catch2/catch.hpp>
#include <chrono>
#include <stdexcept>
#include <string>

#include "huntaze/core/compute.hpp"
#include "huntaze/http/client.hpp"
#include "storage/s3_blob_store.hpp"
#include "storage/s3_config.hpp"
#include "storage/s3_url.hpp"
#include "storage/s3_xml.hpp"

using namespace huntaze;
using namespace huntaze::storage;

namespace {

S3Config good_config() {
  S3Config c;
  c.endpoint = "https://s3.eu-west-1.amazonaws.com";
  c.region = "eu-west-1";
  c.bucket = "huntaze-media";
  c.access_key = "AKIAIOSFODNN7EXAMPLE";
  c.secret_key = Secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
  return c;
}

std::string validation_error(const S3Config& c) {
  try {
    validate(c);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

// Never called: the presigning tests need an HttpClient, not a request.
struct NoClient final : http::HttpClient {
  boost::asio::awaitable<http::ClientResponse> send(http::ClientRequest) override {
    throw std::logic_error("no requests in unit tests");
  }
};

}  // namespace

TEST_CASE("storage s3 config: the defaults with endpoint, bucket and keys are valid", "[storage]") {
  CHECK(validation_error(good_config()).empty());
  S3Config local = good_config();
  local.endpoint = "http://127.0.0.1:9000/";
  local.public_endpoint = "https://media.example.com";
  CHECK(validation_error(local).empty());
}

TEST_CASE("storage s3 config: each bad value is refused with the field named and no secret shown", "[storage]") {
  auto refused = [](auto change, const std::string& field) {
    S3Config c = good_config();
    change(c);
    const std::string error = validation_error(c);
    INFO(field << ": " << error);
    CHECK(error.find(field) != std::string::npos);
    CHECK(error.find("wJalrXUtnFEMI") == std::string::npos);
  };
  refused([](S3Config& c) { c.endpoint = ""; }, "endpoint");
  refused([](S3Config& c) { c.endpoint = "ftp://s3.example.com"; }, "endpoint");
  refused([](S3Config& c) { c.endpoint = "https://s3.example.com/bucket"; }, "endpoint");
  refused([](S3Config& c) { c.endpoint = "https://user@s3.example.com"; }, "endpoint");
  refused([](S3Config& c) { c.endpoint = "https://s3.example.com:99999"; }, "endpoint");
  refused([](S3Config& c) { c.public_endpoint = "media.example.com"; }, "public_endpoint");
  refused([](S3Config& c) { c.region = ""; }, "region");
  refused([](S3Config& c) { c.region = "eu west"; }, "region");
  refused([](S3Config& c) { c.bucket = "Huntaze"; }, "bucket");
  refused([](S3Config& c) { c.bucket = "ab"; }, "bucket");
  refused([](S3Config& c) { c.bucket = "a..b"; }, "bucket");
  refused([](S3Config& c) { c.bucket = "192.168.1.1"; }, "bucket");
  refused([](S3Config& c) { c.access_key = ""; }, "access_key");
  refused([](S3Config& c) { c.secret_key = Secret(); }, "secret_key");
  refused([](S3Config& c) { c.part_size = (5 << 20) - 1; }, "part_size");
  refused([](S3Config& c) { c.part_size = (size_t{5} << 30) + 1; }, "part_size");
  refused([](S3Config& c) { c.multipart_threshold = 0; }, "multipart_threshold");
  refused([](S3Config& c) { c.multipart_threshold = c.part_size + 1; }, "multipart_threshold");
  refused([](S3Config& c) { c.part_size = (size_t{256} << 20) + 1; }, "part_size");
  // A refused endpoint is not echoed: it may carry credentials.
  S3Config with_user = good_config();
  with_user.endpoint = "https://AKIAEXAMPLE:hunter2-secret@s3.example.com";
  const std::string error = validation_error(with_user);
  CHECK(error.find("endpoint") != std::string::npos);
  CHECK(error.find("hunter2") == std::string::npos);
  refused([](S3Config& c) { c.timeout = std::chrono::milliseconds(999); }, "timeout");
  refused(
      [](S3Config& c) {
        c.path_style = false;
        c.endpoint = "http://127.0.0.1:9000";
      },
      "path_style");
  refused(
      [](S3Config& c) {
        c.path_style = false;
        c.bucket = "media.example.com";
      },
      "path_style");
}

TEST_CASE("storage s3 url: origins keep only a non-default port", "[storage]") {
  auto authority = [](std::string_view url) {
    const auto o = parse_s3_origin(url);
    return o ? o->scheme + " " + o->authority : std::string("none");
  };
  CHECK(authority("https://s3.amazonaws.com") == "https s3.amazonaws.com");
  CHECK(authority("https://s3.amazonaws.com:443/") == "https s3.amazonaws.com");
  CHECK(authority("http://minio:80") == "http minio");
  CHECK(authority("http://127.0.0.1:9000") == "http 127.0.0.1:9000");
  CHECK(authority("http://[::1]:9000") == "http [::1]:9000");
  CHECK(authority("http://[::1]") == "http [::1]");
  CHECK(authority("https://s3.amazonaws.com/x") == "none");
  CHECK(authority("https://s3.amazonaws.com?x") == "none");
  CHECK(authority("https://") == "none");
  CHECK(authority("https://host:") == "none");
  CHECK(authority("https://host:0") == "none");
  CHECK(authority("https://[zz]") == "none");
}

TEST_CASE("storage s3 url: path and virtual-hosted locations", "[storage]") {
  const S3Origin origin{"https", "s3.eu-west-1.amazonaws.com"};
  const auto path = s3_location(origin, "media", "a/b-c.mp4", true);
  CHECK(path.host == "s3.eu-west-1.amazonaws.com");
  CHECK(path.path == "/media/a/b-c.mp4");
  CHECK(path.url == "https://s3.eu-west-1.amazonaws.com/media/a/b-c.mp4");
  const auto vhost = s3_location(origin, "media", "a/b-c.mp4", false);
  CHECK(vhost.host == "media.s3.eu-west-1.amazonaws.com");
  CHECK(vhost.path == "/a/b-c.mp4");
  CHECK(vhost.url == "https://media.s3.eu-west-1.amazonaws.com/a/b-c.mp4");
}

TEST_CASE("storage s3 url: download names cannot break out of the disposition", "[storage]") {
  CHECK(attachment_disposition("clip.mp4") == "attachment; filename=\"clip.mp4\"");
  CHECK(attachment_disposition("a\"b\\c.mp4") == "attachment; filename=\"a_b_c.mp4\"");
  CHECK(attachment_disposition("x\r\nSet-Cookie: a=b") ==
        "attachment; filename=\"x__Set-Cookie: a=b\"; "
        "filename*=UTF-8''x%0D%0ASet-Cookie%3A%20a%3Db");
  CHECK(attachment_disposition("caf\xc3\xa9.mp4") ==
        "attachment; filename=\"caf__.mp4\"; filename*=UTF-8''caf%C3%A9.mp4");
}

TEST_CASE("storage s3 xml: error bodies give code and unescaped message", "[storage]") {
  const auto e = parse_s3_error(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
      "<Message>The key &quot;a&amp;b&quot; &lt;x&gt; isn&apos;t there &#233;&#x41;</Message>"
      "<Key>a&amp;b</Key><RequestId>1</RequestId></Error>");
  REQUIRE(e);
  CHECK(e->code == "NoSuchKey");
  CHECK(e->message ==
        "The key \"a&b\" <x> isn't there \xc3\xa9"
        "A");
  CHECK_FALSE(parse_s3_error("<CompleteMultipartUploadResult><ETag>x</ETag></CompleteMultipartUploadResult>"));
  CHECK_FALSE(parse_s3_error(""));
  CHECK_FALSE(parse_s3_error("<Errors><Code>x</Code></Errors>"));
  // A 200 CompleteMultipartUpload answer that failed after all.
  const auto late = parse_s3_error("<?xml version=\"1.0\"?>\n\n  <Error><Code>InternalError</Code></Error>");
  REQUIRE(late);
  CHECK(late->code == "InternalError");
  CHECK(late->message.empty());
  // Unknown or malformed entities stay as they were; control bytes do not reach logs.
  const auto odd = parse_s3_error("<Error><Code>X</Code><Message>&bogus; &#0; &#xD800; a\nb</Message></Error>");
  REQUIRE(odd);
  CHECK(odd->message == "&bogus; &#0; &#xD800; a b");
  // Long messages are cut.
  const auto longer = parse_s3_error("<Error><Message>" + std::string(5000, 'm') + "</Message></Error>");
  REQUIRE(longer);
  CHECK(longer->message.size() < 400);
}

TEST_CASE("storage s3 xml: elements with attributes, upload ids and the part list", "[storage]") {
  CHECK(xml_element_text("<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                         "<Bucket>b</Bucket><Key>k</Key><UploadId>VXBsb2FkIElE</UploadId>"
                         "</InitiateMultipartUploadResult>",
                         "UploadId") == "VXBsb2FkIElE");
  CHECK(xml_element_text("<UploadIdMarker>x</UploadIdMarker>", "UploadId") == std::nullopt);
  CHECK(xml_element_text("<a><UploadId/><UploadId>y</UploadId></a>", "UploadId") == "y");
  CHECK(complete_multipart_xml({{1, "\"abc\""}, {2, "\"d&e\""}}) ==
        "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<Part><PartNumber>1</PartNumber><ETag>&quot;abc&quot;</ETag></Part>"
        "<Part><PartNumber>2</PartNumber><ETag>&quot;d&amp;e&quot;</ETag></Part>"
        "</CompleteMultipartUpload>");
}

TEST_CASE("storage s3: presigned URLs use the public endpoint and carry what they promise", "[storage]") {
  NoClient client;
  Compute compute(1);
  S3Config config = good_config();
  config.public_endpoint = "https://media.example.com";
  S3BlobStore store(config, client, compute);
  const auto now = std::chrono::system_clock::now();

  const std::string plain = store.download_url("media/ab/clip.mp4", now + std::chrono::hours(1), "");
  CHECK(
      plain.starts_with("https://media.example.com/huntaze-media/media/ab/clip.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                        "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F"));
  CHECK(plain.find("%2Feu-west-1%2Fs3%2Faws4_request&") != std::string::npos);
  const bool an_hour = plain.find("&X-Amz-Expires=3600&") != std::string::npos ||
                       plain.find("&X-Amz-Expires=3601&") != std::string::npos;
  CHECK(an_hour);
  CHECK(plain.find("X-Amz-SignedHeaders=host&X-Amz-Signature=") != std::string::npos);
  CHECK(plain.find("wJalrXUtnFEMI") == std::string::npos);

  const std::string named = store.download_url("media/ab/clip.mp4", now + std::chrono::hours(1), "clip \"1\".mp4");
  CHECK(named.find("&response-content-disposition=attachment%3B%20filename%3D%22clip%20_1_.mp4%22&X-Amz-Signature=") !=
        std::string::npos);

  // Past a week is a week; already past is one second.
  CHECK(store.download_url("k", now + std::chrono::hours(24 * 30), "").find("&X-Amz-Expires=604800&") !=
        std::string::npos);
  CHECK(store.download_url("k", now - std::chrono::hours(1), "").find("&X-Amz-Expires=1&") != std::string::npos);

  const auto upload = store.upload_url("media/ab/up.mp4", now + std::chrono::minutes(10), "video/mp4");
  REQUIRE(upload);
  CHECK(upload->find("X-Amz-SignedHeaders=content-type%3Bhost&X-Amz-Signature=") != std::string::npos);
  CHECK_THROWS_AS(store.upload_url("media/ab/up.mp4", now, "video/mp4\r\nx: y"), std::invalid_argument);
  CHECK_THROWS_AS(store.upload_url("media/ab/up.mp4", now, ""), std::invalid_argument);
  CHECK_THROWS_AS(store.download_url("../x", now, ""), std::invalid_argument);

  // Virtual-hosted style puts the bucket in the host name.
  config.public_endpoint = "";
  config.path_style = false;
  S3BlobStore vhost(config, client, compute);
  CHECK(vhost.download_url("k", now + std::chrono::minutes(1), "")
            .starts_with("https://huntaze-media.s3.eu-west-1.amazonaws.com/k?X-Amz-Algorithm="));
  CHECK(vhost.backend() == "s3");
}

TEST_CASE("storage s3: a store refuses a config that does not validate", "[storage]") {
  NoClient client;
  Compute compute(1);
  S3Config config = good_config();
  config.bucket = "";
  CHECK_THROWS_AS(S3BlobStore(config, client, compute), std::invalid_argument);
}
