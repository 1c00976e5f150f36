// The video half of a rendition: decoded pictures in, H.264 packets out to
// an Mp4Writer. Each picture is scaled (swscale) to the planned size as
// 8-bit 4:2:0, turned upright when the upload carries a display matrix, and
// encoded by libx264 at an average bit rate. Timestamps keep the source's
// time base, so a variable frame rate stays variable; a picture whose time
// does not move forward is dropped (encoder and muxer both require it).
//
// Ownership: owns the encoder, scaler and frames; borrows the writer.
// Thread-safety: one thread at a time.
#pragma once

#include <cstdint>

#include "media/av_ptr.hpp"
#include "media/rendition_plan.hpp"

namespace huntaze::media {

class Mp4Writer;

struct VideoPlan {
  PictureSize size;           // upright, as encoded
  int rotation = 0;           // clockwise degrees that turn a decoded picture upright
  int64_t bit_rate = 0;
  AVRational time_base{};     // the source stream's
  AVRational frame_rate{};    // average; a hint to rate control and the keyframe interval
  int64_t start_pts = 0;      // the source's first timestamp: output time 0
  AVColorSpace colorspace = AVCOL_SPC_UNSPECIFIED;  // as the source states them
  AVColorPrimaries primaries = AVCOL_PRI_UNSPECIFIED;
  AVColorTransferCharacteristic transfer = AVCOL_TRC_UNSPECIFIED;
  int threads = 1;
};

class RenditionVideo {
 public:
  // Opens the encoder. Throws MediaFailure("encode_failed").
  RenditionVideo(const VideoPlan& plan, bool global_header);

  const AVCodecContext& encoder() const noexcept { return *encoder_; }
  void connect(Mp4Writer& writer, int stream) noexcept;

  // Encodes one decoded picture (after connect). False when it was dropped
  // for not moving time forward. Throws MediaFailure (corrupt: a picture
  // swscale cannot read; encode_failed).
  bool add(const AVFrame& picture);

  // Drains the encoder into the writer.
  void finish();

  int64_t frames() const noexcept { return frames_; }
  // Where the last picture ends, from output time 0.
  double end_seconds() const noexcept;

 private:
  void send(const AVFrame* frame);
  void convert(const AVFrame& picture);

  VideoPlan plan_;
  CodecContextPtr encoder_;
  SwsPtr sws_;
  FramePtr sideways_;  // the scaled picture before its turn (rotated video only)
  FramePtr frame_;     // what the encoder is given
  PacketPtr packet_;
  Mp4Writer* writer_ = nullptr;
  int stream_ = -1;
  int64_t frame_duration_ = 1;  // nominal, in time_base
  int64_t last_duration_ = 1;   // of the last picture, as the source said
  int64_t last_pts_ = AV_NOPTS_VALUE;
  int64_t frames_ = 0;
};

}  // namespace huntaze::media
