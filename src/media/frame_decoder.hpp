// Decodes pictures of one AvInput's video stream for the contact sheet:
// either the keyframe at a given index entry (seek, read packets up to that
// keyframe, decode just it) or a scan of the whole stream. In keyframe work
// the decoder skips non-key frames and the loop filter, which is what makes
// 16 frames of a long 1080p video cost a fraction of a second.
//
// Pictures come out as RGB at a requested size, turned upright.
//
// Ownership: borrows the AvInput, which must outlive it.
// Thread-safety: one thread at a time (open one AvInput and decoder per thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "media/av_ptr.hpp"
#include "media/rgb_image.hpp"

namespace huntaze::media {

class AvInput;
struct VideoInfo;

struct DecodedFrame {
  FramePtr frame;
  double seconds = 0;  // from the start of the video
};

class FrameDecoder {
 public:
  // `keyframes_only`: decode key frames alone (grids); otherwise every frame.
  // `max_pixels`: the decoder refuses larger pictures.
  FrameDecoder(AvInput& input, const VideoInfo& info, bool keyframes_only, int64_t max_pixels);

  // Times (seconds from the start) of the keyframes listed in the stream's
  // index, ascending; empty when the container has no index.
  const std::vector<double>& indexed_keyframes();

  // The keyframe at position `index` of indexed_keyframes(), or nothing
  // when it does not decode.
  std::optional<DecodedFrame> keyframe_at(size_t index);

  // Decodes the stream from the current position to the end, handing each
  // picture to `on_frame` (key frames only when so constructed).
  void scan(const std::function<void(DecodedFrame&)>& on_frame);

  // The picture scaled to fit `box_w` x `box_h` in display proportions and
  // turned upright (the box is in upright terms).
  RgbImage to_rgb(const AVFrame& frame, int box_w, int box_h);

 private:
  // Sends one packet (nullptr drains) and hands out what comes back until
  // on_frame returns true. Returns whether it did.
  bool decode(const AVPacket* packet, const std::function<bool(DecodedFrame&)>& on_frame);
  double seconds_of(int64_t pts) const;

  AvInput& input_;
  const VideoInfo& info_;
  int stream_index_;
  CodecContextPtr codec_;
  PacketPtr packet_;
  SwsPtr sws_;
  bool keyframes_only_;
  int64_t start_pts_ = 0;
  double time_base_ = 0;
  bool index_read_ = false;
  std::vector<double> keyframe_seconds_;
  std::vector<int64_t> keyframe_timestamps_;
};

}  // namespace huntaze::media
