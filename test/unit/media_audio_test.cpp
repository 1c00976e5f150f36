// The transcript's input: a video's audio as 16 kHz mono WAV, over the
// fixtures of test/support/media (landscape.mp4 carries 10 s of a 440 Hz
// sine in AAC at 44.1 kHz).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "media/audio_track.hpp"
#include "media/media_failure.hpp"
#include "support/harness.hpp"

using namespace huntaze::media;
using huntaze::test::require_env;

namespace {

std::filesystem::path fixture(const char* name) {
  return std::filesystem::path(require_env("HUNTAZE_TEST_MEDIA")) / name;
}

uint32_t u32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + static_cast<size_t>(i)]);
  return v;
}

uint16_t u16(const std::string& s, size_t at) {
  return static_cast<uint16_t>(static_cast<unsigned char>(s[at]) | (static_cast<unsigned char>(s[at + 1]) << 8));
}

int16_t sample(const std::string& wav, size_t i) { return static_cast<int16_t>(u16(wav, 44 + i * 2)); }

std::string failure_code(const std::filesystem::path& file, const AudioOptions& options = {}) {
  try {
    extract_audio(file, {}, options);
  } catch (const MediaFailure& e) {
    return e.code();
  }
  return "none";
}

}  // namespace

TEST_CASE("media: the audio comes out as 16 kHz mono WAV with its pitch kept", "[media]") {
  const AudioTrack track = extract_audio(fixture("landscape.mp4"), {}, {});
  const std::string& wav = track.wav;
  REQUIRE(wav.size() > 44);
  CHECK(wav.compare(0, 4, "RIFF") == 0);
  CHECK(wav.compare(8, 8, "WAVEfmt ") == 0);
  CHECK(u32(wav, 4) == wav.size() - 8);
  CHECK(u16(wav, 20) == 1);  // PCM
  CHECK(u16(wav, 22) == 1);  // mono
  CHECK(u32(wav, 24) == 16000);
  CHECK(u16(wav, 34) == 16);
  CHECK(wav.compare(36, 4, "data") == 0);
  CHECK(u32(wav, 40) == wav.size() - 44);
  CHECK(track.seconds == Approx(10).margin(0.1));
  CHECK_FALSE(track.cut);

  // Count rising zero crossings over the middle 8 s: 440 per second.
  const size_t first = 16000, last = 16000 * 9;
  int crossings = 0;
  for (size_t i = first + 1; i < last; ++i) {
    if (sample(wav, i - 1) < 0 && sample(wav, i) >= 0) ++crossings;
  }
  CHECK(crossings / 8.0 == Approx(440).margin(5));
  // And it is loud enough to be a signal, not silence.
  int peak = 0;
  for (size_t i = first; i < last; ++i) peak = std::max(peak, std::abs(static_cast<int>(sample(wav, i))));
  CHECK(peak > 1000);
}

TEST_CASE("media: long audio is cut at max_seconds", "[media]") {
  AudioOptions options;
  options.max_seconds = 2;
  const AudioTrack track = extract_audio(fixture("landscape.mp4"), {}, options);
  CHECK(track.seconds == Approx(2));
  CHECK(track.cut);
  CHECK(track.wav.size() == 44 + 2 * 16000 * 2);
}

TEST_CASE("media: a silent video or a bad file has no audio to give", "[media]") {
  CHECK(failure_code(fixture("no_audio.mp4")) == "no_audio");
  CHECK(failure_code(fixture("text.mp4")) == "not_a_video");
  CHECK(failure_code(fixture("truncated.mp4")) == "corrupt");
  AudioOptions rushed;
  rushed.deadline = std::chrono::milliseconds(0);
  CHECK(failure_code(fixture("landscape.mp4"), rushed) == "timeout");
}
