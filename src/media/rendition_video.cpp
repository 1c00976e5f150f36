#include "media/rendition_video.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "media/media_failure.hpp"
#include "media/sws_input.hpp"
#include "media/mp4_writer.hpp"
#include "media/yuv_rotate.hpp"

extern "C" {
#include <libavutil/error.h>
#include <libavutil/opt.h>
}

namespace huntaze::media {
namespace {

// Seconds between keyframes: seeking in a player stays quick, and at the
// low bit rates of a rendition fewer keyframes leave more bits for the rest.
constexpr int kKeyframeSeconds = 4;

FramePtr picture_buffer(int width, int height) {
  FramePtr frame(av_frame_alloc());
  if (!frame) throw std::bad_alloc();
  frame->format = AV_PIX_FMT_YUV420P;
  frame->width = width;
  frame->height = height;
  if (av_frame_get_buffer(frame.get(), 0) < 0) throw std::bad_alloc();
  return frame;
}

}  // namespace

RenditionVideo::RenditionVideo(const VideoPlan& plan, bool global_header) : plan_(plan), packet_(av_packet_alloc()) {
  if (!packet_) throw std::bad_alloc();
  const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
  if (!codec) throw MediaFailure("encode_failed", "this FFmpeg has no H.264 encoder (libx264)");
  encoder_.reset(avcodec_alloc_context3(codec));
  if (!encoder_) throw std::bad_alloc();
  AVCodecContext& c = *encoder_;
  c.width = plan.size.width;
  c.height = plan.size.height;
  c.pix_fmt = AV_PIX_FMT_YUV420P;
  c.sample_aspect_ratio = {1, 1};
  c.time_base = plan.time_base;
  AVRational rate = plan.frame_rate;
  if (rate.num <= 0 || rate.den <= 0) rate = {30, 1};
  c.framerate = rate;
  frame_duration_ = std::max<int64_t>(1, av_rescale_q(1, av_inv_q(rate), plan.time_base));
  c.gop_size = std::max(1, static_cast<int>(std::lround(av_q2d(rate) * kKeyframeSeconds)));
  // Average bit rate, with a buffer of two seconds at twice the rate so that
  // no stretch of the file spikes far above what a download can carry.
  c.bit_rate = plan.bit_rate;
  c.rc_max_rate = plan.bit_rate * 2;
  c.rc_buffer_size = static_cast<int>(std::min<int64_t>(plan.bit_rate * 4, INT32_MAX));
  c.color_range = AVCOL_RANGE_MPEG;
  c.colorspace = plan.colorspace;
  c.color_primaries = plan.primaries;
  c.color_trc = plan.transfer;
  c.thread_count = std::max(1, plan.threads);
  if (global_header) c.flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  // veryfast: most of the size saving of the slower presets at a fraction of
  // their time, which matters for a job that shares the compute pool.
  av_opt_set(c.priv_data, "preset", "veryfast", 0);
  const int rc = avcodec_open2(&c, codec, nullptr);
  if (rc < 0) throw_encode_failed("video", "opening libx264", rc);

  frame_ = picture_buffer(plan.size.width, plan.size.height);
  if (plan.rotation == 90 || plan.rotation == 270) {
    sideways_ = picture_buffer(plan.size.height, plan.size.width);
  } else if (plan.rotation == 180) {
    sideways_ = picture_buffer(plan.size.width, plan.size.height);
  }
}

void RenditionVideo::connect(Mp4Writer& writer, int stream) noexcept {
  writer_ = &writer;
  stream_ = stream;
}

void RenditionVideo::convert(const AVFrame& picture) {
  if (picture.width <= 0 || picture.height <= 0 || picture.format < 0) {
    throw MediaFailure("corrupt", "a decoded picture is empty");
  }
  const SwsInput in = sws_input(picture);
  AVFrame& target = sideways_ ? *sideways_ : *frame_;
  // The encoder may still hold the previous picture's buffers.
  if (av_frame_make_writable(&target) < 0) throw std::bad_alloc();
  // A stream may change size midway (browsers' recordings do): the cached
  // context is rebuilt then, and the picture still fills the planned size.
  sws_.reset(sws_getCachedContext(sws_.release(), picture.width, picture.height, in.format, target.width, target.height,
                                  AV_PIX_FMT_YUV420P, SWS_BICUBIC, nullptr, nullptr, nullptr));
  if (!sws_) throw MediaFailure("corrupt", "a decoded picture has an unusable pixel format");
  // Same matrix in and out (the encoder is tagged with it); only the range
  // may change, to the limited range every player expects.
  const int* matrix = sws_getCoefficients(encoder_->colorspace);
  sws_setColorspaceDetails(sws_.get(), matrix, in.full_range ? 1 : 0, matrix, 0, 0, 1 << 16, 1 << 16);
  sws_scale(sws_.get(), picture.data, picture.linesize, 0, picture.height, target.data, target.linesize);
  if (sideways_) {
    if (av_frame_make_writable(frame_.get()) < 0) throw std::bad_alloc();
    rotate_yuv420p(*sideways_, *frame_, plan_.rotation);
  }
}

bool RenditionVideo::add(const AVFrame& picture) {
  int64_t pts = picture.best_effort_timestamp;
  if (pts == AV_NOPTS_VALUE) {
    pts = last_pts_ == AV_NOPTS_VALUE ? 0 : last_pts_ + frame_duration_;
  } else {
    pts = std::max<int64_t>(0, pts - plan_.start_pts);
  }
  if (last_pts_ != AV_NOPTS_VALUE && pts <= last_pts_) return false;
  convert(picture);
  last_duration_ = picture.pkt_duration > 0 ? picture.pkt_duration : frame_duration_;
  frame_->pts = pts;
  frame_->pict_type = AV_PICTURE_TYPE_NONE;  // the encoder chooses
  last_pts_ = pts;
  send(frame_.get());
  ++frames_;
  return true;
}

void RenditionVideo::finish() { send(nullptr); }

void RenditionVideo::send(const AVFrame* frame) {
  int rc = avcodec_send_frame(encoder_.get(), frame);
  if (rc < 0) throw_encode_failed("video", "a picture", rc);
  for (;;) {
    rc = avcodec_receive_packet(encoder_.get(), packet_.get());
    if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return;
    if (rc < 0) throw_encode_failed("video", "a packet", rc);
    // libx264 does not say how long a picture lasts; the muxer needs it for
    // the last one only (the others end where the next begins), which comes
    // out while draining: the source's last picture lasts as long there.
    if (packet_->duration <= 0) packet_->duration = frame ? frame_duration_ : last_duration_;
    writer_->write(*packet_, stream_, encoder_->time_base);
  }
}

double RenditionVideo::end_seconds() const noexcept {
  if (last_pts_ == AV_NOPTS_VALUE) return 0;
  return static_cast<double>(last_pts_ + last_duration_) * av_q2d(plan_.time_base);
}

}  // namespace huntaze::media
