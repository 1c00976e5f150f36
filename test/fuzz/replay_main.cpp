// fuzz_replay: runs every file of the seed corpora through the fuzz targets,
// so that they build and hold their properties in every build (GCC too, and
// under ASan+UBSan in scripts/test), not only when someone fuzzes.
//
//   fuzz_replay <corpus dir>   runs <dir>/jwt/* through jwt_fuzz.cpp and
//                              <dir>/cookie/* through cookie_fuzz.cpp
//
// Each file is also run cut short at every length up to 512 bytes (truncated
// tokens and headers). A property that fails aborts the process; an empty or
// missing corpus is an error (exit 1), so the test cannot pass by finding
// nothing.
//
// The targets are compiled with LLVMFuzzerTestOneInput renamed (see
// test/fuzz/CMakeLists.txt), so both fit in this one program.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int huntaze_fuzz_jwt(const uint8_t* data, size_t size);
extern "C" int huntaze_fuzz_cookie(const uint8_t* data, size_t size);

namespace {

namespace fs = std::filesystem;
using Target = int (*)(const uint8_t*, size_t);

constexpr size_t kMaxPrefix = 512;

void run(Target target, const std::string& bytes, size_t size) {
  // A copy of exactly `size` bytes, so that ASan sees any read past the end.
  const std::vector<uint8_t> input(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(size));
  target(input.data(), input.size());
}

// The number of files run, or -1 when the directory is missing or empty.
long replay(const fs::path& dir, Target target) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_regular_file()) files.push_back(entry.path());
  if (ec || files.empty()) {
    std::fprintf(stderr, "fuzz_replay: no seed files in %s\n", dir.c_str());
    return -1;
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (!in.good() && !in.eof()) {
      std::fprintf(stderr, "fuzz_replay: cannot read %s\n", file.c_str());
      return -1;
    }
    std::fprintf(stderr, "fuzz_replay: %s (%zu bytes)\n", file.c_str(), bytes.size());
    run(target, bytes, bytes.size());
    for (size_t n = 0; n < std::min(bytes.size(), kMaxPrefix); ++n) run(target, bytes, n);
  }
  return static_cast<long>(files.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_replay <corpus dir>\n");
    return 2;
  }
  const fs::path root = argv[1];
  const long jwt = replay(root / "jwt", huntaze_fuzz_jwt);
  const long cookie = replay(root / "cookie", huntaze_fuzz_cookie);
  if (jwt < 0 || cookie < 0) return 1;
  std::printf("fuzz_replay: %ld jwt and %ld cookie seeds passed\n", jwt, cookie);
  return 0;
}
