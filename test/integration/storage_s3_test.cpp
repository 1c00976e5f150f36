// The S3 blob store against a real S3-compatible server on loopback (s3rver,
// test/support/s3/server.mjs, which scripts/test points at with
// HUNTAZE_TEST_S3_SERVER), through the real curl HttpClient: small and
// multipart uploads read back byte for byte, stat, remove, missing keys,
// presigned GET and PUT fetched without any signing, refused credentials.
// Retries and error reporting are checked against our own loopback server
// playing a failing S3.
//
// s3rver 3.7.1 checks the access key but not V4 signatures (see
// test/support/s3/README.md), so a tampered signature or a wrong secret key
// with the right access key is accepted there; that the signatures are right
// is shown by test/unit/storage_sigv4_test.cpp against AWS's own examples.
#include <signal.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "http/curl_client.hpp"
#include "huntaze/core/compute.hpp"
#include "huntaze/core/metrics.hpp"
#include "huntaze/http/client.hpp"
#include "storage/s3_blob_store.hpp"
#include "support/child_process.hpp"
#include "support/io_threads.hpp"
#include "support/s3_server.hpp"
#include "support/test_server.hpp"

using namespace huntaze;
using namespace huntaze::storage;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

constexpr const char* kBucket = test::kS3Bucket;
using test::S3Server;
constexpr size_t kMiB = 1 << 20;

// A directory removed with the test.
struct TempDir {
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "huntaze-s3-test-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  fs::path path;
};

S3Config config_for(const std::string& endpoint, const fs::path& temp_dir) {
  S3Config c;
  c.endpoint = endpoint;
  c.region = "us-east-1";
  c.bucket = kBucket;
  c.access_key = "S3RVER";
  c.secret_key = Secret("S3RVER");
  c.part_size = 5 * kMiB;
  c.multipart_threshold = 5 * kMiB;
  c.timeout = 30s;
  c.temp_dir = temp_dir.string();
  return c;
}

// The store and everything it runs on. Declaration order matters: the store
// and the client go before the compute pool and the I/O threads.
struct Stack {
  explicit Stack(S3Config config) {
    client = http::make_curl_client(io.executor(), {}, metrics);
    store = std::make_unique<S3BlobStore>(std::move(config), *client, compute);
  }

  http::ClientResponse fetch(http::ClientRequest request) { return io.block(client->send(std::move(request))); }

  test::IoThreads io{2};
  metrics::Registry metrics;
  Compute compute{2};
  std::unique_ptr<http::HttpClient> client;
  std::unique_ptr<S3BlobStore> store;
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

// Bytes that differ from part to part and within each, so a part stored
// twice, out of order or shifted reads back different.
std::string varying_bytes(size_t n) {
  std::string out(n, '\0');
  uint32_t x = 2463534242u;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    out[i] = static_cast<char>(x);
  }
  return out;
}

}  // namespace

TEST_CASE("storage s3: put_bytes, stat and local_copy round-trip the exact bytes", "[storage][s3]") {
  S3Server server;
  TempDir tmp;
  Stack s(config_for(server.endpoint(), tmp.path));
  CHECK(s.store->backend() == "s3");

  std::string bytes = std::string("grid\0with\r\nevery byte\xff", 22);
  bytes += varying_bytes(1000);
  s.io.block(s.store->put_bytes("media/ab/grid.jpg", bytes, "image/jpeg"));

  const auto info = s.io.block(s.store->stat("media/ab/grid.jpg"));
  REQUIRE(info);
  CHECK(info->size == bytes.size());

  fs::path copied;
  {
    LocalCopy copy = s.io.block(s.store->local_copy("media/ab/grid.jpg"));
    copied = copy.path();
    CHECK(copied.parent_path() == tmp.path);
    CHECK(read_file(copied) == bytes);
  }
  // The temporary download goes with the LocalCopy.
  CHECK_FALSE(fs::exists(copied));

  // Replacing the blob replaces its bytes; an empty blob reads back empty.
  s.io.block(s.store->put_bytes("media/ab/grid.jpg", "second", "image/jpeg"));
  CHECK(read_file(s.io.block(s.store->local_copy("media/ab/grid.jpg")).path()) == "second");
  s.io.block(s.store->put_bytes("media/ab/empty.json", "", "application/json"));
  CHECK(s.io.block(s.store->stat("media/ab/empty.json"))->size == 0);
  CHECK(read_file(s.io.block(s.store->local_copy("media/ab/empty.json")).path()).empty());
}

