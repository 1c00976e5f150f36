// libFuzzer target: what media.process and media.rendition do with an
// uploaded file - probe -> policy -> keyframes -> grid, the transcript's
// audio, and the rendition - over arbitrary bytes.
//
// The input is written to an anonymous in-memory file and handed over by
// its /proc path, as an upload on disk would be. Then:
// - make_grid either refuses with a MediaFailure that has a code and a reason,
//   or returns at least one cell, every cell inside the sheet, in time order,
//   and both pictures as complete JPEGs;
// - extract_audio refuses with a MediaFailure or returns a WAV no longer than
//   asked for;
// - make_rendition refuses with a MediaFailure (leaving no output) or writes
//   an MP4 of the size it reports;
// - nothing else is thrown, nothing crashes, nothing hangs past the deadline.
//
// Seeds: test/fuzz/corpus/media/ (small MP4, MOV-rotated, HEVC and Matroska
// files). Built as `media_fuzz` with -DHUNTAZE_FUZZ=ON (clang); replayed by
// `fuzz_replay` in every build, with mutated copies of each seed.
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "fuzz_check.hpp"
#include "media/audio_track.hpp"
#include "media/keyframe_grid.hpp"
#include "media/media_failure.hpp"
#include "media/rendition.hpp"

namespace {

using namespace huntaze::media;

bool whole_jpeg(const std::string& jpeg) {
  return jpeg.size() > 4 && static_cast<unsigned char>(jpeg[0]) == 0xFF && static_cast<unsigned char>(jpeg[1]) == 0xD8 &&
         static_cast<unsigned char>(jpeg[jpeg.size() - 2]) == 0xFF &&
         static_cast<unsigned char>(jpeg[jpeg.size() - 1]) == 0xD9;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const int fd = ::memfd_create("media_fuzz", MFD_CLOEXEC);
  if (fd < 0) return 0;
  size_t written = 0;
  while (written < size) {
    const ssize_t n = ::write(fd, data + written, size - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);

  // Small output and a modest policy keep each run quick; the decoding is
  // what is being exercised.
  GridOptions options;
  options.frames = 4;
  options.max_width = 320;
  options.max_height = 180;
  options.poster_max_side = 160;
  options.deadline = std::chrono::seconds(5);
  MediaPolicy policy;
  policy.max_long_side = 1920;
  policy.max_short_side = 1080;
  try {
    const GridResult grid = make_grid(path, policy, options);
    FUZZ_CHECK(!grid.cells.empty());
    FUZZ_CHECK(grid.cells.size() <= 4);
    for (size_t i = 0; i < grid.cells.size(); ++i) {
      const GridCell& c = grid.cells[i];
      FUZZ_CHECK(c.x >= 0 && c.y >= 0 && c.width > 0 && c.height > 0);
      FUZZ_CHECK(c.x + c.width <= grid.grid_width && c.y + c.height <= grid.grid_height);
      if (i > 0) FUZZ_CHECK(c.seconds > grid.cells[i - 1].seconds);
    }
    FUZZ_CHECK(grid.grid_width <= options.max_width && grid.grid_height <= options.max_height);
    FUZZ_CHECK(whole_jpeg(grid.grid_jpeg));
    FUZZ_CHECK(whole_jpeg(grid.poster_jpeg));
  } catch (const MediaFailure& failure) {
    FUZZ_CHECK(!failure.code().empty());
    FUZZ_CHECK(std::string(failure.what()).size() > 5);
  }

  AudioOptions audio;
  audio.max_seconds = 5;
  audio.deadline = std::chrono::seconds(5);
  try {
    const AudioTrack track = extract_audio(path, policy, audio);
    FUZZ_CHECK(track.wav.size() >= 44 && track.wav.compare(0, 4, "RIFF") == 0);
    FUZZ_CHECK(track.seconds <= audio.max_seconds);
  } catch (const MediaFailure& failure) {
    FUZZ_CHECK(!failure.code().empty());
  }

  namespace fs = std::filesystem;
  const fs::path output = fs::temp_directory_path() / ("media_fuzz_" + std::to_string(::getpid()) + ".mp4");
  RenditionOptions rendition;
  rendition.target_bytes = 200 * 1000;
  rendition.max_long_side = 160;
  rendition.policy = policy;
  rendition.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  try {
    const RenditionResult made = make_rendition(path, output, rendition);
    std::error_code ec;
    FUZZ_CHECK(fs::file_size(output, ec) == made.bytes);
    FUZZ_CHECK(made.width <= 160 && made.height <= 160);
  } catch (const MediaFailure& failure) {
    FUZZ_CHECK(!failure.code().empty());
    FUZZ_CHECK(!fs::exists(output));
  }
  std::error_code ignored;
  fs::remove(output, ignored);
  ::close(fd);
  return 0;
}
