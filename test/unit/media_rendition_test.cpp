// The rendition (H.264/AAC MP4 re-encode) over the fixtures of
// test/support/media/make_fixtures.sh ($HUNTAZE_TEST_MEDIA). Outputs are read
// back with our own probe and decoder: in the ramp fixtures a picture's luma
// is 16 + 20 x its time in seconds, so a decoded output picture shows
// whether it kept its time; the portrait fixtures are bright on top when
// upright.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "media/av_input.hpp"
#include "media/frame_decoder.hpp"
#include "media/media_failure.hpp"
#include "media/probe.hpp"
#include "media/rendition.hpp"
#include "media/rendition_plan.hpp"
#include "media/rgb_image.hpp"
#include "media/yuv_rotate.hpp"
#include "support/harness.hpp"

extern "C" {
#include <libavutil/frame.h>
}

using namespace huntaze::media;
using huntaze::test::require_env;
namespace fs = std::filesystem;

namespace {

fs::path fixture(const char* name) { return fs::path(require_env("HUNTAZE_TEST_MEDIA")) / name; }

// A fresh directory for one test's outputs, removed afterwards.
struct Scratch {
  fs::path dir;
  Scratch() {
    char tmpl[] = "/tmp/huntaze-rendition-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
  }
  ~Scratch() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
  fs::path operator/(const char* name) const { return dir / name; }
};

fs::path part_of(const fs::path& output) {
  fs::path part = output;
  part += ".part";
  return part;
}

VideoInfo probe_output(const fs::path& file) {
  AvInput input(file, {});
  return probe(input);
}

// What our probe says the fixture lasts.
double source_seconds(const char* name) { return probe_output(fixture(name)).duration_seconds; }

constexpr double kTwoFrames = 2.0 / 30;

struct Picture {
  double seconds;
  RgbImage rgb;
};

// Every picture of `file`, decoded with our decoder, as RGB at its size.
std::vector<Picture> decode_all(const fs::path& file) {
  AvInput input(file, {});
  const VideoInfo info = probe(input);
  FrameDecoder decoder(input, info, false, int64_t{1} << 30);
  std::vector<Picture> out;
  decoder.scan([&](DecodedFrame& frame) {
    out.push_back({frame.seconds, decoder.to_rgb(*frame.frame, info.display_width, info.display_height)});
  });
  return out;
}

double mean_level(const RgbImage& image, int x, int y, int w, int h) {
  double sum = 0;
  for (int row = y; row < y + h; ++row) {
    for (int col = x; col < x + w; ++col) sum += image.at(col, row)[0];
  }
  return sum / (static_cast<double>(w) * h);
}

// The grey a ramp fixture shows at `seconds`, in full-range RGB.
double expected_level(double seconds) { return std::min(219.0, 20 * seconds) * 255 / 219; }

// Each output picture's brightness matches the moment it is shown at.
void check_pictures_follow_time(const std::vector<Picture>& pictures) {
  REQUIRE_FALSE(pictures.empty());
  for (size_t i = 0; i < pictures.size(); ++i) {
    const Picture& p = pictures[i];
    if (i > 0) CHECK(p.seconds > pictures[i - 1].seconds);
    const double level = mean_level(p.rgb, p.rgb.width / 4, p.rgb.height / 4, p.rgb.width / 2, p.rgb.height / 2);
    INFO("picture " << i << " at " << p.seconds << " s");
    CHECK(std::fabs(level - expected_level(p.seconds)) < 12);
  }
}

std::string failure_code(const fs::path& input, const fs::path& output, const RenditionOptions& options = {}) {
  try {
    make_rendition(input, output, options);
  } catch (const MediaFailure& e) {
    INFO(e.what());
    CHECK(std::string(e.what()).size() > 10);  // a reason a person can read
    return e.code();
  }
  return "none";
}

// Byte offset of the first top-level MP4 box named `type`, or npos.
size_t box_offset(const fs::path& file, const char* type) {
  std::ifstream in(file, std::ios::binary);
  std::string head(4096, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  size_t at = 0;
  while (at + 8 <= head.size()) {
    const auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(head[at + i])); };
    const uint32_t size = byte(0) << 24 | byte(1) << 16 | byte(2) << 8 | byte(3);
    if (head.compare(at + 4, 4, type) == 0) return at;
    if (size < 8) break;
    at += size;
  }
  return std::string::npos;
}

}  // namespace