TEST_CASE("storage s3: put_file of a small file uses one PUT and takes the file", "[storage][s3]") {
  S3Server server;
  TempDir tmp;
  Stack s(config_for(server.endpoint(), tmp.path));

  const fs::path source = tmp.path / "upload-small";
  const std::string bytes = varying_bytes(300 * 1024);
  write_file(source, bytes);
  s.io.block(s.store->put_file("media/cd/poster.png", source, "image/png"));
  CHECK_FALSE(fs::exists(source));
  CHECK(s.io.block(s.store->stat("media/cd/poster.png"))->size == bytes.size());
  CHECK(read_file(s.io.block(s.store->local_copy("media/cd/poster.png")).path()) == bytes);
}

TEST_CASE("storage s3: a file past the threshold goes up in parts and comes down in ranges, identical",
          "[storage][s3]") {
  S3Server server;
  TempDir tmp;
  Stack s(config_for(server.endpoint(), tmp.path));

  // Three parts of 5 MiB, 5 MiB and a bit: the last one short.
  const std::string bytes = varying_bytes(12 * kMiB + 12345);
  const fs::path source = tmp.path / "upload-large";
  write_file(source, bytes);
  s.io.block(s.store->put_file("media/ef/clip.mp4", source, "video/mp4"));
  CHECK_FALSE(fs::exists(source));

  const auto info = s.io.block(s.store->stat("media/ef/clip.mp4"));
  REQUIRE(info);
  CHECK(info->size == bytes.size());
  LocalCopy copy = s.io.block(s.store->local_copy("media/ef/clip.mp4"));
  const std::string back = read_file(copy.path());
  CHECK(back.size() == bytes.size());
  CHECK(back == bytes);

  // The object's Content-Type is the one given to put_file.
  const std::string url = s.store->download_url("media/ef/clip.mp4", std::chrono::system_clock::now() + 5min, "");
  http::ClientRequest get;
  get.url = url;
  get.max_response_bytes = 32 * kMiB;
  const auto fetched = s.fetch(std::move(get));
  CHECK(fetched.status == 200);
  CHECK(fetched.header("content-type") == "video/mp4");
}

TEST_CASE("storage s3: remove deletes, and removing again succeeds", "[storage][s3]") {
  S3Server server;
  TempDir tmp;
  Stack s(config_for(server.endpoint(), tmp.path));

  s.io.block(s.store->put_bytes("media/gh/a.json", "{}", "application/json"));
  REQUIRE(s.io.block(s.store->stat("media/gh/a.json")));
  s.io.block(s.store->remove("media/gh/a.json"));
  CHECK_FALSE(s.io.block(s.store->stat("media/gh/a.json")));
  CHECK_NOTHROW(s.io.block(s.store->remove("media/gh/a.json")));
  CHECK_NOTHROW(s.io.block(s.store->remove("media/gh/never-there.json")));
}

TEST_CASE("storage s3: a missing key is BlobNotFound for local_copy and nothing for stat", "[storage][s3]") {
  S3Server server;
  TempDir tmp;
  Stack s(config_for(server.endpoint(), tmp.path));

  CHECK_THROWS_AS(s.io.block(s.store->local_copy("media/ij/missing.mp4")), BlobNotFound);
  CHECK_FALSE(s.io.block(s.store->stat("media/ij/missing.mp4")));
  // The failed download left no temporary file behind.
  CHECK(fs::is_empty(tmp.path));
}

TEST_CASE("storage s3: keys that are not valid blob keys are refused before any request", "[storage][s3]") {
  TempDir tmp;
  // Nothing listens there: a request would fail as a StorageError instead.
  Stack s(config_for("http://127.0.0.1:9", tmp.path));
  CHECK_THROWS_AS(s.io.block(s.store->put_bytes("../etc/passwd", "x", "text/plain")), std::invalid_argument);
  CHECK_THROWS_AS(s.io.block(s.store->stat("a//b")), std::invalid_argument);
  CHECK_THROWS_AS(s.io.block(s.store->local_copy("/abs")), std::invalid_argument);
  CHECK_THROWS_AS(s.io.block(s.store->remove("a b")), std::invalid_argument);
  CHECK_THROWS_AS(s.store->download_url("a?b", std::chrono::system_clock::now() + 1min, ""), std::invalid_argument);
  CHECK_THROWS_AS(s.store->upload_url("", std::chrono::system_clock::now() + 1min, "image/png"), std::invalid_argument);
}

