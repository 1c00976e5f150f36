#include "media/frame_decoder.hpp"

#include <algorithm>
#include <cmath>

#include "media/av_input.hpp"
#include "media/media_failure.hpp"
#include "media/sws_input.hpp"
#include "media/probe.hpp"

extern "C" {
#include <libavformat/avformat.h>
#include <libavutil/error.h>
}

namespace huntaze::media {
namespace {

// Packets read after a seek before giving up on finding the keyframe there
// (a lying index must not turn into a read of the whole file). A seek may
// land one keyframe early (MP4 seeks by presentation time, the index lists
// decoding times), so this allows for a long group of pictures.
constexpr int kMaxPacketsAfterSeek = 4096;

}  // namespace

FrameDecoder::FrameDecoder(AvInput& input, const VideoInfo& info, bool keyframes_only, int64_t max_pixels)
    : input_(input), info_(info), stream_index_(info.video_stream), packet_(av_packet_alloc()),
      keyframes_only_(keyframes_only) {
  if (!packet_) throw std::bad_alloc();
  input_.keep_only(stream_index_);
  codec_ = input_.open_decoder(stream_index_, [&](AVCodecContext& c) {
    c.max_pixels = max_pixels;
    if (keyframes_only_) {
      c.skip_frame = AVDISCARD_NONKEY;
      c.skip_loop_filter = AVDISCARD_ALL;  // thumbnails do not need deblocking
    }
  });
  const AVStream* stream = input_.format()->streams[stream_index_];
  start_pts_ = stream->start_time != AV_NOPTS_VALUE ? stream->start_time : 0;
  time_base_ = av_q2d(stream->time_base);
}

double FrameDecoder::seconds_of(int64_t pts) const {
  if (pts == AV_NOPTS_VALUE) return 0;
  return std::max(0.0, static_cast<double>(pts - start_pts_) * time_base_);
}

const std::vector<double>& FrameDecoder::indexed_keyframes() {
  if (index_read_) return keyframe_seconds_;
  index_read_ = true;
  AVStream* stream = input_.format()->streams[stream_index_];
  const int count = avformat_index_get_entries_count(stream);
  for (int i = 0; i < count; ++i) {
    const AVIndexEntry* entry = avformat_index_get_entry(stream, i);
    if (!entry || !(entry->flags & AVINDEX_KEYFRAME)) continue;
    const double at = seconds_of(entry->timestamp);
    if (!keyframe_seconds_.empty() && at <= keyframe_seconds_.back()) continue;  // out of order: not trusted
    keyframe_seconds_.push_back(at);
    keyframe_timestamps_.push_back(entry->timestamp);
  }
  return keyframe_seconds_;
}

bool FrameDecoder::decode(const AVPacket* packet, const std::function<bool(DecodedFrame&)>& on_frame) {
  int rc = avcodec_send_packet(codec_.get(), packet);
  // A damaged packet is skipped; the next keyframe starts clean.
  if (rc < 0 && rc != AVERROR(EAGAIN) && rc != AVERROR_EOF) {
    if (rc == AVERROR(ENOMEM)) throw std::bad_alloc();
    return false;
  }
  for (;;) {
    FramePtr frame(av_frame_alloc());
    if (!frame) throw std::bad_alloc();
    rc = avcodec_receive_frame(codec_.get(), frame.get());
    if (rc < 0) return false;  // EAGAIN, EOF or a broken frame
    DecodedFrame decoded{std::move(frame), 0};
    decoded.seconds = seconds_of(decoded.frame->best_effort_timestamp);
    if (on_frame(decoded)) return true;
  }
}

std::optional<DecodedFrame> FrameDecoder::keyframe_at(size_t index) {
  indexed_keyframes();
  if (index >= keyframe_timestamps_.size()) return std::nullopt;
  avcodec_flush_buffers(codec_.get());
  AVFormatContext* format = input_.format();
  int rc = av_seek_frame(format, stream_index_, keyframe_timestamps_[index], AVSEEK_FLAG_BACKWARD);
  if (rc < 0) {
    if (input_.timed_out()) input_.fail(rc, "timeout", "seeking");
    return std::nullopt;
  }
  std::optional<DecodedFrame> out;
  auto take = [&](DecodedFrame& frame) {
    out = std::move(frame);
    return true;
  };
  const int64_t target = keyframe_timestamps_[index];
  for (int packets = 0; packets < kMaxPacketsAfterSeek && input_.next_packet(packet_.get()); ++packets) {
    // Packets before the listed keyframe are passed over undecoded.
    const int64_t at = packet_->dts != AV_NOPTS_VALUE ? packet_->dts : packet_->pts;
    const bool wanted = packet_->stream_index == stream_index_ && (packet_->flags & AV_PKT_FLAG_KEY) &&
                        (at == AV_NOPTS_VALUE || at >= target);
    const bool done = wanted && decode(packet_.get(), take);
    av_packet_unref(packet_.get());
    if (done) return out;
    if (wanted) break;  // the keyframe went in; what it holds back comes out on draining
  }
  decode(nullptr, take);
  return out;
}

void FrameDecoder::scan(const std::function<void(DecodedFrame&)>& on_frame) {
  auto each = [&](DecodedFrame& frame) {
    on_frame(frame);
    return false;
  };
  avcodec_flush_buffers(codec_.get());
  while (input_.next_packet(packet_.get())) {
    if (packet_->stream_index == stream_index_ && (!keyframes_only_ || (packet_->flags & AV_PKT_FLAG_KEY))) {
      decode(packet_.get(), each);
    }
    av_packet_unref(packet_.get());
  }
  decode(nullptr, each);
}

RgbImage FrameDecoder::to_rgb(const AVFrame& frame, int box_w, int box_h) {
  if (frame.width <= 0 || frame.height <= 0 || frame.format < 0) throw MediaFailure("corrupt", "a decoded picture is empty");
  const bool sideways = info_.rotation == 90 || info_.rotation == 270;
  AVRational sar = frame.sample_aspect_ratio;
  const double shown_w = sar.num > 0 && sar.den > 0 ? frame.width * av_q2d(sar) : frame.width;
  const double upright_w = sideways ? frame.height : shown_w;
  const double upright_h = sideways ? shown_w : frame.height;
  const double scale = std::min(box_w / upright_w, box_h / upright_h);
  const int out_w = std::max(2, static_cast<int>(std::lround(upright_w * scale)) & ~1);
  const int out_h = std::max(2, static_cast<int>(std::lround(upright_h * scale)) & ~1);
  const int scaled_w = sideways ? out_h : out_w;
  const int scaled_h = sideways ? out_w : out_h;

  const SwsInput in = sws_input(frame);
  sws_.reset(sws_getCachedContext(sws_.release(), frame.width, frame.height, in.format, scaled_w, scaled_h,
                                  AV_PIX_FMT_RGB24, SWS_BILINEAR, nullptr, nullptr, nullptr));
  if (!sws_) throw MediaFailure("corrupt", "a decoded picture has an unusable pixel format");
  const int* matrix = sws_getCoefficients(source_matrix(frame.colorspace, frame.height));
  sws_setColorspaceDetails(sws_.get(), matrix, in.full_range ? 1 : 0, matrix, 1, 0, 1 << 16, 1 << 16);
  RgbImage scaled(scaled_w, scaled_h);
  uint8_t* dst[1] = {scaled.pixels.data()};
  const int dst_stride[1] = {scaled.stride()};
  sws_scale(sws_.get(), frame.data, frame.linesize, 0, frame.height, dst, dst_stride);
  return rotate_clockwise(scaled, info_.rotation);
}

}  // namespace huntaze::media
