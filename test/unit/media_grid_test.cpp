// The probe -> policy -> keyframes -> grid path over real files made by the
// FFmpeg CLI (test/support/media/make_fixtures.sh, run by scripts/test into
// $HUNTAZE_TEST_MEDIA). In every fixture but the portrait one, a picture's
// luma is 16 + 20 x its time in seconds, so the grid's cells can be checked
// against the times they are labelled with.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "huntaze/core/compute.hpp"
#include "media/av_input.hpp"
#include "media/frame_decoder.hpp"
#include "media/keyframe_grid.hpp"
#include "media/media_failure.hpp"
#include "media/probe.hpp"
#include "media/rgb_image.hpp"
#include "support/harness.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>
}

using namespace huntaze::media;
using huntaze::test::require_env;

namespace {

std::filesystem::path fixture(const char* name) {
  return std::filesystem::path(require_env("HUNTAZE_TEST_MEDIA")) / name;
}

// Decodes a JPEG back to RGB with libavcodec.
RgbImage decode_jpeg(const std::string& jpeg) {
  const AVCodec* codec = avcodec_find_decoder(AV_CODEC_ID_MJPEG);
  AVCodecContext* ctx = avcodec_alloc_context3(codec);
  REQUIRE(avcodec_open2(ctx, codec, nullptr) == 0);
  AVPacket* packet = av_packet_alloc();
  packet->data = reinterpret_cast<uint8_t*>(const_cast<char*>(jpeg.data()));
  packet->size = static_cast<int>(jpeg.size());
  AVFrame* frame = av_frame_alloc();
  REQUIRE(avcodec_send_packet(ctx, packet) == 0);
  REQUIRE(avcodec_receive_frame(ctx, frame) == 0);
  RgbImage image(frame->width, frame->height);
  SwsContext* sws = sws_getContext(frame->width, frame->height, static_cast<AVPixelFormat>(frame->format), frame->width,
                                   frame->height, AV_PIX_FMT_RGB24, SWS_POINT, nullptr, nullptr, nullptr);
  uint8_t* dst[1] = {image.pixels.data()};
  const int stride[1] = {image.stride()};
  sws_scale(sws, frame->data, frame->linesize, 0, frame->height, dst, stride);
  sws_freeContext(sws);
  av_frame_free(&frame);
  packet->data = nullptr;
  packet->size = 0;
  av_packet_free(&packet);
  avcodec_free_context(&ctx);
  return image;
}

// Mean of the red channel (the fixtures are grey) over a rectangle.
double mean_level(const RgbImage& image, int x, int y, int w, int h) {
  double sum = 0;
  for (int row = y; row < y + h; ++row) {
    for (int col = x; col < x + w; ++col) sum += image.at(col, row)[0];
  }
  return sum / (static_cast<double>(w) * h);
}

// The grey a fixture shows at `seconds`, in full-range RGB.
double expected_level(double seconds) { return std::min(219.0, 20 * seconds) * 255 / 219; }

std::string failure_code(const std::filesystem::path& file, const MediaPolicy& policy = {},
                         const GridOptions& options = {}) {
  try {
    make_grid(file, policy, options);
  } catch (const MediaFailure& e) {
    INFO(e.what());
    CHECK(std::string(e.what()).size() > 10);  // a reason a person can read
    return e.code();
  }
  return "none";
}

void check_cells_follow_time(const GridResult& grid) {
  const RgbImage sheet = decode_jpeg(grid.grid_jpeg);
  REQUIRE(sheet.width == grid.grid_width);
  REQUIRE(sheet.height == grid.grid_height);
  for (size_t i = 0; i < grid.cells.size(); ++i) {
    const GridCell& c = grid.cells[i];
    if (i > 0) CHECK(c.seconds > grid.cells[i - 1].seconds);
    // The top half of the cell: the label sits at the bottom left.
    const double level = mean_level(sheet, c.x + c.width / 4, c.y + c.height / 8, c.width / 2, c.height / 3);
    INFO("cell " << i << " at " << c.seconds << " s");
    CHECK(std::fabs(level - expected_level(c.seconds)) < 12);
  }
}

}  // namespace

TEST_CASE("media: probe reads an MP4 header", "[media]") {
  const VideoInfo info = probe_file(fixture("landscape.mp4"), {}, {});
  CHECK(info.container == "mp4");
  CHECK(info.video_codec == "h264");
  CHECK(info.width == 640);
  CHECK(info.height == 360);
  CHECK(info.display_width == 640);
  CHECK(info.display_height == 360);
  CHECK(info.rotation == 0);
  CHECK(info.frame_rate == Approx(30).epsilon(0.01));
  CHECK(info.duration_seconds == Approx(10).margin(0.1));
  CHECK(info.bit_rate > 0);
  CHECK(info.streams == 2);
  CHECK(info.has_audio);
  CHECK(info.audio_codec == "aac");
  CHECK(info.audio_channels == 1);
  CHECK(info.audio_sample_rate == 44100);
}