TEST_CASE("storage s3: a presigned GET serves the bytes to a client that signs nothing", "[storage][s3]") {
  S3Server server;
  TempDir tmp;
  Stack s(config_for(server.endpoint(), tmp.path));

  const std::string bytes = varying_bytes(4096);
  s.io.block(s.store->put_bytes("media/kl/clip.mp4", bytes, "video/mp4"));

  http::ClientRequest get;
  get.url = s.store->download_url("media/kl/clip.mp4", std::chrono::system_clock::now() + 10min, "");
  CHECK(get.url.starts_with(server.endpoint() + "/huntaze-test/media/kl/clip.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256"));
  const auto plain = s.fetch(get);
  CHECK(plain.status == 200);
  CHECK(plain.body == bytes);

  // With a download name, S3 answers with the disposition that was signed.
  http::ClientRequest named;
  named.url =
      s.store->download_url("media/kl/clip.mp4", std::chrono::system_clock::now() + 10min, "My \"best\" clip.mp4");
  const auto attachment = s.fetch(named);
  CHECK(attachment.status == 200);
  CHECK(attachment.body == bytes);
  CHECK(attachment.header("content-disposition") == "attachment; filename=\"My _best_ clip.mp4\"");

  // A presigned URL for a key that names nothing is S3's 404, not the bytes.
  http::ClientRequest missing;
  missing.url = s.store->download_url("media/kl/other.mp4", std::chrono::system_clock::now() + 10min, "");
  CHECK(s.fetch(missing).status == 404);
}

TEST_CASE("storage s3: a presigned PUT stores what the browser sends", "[storage][s3]") {
  S3Server server;
  TempDir tmp;
  Stack s(config_for(server.endpoint(), tmp.path));

  const auto url = s.store->upload_url("media/mn/upload.mp4", std::chrono::system_clock::now() + 10min, "video/mp4");
  REQUIRE(url);
  CHECK(url->find("X-Amz-SignedHeaders=content-type%3Bhost") != std::string::npos);
  http::ClientRequest put;
  put.method = "PUT";
  put.url = *url;
  put.headers = {{"Content-Type", "video/mp4"}};
  put.body = varying_bytes(70000);
  CHECK(s.fetch(put).status == 200);

  const auto info = s.io.block(s.store->stat("media/mn/upload.mp4"));
  REQUIRE(info);
  CHECK(info->size == 70000);
  CHECK(read_file(s.io.block(s.store->local_copy("media/mn/upload.mp4")).path()) == put.body);
}

TEST_CASE("storage s3: credentials the server refuses are a StorageError that does not show the secret",
          "[storage][s3]") {
  S3Server server;
  TempDir tmp;
  S3Config config = config_for(server.endpoint(), tmp.path);
  config.access_key = "NOT-S3RVER";
  config.secret_key = Secret("wrong-secret-d41d8cd98f00b204");
  Stack s(std::move(config));

  std::string message;
  try {
    s.io.block(s.store->put_bytes("media/op/x.txt", "x", "text/plain"));
  } catch (const BlobNotFound&) {
    message = "BlobNotFound";
  } catch (const StorageError& e) {
    message = e.what();
  }
  CHECK(message.find("HTTP 403 InvalidAccessKeyId") != std::string::npos);
  CHECK(message.find("media/op/x.txt") != std::string::npos);
  CHECK(message.find("wrong-secret") == std::string::npos);
  CHECK_THROWS_AS(s.io.block(s.store->local_copy("media/op/x.txt")), StorageError);
}

// ---- a failing S3 on loopback ----------------------------------------------