TEST_CASE("media: rendition sizes fit the long side, keep proportions and stay even", "[media]") {
  CHECK(fit_long_side({1920, 1080}, 1280).width == 1280);
  CHECK(fit_long_side({1920, 1080}, 1280).height == 720);
  CHECK(fit_long_side({1080, 1920}, 1280).width == 720);
  CHECK(fit_long_side({1080, 1920}, 1280).height == 1280);
  // Never scaled up; odd sides are made even.
  CHECK(fit_long_side({641, 361}, 1280).width == 640);
  CHECK(fit_long_side({641, 361}, 1280).height == 360);
  // 300 x 168.75 rounds to 169, made even.
  CHECK(fit_long_side({640, 360}, 300).width == 300);
  CHECK(fit_long_side({640, 360}, 300).height == 168);
  CHECK(fit_long_side({4000, 2}, 1280).height == 2);
}

TEST_CASE("media: rendition video bit rate fills the target after the audio", "[media]") {
  const BitRateLimits limits{200'000, 4'000'000};
  // 20 MiB over 60 s: 2.8 Mb/s in all, 96 kb/s of it audio.
  const double total = 20.0 * 1024 * 1024 * 8 * (1 - kContainerReserve) / 60;
  CHECK(video_bit_rate_for(20 << 20, 60, 96'000, 0, limits) == static_cast<int64_t>(total) - 96'000);
  // Clamped both ways.
  CHECK(video_bit_rate_for(20 << 20, 1, 96'000, 0, limits) == 4'000'000);
  CHECK(video_bit_rate_for(1 << 20, 3600, 96'000, 0, limits) == 200'000);
  // Never above the upload's own rate, but not below the minimum either.
  CHECK(video_bit_rate_for(20 << 20, 60, 96'000, 1'000'000, limits) == 1'000'000);
  CHECK(video_bit_rate_for(20 << 20, 60, 96'000, 50'000, limits) == 200'000);
  // No duration known: the maximum.
  CHECK(video_bit_rate_for(20 << 20, 0, 96'000, 0, limits) == 4'000'000);
}

TEST_CASE("media: a YUV picture turns clockwise and back", "[media]") {
  auto make = [](int w, int h) {
    AVFrame* f = av_frame_alloc();
    f->format = AV_PIX_FMT_YUV420P;
    f->width = w;
    f->height = h;
    REQUIRE(av_frame_get_buffer(f, 0) == 0);
    return f;
  };
  AVFrame* src = make(4, 2);
  for (int y = 0; y < 2; ++y) {
    for (int x = 0; x < 4; ++x) src->data[0][y * src->linesize[0] + x] = static_cast<uint8_t>(10 * y + x);
  }
  src->data[1][0] = 1, src->data[1][1] = 2;  // chroma is 2 x 1
  src->data[2][0] = 3, src->data[2][1] = 4;
  AVFrame* turned = make(2, 4);
  rotate_yuv420p(*src, *turned, 90);
  // Clockwise: the bottom-left corner goes to the top left.
  const auto luma = [](const AVFrame* f, int x, int y) { return f->data[0][y * f->linesize[0] + x]; };
  CHECK(luma(turned, 0, 0) == 10);
  CHECK(luma(turned, 1, 0) == 0);
  CHECK(luma(turned, 0, 3) == 13);
  CHECK(luma(turned, 1, 3) == 3);
  CHECK(turned->data[1][0] == 1);
  CHECK(turned->data[1][turned->linesize[1]] == 2);
  AVFrame* back = make(4, 2);
  rotate_yuv420p(*turned, *back, 270);
  for (int y = 0; y < 2; ++y) {
    for (int x = 0; x < 4; ++x) CHECK(luma(back, x, y) == luma(src, x, y));
  }
  AVFrame* half = make(4, 2);
  rotate_yuv420p(*src, *half, 180);
  CHECK(luma(half, 0, 0) == 13);
  CHECK(luma(half, 3, 1) == 0);
  CHECK(half->data[2][0] == 4);
  av_frame_free(&src);
  av_frame_free(&turned);
  av_frame_free(&back);
  av_frame_free(&half);
}

TEST_CASE("media: a rendition is an H.264 and AAC MP4 as long as its source, index first", "[media]") {
  Scratch scratch;
  const fs::path out = scratch / "landscape.mp4";
  const RenditionResult result = make_rendition(fixture("landscape.mp4"), out, {});
  CHECK(fs::exists(out));
  CHECK_FALSE(fs::exists(part_of(out)));
  CHECK(result.bytes == fs::file_size(out));
  CHECK(result.width == 640);  // smaller than 1280: not scaled up
  CHECK(result.height == 360);
  CHECK(result.video_frames == 300);
  CHECK(result.audio_bit_rate == 48'000);  // the source is mono
  CHECK(result.duration_seconds == Approx(source_seconds("landscape.mp4")).margin(kTwoFrames));

  const VideoInfo info = probe_output(out);
  CHECK(info.container == "mp4");
  CHECK(info.video_codec == "h264");
  CHECK(info.width == 640);
  CHECK(info.height == 360);
  CHECK(info.rotation == 0);
  CHECK(info.duration_seconds == Approx(source_seconds("landscape.mp4")).margin(kTwoFrames));
  CHECK(info.frame_rate == Approx(30).epsilon(0.01));
  CHECK(info.has_audio);
  CHECK(info.audio_codec == "aac");
  CHECK(info.audio_sample_rate == 48000);
  CHECK(info.audio_channels == 1);
  CHECK(info.streams == 2);
  // +faststart: the index comes before the media data.
  const size_t moov = box_offset(out, "moov");
  REQUIRE(moov != std::string::npos);
  CHECK((box_offset(out, "mdat") == std::string::npos || moov < box_offset(out, "mdat")));

  check_pictures_follow_time(decode_all(out));
}

TEST_CASE("media: a rendition of a busy video keeps near its size target", "[media]") {
  Scratch scratch;
  const fs::path out = scratch / "busy.mp4";
  RenditionOptions options;
  options.target_bytes = 250'000;  // 500 kb/s over 4 s; the source holds 3.4 Mb/s
  const RenditionResult result = make_rendition(fixture("busy.mp4"), out, options);
  INFO("bytes " << result.bytes << ", video " << result.video_bit_rate << " b/s");
  CHECK(result.bytes <= options.target_bytes * 11 / 10);
  // And it spends the budget rather than ignoring it.
  CHECK(result.bytes >= options.target_bytes * 6 / 10);
  CHECK(result.video_bit_rate > options.min_video_bit_rate);
  CHECK(result.video_bit_rate < 500'000);
}

TEST_CASE("media: a rendition of a simple video with a small target stays under it", "[media]") {
  Scratch scratch;
  const fs::path out = scratch / "landscape.mp4";
  RenditionOptions options;
  options.target_bytes = 60'000;  // under the 100 kB source: 46 kb/s over 10 s
  options.audio_bit_rate = 32'000;
  options.min_video_bit_rate = 20'000;
  const RenditionResult result = make_rendition(fixture("landscape.mp4"), out, options);
  INFO("bytes " << result.bytes << ", video " << result.video_bit_rate << " b/s");
  CHECK(result.video_bit_rate < 40'000);
  CHECK(result.bytes <= options.target_bytes * 11 / 10);
  CHECK(probe_output(out).duration_seconds == Approx(source_seconds("landscape.mp4")).margin(kTwoFrames));
}

TEST_CASE("media: a rendition fits max_long_side", "[media]") {
  Scratch scratch;
  const fs::path out = scratch / "small.mp4";
  RenditionOptions options;
  options.max_long_side = 300;
  const RenditionResult result = make_rendition(fixture("landscape.mkv"), out, options);
  CHECK(result.width == 300);
  CHECK(result.height == 168);
  const VideoInfo info = probe_output(out);
  CHECK(std::max(info.width, info.height) <= 300);
  CHECK(info.width == 300);
  CHECK(info.height == 168);
  CHECK(info.duration_seconds == Approx(source_seconds("landscape.mkv")).margin(kTwoFrames));
  check_pictures_follow_time(decode_all(out));
}

TEST_CASE("media: rotated phone video comes out upright with no rotation", "[media]") {
  for (const char* name : {"portrait_rotated.mp4", "portrait_rotated_ccw.mp4"}) {
    INFO(name);
    Scratch scratch;
    const fs::path out = scratch / "portrait.mp4";
    const RenditionResult result = make_rendition(fixture(name), out, {});
    CHECK(result.width == 180);
    CHECK(result.height == 320);
    const VideoInfo info = probe_output(out);
    CHECK(info.rotation == 0);
    CHECK(info.width == 180);  // stored upright: coded as shown
    CHECK(info.height == 320);
    CHECK(info.duration_seconds == Approx(source_seconds(name)).margin(kTwoFrames));
    CHECK_FALSE(info.has_audio);
    const auto pictures = decode_all(out);
    REQUIRE(pictures.size() == 120);
    for (size_t i : {size_t{0}, size_t{60}, size_t{119}}) {
      const RgbImage& p = pictures[i].rgb;
      // Upright, the top half is bright and the bottom half dark.
      CHECK(mean_level(p, 20, 20, 140, 100) > 200);
      CHECK(mean_level(p, 20, 200, 140, 100) < 40);
    }
  }
}

TEST_CASE("media: a video without audio gives a video-only rendition", "[media]") {
  Scratch scratch;
  const fs::path out = scratch / "silent.mp4";
  const RenditionResult result = make_rendition(fixture("no_audio.mp4"), out, {});
  CHECK(result.audio_bit_rate == 0);
  const VideoInfo info = probe_output(out);
  CHECK_FALSE(info.has_audio);
  CHECK(info.streams == 1);
  CHECK(info.video_codec == "h264");
  CHECK(info.duration_seconds == Approx(source_seconds("no_audio.mp4")).margin(kTwoFrames));
}

TEST_CASE("media: variable frame rate, Matroska, live WebM and HEVC keep their timing", "[media]") {
  Scratch scratch;
  // 2 s at 30 fps, then 4 s at 5 fps: 80 pictures, each at its own time.
  const fs::path vfr = scratch / "vfr.mp4";
  const RenditionResult result = make_rendition(fixture("vfr.mp4"), vfr, {});
  CHECK(result.video_frames == 80);
  CHECK(probe_output(vfr).duration_seconds == Approx(source_seconds("vfr.mp4")).margin(kTwoFrames));
  const auto pictures = decode_all(vfr);
  CHECK(pictures.size() == 80);
  check_pictures_follow_time(pictures);

  // No duration in the header: measured, then re-encoded whole.
  const fs::path live = scratch / "live.mp4";
  make_rendition(fixture("live.webm"), live, {});
  const VideoInfo info = probe_output(live);
  CHECK(info.video_codec == "h264");
  CHECK(info.duration_seconds == Approx(6).margin(kTwoFrames));  // the header states none
  check_pictures_follow_time(decode_all(live));

  const fs::path hevc = scratch / "hevc.mp4";
  make_rendition(fixture("hevc.mp4"), hevc, {});
  CHECK(probe_output(hevc).video_codec == "h264");
  CHECK(probe_output(hevc).duration_seconds == Approx(source_seconds("hevc.mp4")).margin(kTwoFrames));
  check_pictures_follow_time(decode_all(hevc));
}

TEST_CASE("media: a rendition of a bad file fails with a reason and leaves no file", "[media]") {
  Scratch scratch;
  const fs::path out = scratch / "out.mp4";
  // A .part left by an earlier attempt goes too.
  std::ofstream(part_of(out)) << "stale";
  CHECK(failure_code(fixture("text.mp4"), out) == "not_a_video");
  CHECK_FALSE(fs::exists(out));
  CHECK_FALSE(fs::exists(part_of(out)));
  CHECK(failure_code(fixture("empty.mp4"), out) == "empty_file");
  CHECK(failure_code(fixture("truncated.mp4"), out) == "corrupt");
  CHECK(failure_code(fixture("truncated_faststart.mp4"), out) == "truncated");
  CHECK(failure_code(fixture("unsupported.avi"), out) == "unsupported_container");
  CHECK(failure_code(fixture("huge_dimensions.mp4"), out) == "resolution_too_large");
  CHECK_FALSE(fs::exists(out));
  CHECK_FALSE(fs::exists(part_of(out)));
  CHECK(fs::is_empty(scratch.dir));
}

TEST_CASE("media: a rendition past its deadline fails with timeout and leaves no file", "[media]") {
  Scratch scratch;
  const fs::path out = scratch / "out.mp4";
  RenditionOptions options;
  options.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  CHECK(failure_code(fixture("landscape.mp4"), out, options) == "timeout");
  CHECK(fs::is_empty(scratch.dir));
}

TEST_CASE("media: a rendition into a missing directory is the machine's failure, not the file's", "[media]") {
  Scratch scratch;
  const fs::path out = scratch.dir / "missing" / "out.mp4";
  std::string failure;
  try {
    make_rendition(fixture("landscape.mp4"), out, {});
  } catch (const MediaFailure& e) {
    failure = "MediaFailure " + e.code();  // would mark the upload as bad
  } catch (const std::runtime_error& e) {
    failure = "runtime_error";
    CHECK(std::string(e.what()).find("missing") != std::string::npos);
  }
  CHECK(failure == "runtime_error");
  CHECK(fs::is_empty(scratch.dir));
}
