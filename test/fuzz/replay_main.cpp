// fuzz_replay: runs every file of the seed corpora through the fuzz targets,
// so that they build and hold their properties in every build (GCC too, and
// under ASan+UBSan in scripts/test), not only when someone fuzzes.
//
//   fuzz_replay <corpus dir>   runs <dir>/jwt/* through jwt_fuzz.cpp,
//                              <dir>/cookie/* through cookie_fuzz.cpp and
//                              <dir>/media/* through media_fuzz.cpp
//
// Each file is also run cut short at every length up to 512 bytes (truncated
// tokens and headers). Media seeds are also run as 40 copies with a few bytes
// overwritten each (the same copies every run): a brief fuzzing of the
// decoding path in every build, under ASan in scripts/test. A property that fails aborts the process; an empty or
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
#include <random>
#include <string>
#include <vector>

extern "C" int huntaze_fuzz_jwt(const uint8_t* data, size_t size);
extern "C" int huntaze_fuzz_cookie(const uint8_t* data, size_t size);
extern "C" int huntaze_fuzz_media(const uint8_t* data, size_t size);

namespace {

namespace fs = std::filesystem;
using Target = int (*)(const uint8_t*, size_t);

constexpr size_t kMaxPrefix = 512;

void run(Target target, const std::string& bytes, size_t size) {
  // A copy of exactly `size` bytes, so that ASan sees any read past the end.
  const std::vector<uint8_t> input(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(size));
  target(input.data(), input.size());
}

// `count` copies of `bytes`, each with 1 to 8 bytes overwritten, from a
// fixed seed.
void run_mutated(Target target, const std::string& bytes, int count, unsigned seed) {
  if (bytes.empty()) return;
  std::mt19937 rng(seed);
  for (int i = 0; i < count; ++i) {
    std::vector<uint8_t> input(bytes.begin(), bytes.end());
    const int changes = 1 + static_cast<int>(rng() % 8);
    for (int c = 0; c < changes; ++c) input[rng() % input.size()] = static_cast<uint8_t>(rng());
    target(input.data(), input.size());
  }
}

// The number of files run, or -1 when the directory is missing or empty.
long replay(const fs::path& dir, Target target, int mutations = 0) {
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
    run_mutated(target, bytes, mutations, static_cast<unsigned>(files.size() * 7919 + bytes.size()));
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
  const long media = replay(root / "media", huntaze_fuzz_media, 40);
  if (jwt < 0 || cookie < 0 || media < 0) return 1;
  std::printf("fuzz_replay: %ld jwt, %ld cookie and %ld media seeds passed\n", jwt, cookie, media);
  return 0;
}