namespace {

// Answers PUT /huntaze-test/media/f/{name} from a script of statuses (the last
// repeats) with S3-style error bodies, counting the requests.
struct FailingS3 {
  explicit FailingS3(std::vector<int> statuses, std::string message = "We encountered an internal error.")
      : script(std::move(statuses)), error_message(std::move(message)) {
    server.router.put("/huntaze-test/media/f/{name}", [this](http::Request&) -> asio::awaitable<http::Response> {
      const size_t n = requests.fetch_add(1);
      const int status = script[std::min(n, script.size() - 1)];
      if (status == 200) {
        auto ok = http::Response::text(200, "");
        ok.headers.set("ETag", "\"0123456789abcdef0123456789abcdef\"");
        co_return ok;
      }
      const std::string code = status == 503 ? "SlowDown" : status == 403 ? "SignatureDoesNotMatch" : "InternalError";
      co_return http::Response::text(status,
                                     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code +
                                         "</Code><Message>" + error_message + "</Message></Error>",
                                     "application/xml");
    });
    server.start();
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(server.port()); }

  std::vector<int> script;
  std::string error_message;
  std::atomic<size_t> requests{0};
  test::TestServer server;
};

}  // namespace

TEST_CASE("storage s3: a 500 is retried and the retry's success is the answer", "[storage][s3]") {
  FailingS3 s3({500, 200});
  TempDir tmp;
  Stack s(config_for(s3.endpoint(), tmp.path));
  CHECK_NOTHROW(s.io.block(s.store->put_bytes("media/f/a.json", "{}", "application/json")));
  CHECK(s3.requests == 2);
}

TEST_CASE("storage s3: a server that keeps answering 503 SlowDown is a StorageError after the retries",
          "[storage][s3]") {
  FailingS3 s3({503});
  TempDir tmp;
  Stack s(config_for(s3.endpoint(), tmp.path));
  std::string message;
  try {
    s.io.block(s.store->put_bytes("media/f/b.json", "{}", "application/json"));
  } catch (const StorageError& e) {
    message = e.what();
  }
  CHECK(message.find("HTTP 503 SlowDown") != std::string::npos);
  CHECK(s3.requests == static_cast<size_t>(S3BlobStore::kAttempts));
}

TEST_CASE("storage s3: a refusal is reported once, with S3's code and message, and never with the secret",
          "[storage][s3]") {
  // A server that (wrongly) echoes the secret key in its message.
  FailingS3 s3({403}, "The signature does not match &amp; wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY was used");
  TempDir tmp;
  S3Config config = config_for(s3.endpoint(), tmp.path);
  config.secret_key = Secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
  Stack s(std::move(config));
  std::string message;
  try {
    s.io.block(s.store->put_bytes("media/f/c.json", "{}", "application/json"));
  } catch (const StorageError& e) {
    message = e.what();
  }
  CHECK(message.find("HTTP 403 SignatureDoesNotMatch: The signature does not match & <redacted> was used") !=
        std::string::npos);
  CHECK(message.find("wJalrXUtnFEMI") == std::string::npos);
  // A 403 is not worth asking again.
  CHECK(s3.requests == 1);
}

TEST_CASE("storage s3: a secret that occurs in the redaction mark itself is still redacted, once", "[storage][s3]") {
  // "act" is inside "<redacted>": a redaction that searched again from the
  // start of its own mark would never end.
  FailingS3 s3({403}, "key act was refused");
  TempDir tmp;
  S3Config config = config_for(s3.endpoint(), tmp.path);
  config.secret_key = Secret("act");
  Stack s(std::move(config));
  std::string message;
  try {
    s.io.block(s.store->put_bytes("media/f/e.json", "{}", "application/json"));
  } catch (const StorageError& e) {
    message = e.what();
  }
  CHECK(message.find("key <redacted> was refused") != std::string::npos);
}

TEST_CASE("storage s3: a dead endpoint is a StorageError after the retries", "[storage][s3]") {
  TempDir tmp;
  // Port 9 (discard) on loopback: nothing listens, the connection is refused.
  Stack s(config_for("http://127.0.0.1:9", tmp.path));
  CHECK_THROWS_AS(s.io.block(s.store->stat("media/f/d.json")), StorageError);
}