TEST_CASE("media: probe reads Matroska, rotation and silent files", "[media]") {
  const VideoInfo mkv = probe_file(fixture("landscape.mkv"), {}, {});
  CHECK(mkv.container == "matroska");
  CHECK(mkv.video_codec == "h264");
  CHECK(mkv.duration_seconds == Approx(10).margin(0.1));
  CHECK(mkv.has_audio);

  const VideoInfo portrait = probe_file(fixture("portrait_rotated.mp4"), {}, {});
  CHECK(portrait.width == 320);
  CHECK(portrait.height == 180);
  CHECK(portrait.rotation == 90);
  CHECK(portrait.display_width == 180);
  CHECK(portrait.display_height == 320);
  const VideoInfo other_way = probe_file(fixture("portrait_rotated_ccw.mp4"), {}, {});
  CHECK(other_way.rotation == 270);
  CHECK(other_way.display_width == 180);
  CHECK(other_way.display_height == 320);

  const VideoInfo silent = probe_file(fixture("no_audio.mp4"), {}, {});
  CHECK_FALSE(silent.has_audio);
  CHECK(silent.streams == 1);

  const VideoInfo hevc = probe_file(fixture("hevc.mp4"), {}, {});
  CHECK(hevc.video_codec == "hevc");
}

TEST_CASE("media: a 16-frame grid shows distinct keyframes in time order", "[media]") {
  const GridResult grid = make_grid(fixture("landscape.mp4"), {}, {});
  CHECK(grid.method == "index");
  REQUIRE(grid.cells.size() == 16);
  CHECK(grid.grid_width <= 1344);
  CHECK(grid.grid_height <= 756);
  CHECK(grid.grid_width > grid.grid_height);
  for (const GridCell& c : grid.cells) {
    // Keyframes are every 0.5 s in this file.
    CHECK(std::fabs(c.seconds * 2 - std::round(c.seconds * 2)) < 0.01);
  }
  std::string times;
  for (const GridCell& c : grid.cells) times += std::to_string(c.seconds) + " ";
  INFO(times);
  CHECK(grid.cells.front().seconds < 1);
  CHECK(grid.cells.back().seconds > 9);
  check_cells_follow_time(grid);

  const RgbImage poster = decode_jpeg(grid.poster_jpeg);
  CHECK(poster.width == 640);
  CHECK(poster.height == 360);
  CHECK(grid.poster_width == 640);
}

TEST_CASE("media: decoders in parallel on the compute pool make the same grid", "[media]") {
  huntaze::Compute compute(2);
  GridOptions options;
  options.workers = 4;
  const ParallelFor on_pool = [&](int parts, const std::function<void(int)>& part) { compute.parallel_for(parts, part); };
  const GridResult parallel = make_grid(fixture("landscape.mp4"), {}, options, on_pool);
  const GridResult single = make_grid(fixture("landscape.mp4"), {}, {});
  REQUIRE(parallel.cells.size() == single.cells.size());
  for (size_t i = 0; i < single.cells.size(); ++i) CHECK(parallel.cells[i].seconds == single.cells[i].seconds);
  check_cells_follow_time(parallel);
}

TEST_CASE("media: Matroska and HEVC files make grids", "[media]") {
  const GridResult mkv = make_grid(fixture("landscape.mkv"), {}, {});
  CHECK(mkv.cells.size() == 16);
  check_cells_follow_time(mkv);
  const GridResult hevc = make_grid(fixture("hevc.mp4"), {}, {});
  // 4 s with a keyframe every 0.5 s: too few keyframes, every frame decoded.
  CHECK(hevc.method == "full_scan");
  CHECK(hevc.cells.size() == 16);
  check_cells_follow_time(hevc);
}

TEST_CASE("media: rotated phone video comes out upright in portrait cells", "[media]") {
  // Stored turned one way or the other, shown turned back: 90 and 270 degrees.
  for (const char* name : {"portrait_rotated.mp4", "portrait_rotated_ccw.mp4"}) {
    INFO(name);
    const GridResult grid = make_grid(fixture(name), {}, {});
    REQUIRE_FALSE(grid.cells.empty());
    for (const GridCell& c : grid.cells) CHECK(c.height > c.width);
    CHECK(grid.poster_width == 180);
    CHECK(grid.poster_height == 320);
    const RgbImage poster = decode_jpeg(grid.poster_jpeg);
    // Upright, the top half is bright and the bottom half dark.
    CHECK(mean_level(poster, 20, 20, 140, 100) > 200);
    CHECK(mean_level(poster, 20, 200, 140, 100) < 40);
    const RgbImage sheet = decode_jpeg(grid.grid_jpeg);
    const GridCell& c = grid.cells.front();
    CHECK(mean_level(sheet, c.x + 4, c.y + 4, c.width - 8, c.height / 3) > 200);
  }
}

