// The local BlobStore on a real file system: round trips, put_file taking
// its source (by rename, or by copy across file systems), removal that
// tidies empty folders but never the root, keys that are folders, keys
// that would escape, and the signed links it hands out.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "huntaze/core/compute.hpp"
#include "storage/local_blob_store.hpp"
#include "support/harness.hpp"
#include "support/io_threads.hpp"

using namespace huntaze;
using namespace huntaze::storage;
namespace fs = std::filesystem;

namespace {

constexpr const char* kKey = "link-key-0123456789-0123456789-abcdef";

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write(const fs::path& p, const std::string& bytes) { std::ofstream(p, std::ios::binary) << bytes; }

struct Local {
  fs::path root = fs::path(test::scratch_directory()) / "blobs";
  Compute compute{1};
  test::IoThreads io{1};
  LocalBlobStore store{root, compute, Secret(kKey), "https://api.example.com/"};
};

}  // namespace

TEST_CASE("storage local: bytes and files round-trip, and put_file takes its source", "[storage]") {
  Local l;
  l.io.block(l.store.put_bytes("ws/a/grid.jpg", "jpeg bytes", "image/jpeg"));
  auto info = l.io.block(l.store.stat("ws/a/grid.jpg"));
  REQUIRE(info);
  CHECK(info->size == 10);
  auto copy = l.io.block(l.store.local_copy("ws/a/grid.jpg"));
  CHECK(read(copy.path()) == "jpeg bytes");
  // Replacing a blob leaves no temporary file beside it.
  l.io.block(l.store.put_bytes("ws/a/grid.jpg", "new", "image/jpeg"));
  CHECK(read(l.store.path_of("ws/a/grid.jpg")) == "new");
  size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(l.root)) files += e.is_regular_file() ? 1 : 0;
  CHECK(files == 1);

  const fs::path source = fs::path(test::scratch_directory()) / "upload";
  write(source, "video bytes");
  l.io.block(l.store.put_file("ws/a/original.mp4", source, "video/mp4"));
  CHECK_FALSE(fs::exists(source));
  CHECK(read(l.store.path_of("ws/a/original.mp4")) == "video bytes");

  CHECK_FALSE(l.io.block(l.store.stat("ws/a/missing.mp4")));
  CHECK_FALSE(l.io.block(l.store.stat("ws/a")));  // a folder is no blob
  CHECK_THROWS_AS(l.io.block(l.store.local_copy("ws/a/missing.mp4")), BlobNotFound);
  CHECK_THROWS_AS(l.io.block(l.store.stat("../escape")), std::invalid_argument);
  CHECK_THROWS_AS(l.io.block(l.store.put_bytes("/etc/passwd", "x", "text/plain")), std::invalid_argument);
}

TEST_CASE("storage local: put_file copies across file systems", "[storage]") {
  Local l;
  // /dev/shm is a memory file system on Linux: another device than /tmp.
  const fs::path other = "/dev/shm";
  struct stat a {}, b {};
  if (::stat(other.c_str(), &a) != 0 || ::stat(l.root.c_str(), &b) != 0 || a.st_dev == b.st_dev) {
    WARN("no second file system here; the copy path is not exercised");
    return;
  }
  const fs::path source = other / ("huntaze-local-test-" + std::to_string(::getpid()));
  write(source, std::string(100000, 'v'));
  l.io.block(l.store.put_file("ws/b/original.mp4", source, "video/mp4"));
  CHECK_FALSE(fs::exists(source));
  CHECK(read(l.store.path_of("ws/b/original.mp4")) == std::string(100000, 'v'));
  for (const auto& e : fs::directory_iterator(l.root / "ws" / "b")) CHECK(e.path().filename() == "original.mp4");
}

TEST_CASE("storage local: remove deletes, tidies empty folders, keeps the root, and may repeat", "[storage]") {
  Local l;
  l.io.block(l.store.put_bytes("ws/c/one/a.jpg", "a", "image/jpeg"));
  l.io.block(l.store.put_bytes("ws/c/two/b.jpg", "b", "image/jpeg"));
  l.io.block(l.store.remove("ws/c/one/a.jpg"));
  CHECK_FALSE(fs::exists(l.root / "ws" / "c" / "one"));
  CHECK(fs::exists(l.root / "ws" / "c" / "two" / "b.jpg"));
  l.io.block(l.store.remove("ws/c/one/a.jpg"));  // again: nothing to do
  l.io.block(l.store.remove("ws/c/two/b.jpg"));
  CHECK(fs::exists(l.root));
  CHECK(fs::is_empty(l.root));
}

TEST_CASE("storage local: download links are signed for their key and expiry", "[storage]") {
  Local l;
  const auto expires = std::chrono::system_clock::time_point(std::chrono::seconds(2'000'000'000));
  const std::string url = l.store.download_url("ws/d/grid.jpg", expires, "ignored.jpg");
  REQUIRE(url.starts_with("https://api.example.com/api/v1/files/ws%2Fd%2Fgrid.jpg?expires=2000000000&sig="));
  const std::string sig = url.substr(url.find("sig=") + 4);
  CHECK(l.store.check_link("ws/d/grid.jpg", "2000000000", sig, 1'900'000'000) == LinkCheck::ok);
  CHECK(l.store.check_link("ws/d/grid.jpg", "2000000000", sig, 2'000'000'001) == LinkCheck::expired);
  CHECK(l.store.check_link("ws/d/poster.jpg", "2000000000", sig, 1'900'000'000) == LinkCheck::bad_signature);
  CHECK(l.store.check_link("../d/grid.jpg", "2000000000", sig, 1'900'000'000) == LinkCheck::malformed);
  CHECK_THROWS_AS(l.store.download_url("../x", expires, ""), std::invalid_argument);
}