namespace {

// A multipart-speaking S3 on loopback for /huntaze-test/media/m/{name}: it
// starts uploads, takes parts (with or without an ETag), answers Complete
// with 200 and an <Error> body, as S3 may after a late failure, and counts
// aborts.
struct FailingMultipartS3 {
  explicit FailingMultipartS3(bool part_etag) : etag(part_etag) {
    const std::string object = "/huntaze-test/media/m/{name}";
    server.router.post(object, [this](http::Request& req) -> asio::awaitable<http::Response> {
      if (req.query_param("uploads")) {
        co_return http::Response::text(200,
                                       "<?xml version=\"1.0\"?><InitiateMultipartUploadResult><Bucket>huntaze-test"
                                       "</Bucket><UploadId>up&amp;1</UploadId></InitiateMultipartUploadResult>",
                                       "application/xml");
      }
      if (req.query_param("uploadId") == "up&1") ++completes;
      co_return http::Response::text(
          200, "<?xml version=\"1.0\"?>\n\n<Error><Code>InternalError</Code><Message>late</Message></Error>",
          "application/xml");
    });
    server.router.put(object,
                      [this](http::Request& req) -> asio::awaitable<http::Response> {
                        if (req.query_param("uploadId") == "up&1") ++parts;
                        auto res = http::Response::text(200, "");
                        if (etag) res.headers.set("ETag", "\"0123456789abcdef0123456789abcdef\"");
                        co_return res;
                      },
                      {.body_limit = 8 << 20});
    server.router.del(object, [this](http::Request& req) -> asio::awaitable<http::Response> {
      if (req.query_param("uploadId") == "up&1") ++aborts;
      co_return http::Response::no_content();
    });
    server.start();
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(server.port()); }

  bool etag;
  std::atomic<int> parts{0}, completes{0}, aborts{0};
  test::TestServer server;
};

}  // namespace

TEST_CASE("storage s3: a Complete answered 200 with an Error fails the upload, aborts it and keeps the source",
          "[storage][s3]") {
  FailingMultipartS3 s3(/*part_etag=*/true);
  TempDir tmp;
  Stack s(config_for(s3.endpoint(), tmp.path));
  const fs::path source = tmp.path / "upload";
  write_file(source, varying_bytes(5 * kMiB + 1));

  std::string message;
  try {
    s.io.block(s.store->put_file("media/m/clip.mp4", source, "video/mp4"));
  } catch (const StorageError& e) {
    message = e.what();
  }
  CHECK(message.find("InternalError: late") != std::string::npos);
  CHECK(s3.parts == 2);
  CHECK(s3.completes == S3BlobStore::kAttempts);  // S3 says to retry such answers
  CHECK(s3.aborts == 1);
  CHECK(fs::exists(source));
}

TEST_CASE("storage s3: a part answered without an ETag fails the upload and aborts it", "[storage][s3]") {
  FailingMultipartS3 s3(/*part_etag=*/false);
  TempDir tmp;
  Stack s(config_for(s3.endpoint(), tmp.path));
  const fs::path source = tmp.path / "upload";
  write_file(source, varying_bytes(5 * kMiB + 1));

  CHECK_THROWS_AS(s.io.block(s.store->put_file("media/m/clip.mp4", source, "video/mp4")), StorageError);
  CHECK(s3.parts == 1);
  CHECK(s3.completes == 0);
  CHECK(s3.aborts == 1);
  CHECK(fs::exists(source));
}

TEST_CASE("storage s3: a download that fails after it began leaves no temporary file", "[storage][s3]") {
  // HEAD finds the object; each ranged GET then answers as S3 does when the
  // object changed since (412), or with fewer bytes than the range.
  for (const int status : {412, 206}) {
    INFO(status);
    test::TestServer server;
    server.router.get("/huntaze-test/media/g/{name}", [status](http::Request& req) -> asio::awaitable<http::Response> {
      http::Response res = http::Response::text(200, std::string(6 << 20, 'x'), "video/mp4");
      res.headers.set("ETag", "\"0123456789abcdef0123456789abcdef\"");
      if (req.method == "HEAD") co_return res;
      if (status == 412) co_return http::Response::text(412, "<Error><Code>PreconditionFailed</Code></Error>");
      http::Response short_piece = http::Response::text(206, "too short", "video/mp4");
      short_piece.headers.set("Content-Range", "bytes 0-5242879/6291456");
      co_return short_piece;
    });
    server.start();
    TempDir tmp;
    Stack s(config_for("http://127.0.0.1:" + std::to_string(server.port()), tmp.path));
    CHECK_THROWS_AS(s.io.block(s.store->local_copy("media/g/clip.mp4")), StorageError);
    CHECK(fs::is_empty(tmp.path));
  }
}