TEST_CASE("media: scarce keyframes fall back to a scan", "[media]") {
  // One keyframe in one second: every frame is decoded.
  const GridResult short_clip = make_grid(fixture("very_short.mp4"), {}, {});
  CHECK(short_clip.method == "full_scan");
  CHECK(short_clip.cells.size() == 16);
  check_cells_follow_time(short_clip);
  // One keyframe in a minute: too long to decode whole; key frames only.
  const GridResult sparse = make_grid(fixture("sparse_keyframes.mp4"), {}, {});
  CHECK(sparse.method == "keyframe_scan");
  CHECK(sparse.cells.size() == 1);
  // A variable frame rate keeps its real times.
  const GridResult vfr = make_grid(fixture("vfr.mp4"), {}, {});
  CHECK(vfr.cells.size() >= 8);
  CHECK(vfr.cells.back().seconds > 4);
  check_cells_follow_time(vfr);
}

TEST_CASE("media: a live-written WebM without a duration is measured and spread over", "[media]") {
  const VideoInfo info = probe_file(fixture("live.webm"), {}, {});
  CHECK(info.container == "webm");
  CHECK(info.video_codec == "vp9");
  CHECK(info.duration_seconds == Approx(6).margin(0.1));
  const GridResult grid = make_grid(fixture("live.webm"), {}, {});
  CHECK(grid.info.duration_seconds == Approx(6).margin(0.1));
  CHECK(grid.cells.size() == 16);
  CHECK(grid.cells.back().seconds > 5);
  check_cells_follow_time(grid);
  // Measured, it is held to the policy like any other.
  MediaPolicy short_only;
  short_only.max_duration_seconds = 5;
  CHECK(failure_code(fixture("live.webm"), short_only) == "too_long");
}

TEST_CASE("media: the policy refuses before decoding", "[media]") {
  CHECK(failure_code(fixture("huge_dimensions.mp4")) == "resolution_too_large");
  CHECK(failure_code(fixture("unsupported.avi")) == "unsupported_container");
  MediaPolicy short_only;
  short_only.max_duration_seconds = 5;
  CHECK(failure_code(fixture("landscape.mp4"), short_only) == "too_long");
  MediaPolicy no_h264;
  no_h264.video_codecs = {"hevc"};
  CHECK(failure_code(fixture("landscape.mp4"), no_h264) == "unsupported_codec");
  MediaPolicy one_stream;
  one_stream.max_streams = 1;
  CHECK(failure_code(fixture("landscape.mp4"), one_stream) == "too_many_streams");
  MediaPolicy mp4_only;
  mp4_only.containers = {"mp4"};
  CHECK(failure_code(fixture("landscape.mkv"), mp4_only) == "unsupported_container");
}

TEST_CASE("media: bad files fail with a reason", "[media]") {
  CHECK(failure_code(fixture("empty.mp4")) == "empty_file");
  CHECK(failure_code(fixture("text.mp4")) == "not_a_video");
  CHECK(failure_code(fixture("truncated.mp4")) == "corrupt");
  CHECK(failure_code(fixture("truncated_faststart.mp4")) == "truncated");
  const std::string header = failure_code(fixture("corrupt_header.mp4"));
  CHECK((header == "corrupt" || header == "not_a_video"));
}

TEST_CASE("media: a deadline stops the work", "[media]") {
  GridOptions options;
  options.deadline = std::chrono::milliseconds(0);
  CHECK(failure_code(fixture("landscape.mp4"), {}, options) == "timeout");
}

TEST_CASE("media: a deadline passing mid-work stops the decoding loops, not only the opening", "[media]") {
  // Opened and probed in time; the deadline then passes before any frame
  // is decoded: each loop must notice on its next read.
  InputLimits limits;
  AvInput input(fixture("landscape.mp4"), limits);
  const VideoInfo info = probe(input);
  FrameDecoder keys(input, info, true, max_pixels(MediaPolicy{}));
  REQUIRE_FALSE(keys.indexed_keyframes().empty());
  input.set_deadline(std::chrono::steady_clock::now() - std::chrono::seconds(1));
  try {
    keys.keyframe_at(keys.indexed_keyframes().size() / 2);
    FAIL("a keyframe was decoded after the deadline");
  } catch (const MediaFailure& f) {
    CHECK(f.code() == "timeout");
  }
}
