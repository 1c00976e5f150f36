// Decoded audio frames converted to one output format (layout, sample
// format, rate) with libswresample: what the transcript's WAV and the
// rendition's AAC encoder are fed.
//
// A stream may change its channel layout, sample format or rate midway (AAC
// does when its channel setup changes): the converter is then rebuilt, after
// handing out what the old one held back, instead of reading the new frame's
// planes with the old shape. Sample rates outside 8 kHz..384 kHz are refused
// as corrupt, so a file declaring 1 Hz cannot make one frame's output (and
// its buffer) grow without bound.
//
// Ownership: owns its SwrContext and output buffer. Thread-safety: one thread.
#pragma once

#include <functional>
#include <memory>

#include "media/av_ptr.hpp"

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/samplefmt.h>
struct SwrContext;
}

namespace huntaze::media {

inline constexpr int kMinSampleRate = 8'000;
inline constexpr int kMaxSampleRate = 384'000;

class AudioResampler {
 public:
  // Receives converted samples: the output's planes (one for interleaved
  // formats), valid during the call, and how many samples they hold.
  using Sink = std::function<void(uint8_t* const* planes, int samples)>;

  AudioResampler(const AVChannelLayout& out_layout, AVSampleFormat out_format, int out_rate);
  ~AudioResampler();
  AudioResampler(const AudioResampler&) = delete;
  AudioResampler& operator=(const AudioResampler&) = delete;

  // Converts one decoded frame. Throws MediaFailure("corrupt") for a frame
  // that cannot be converted (no channels, a rate out of range).
  void convert(const AVFrame& in, const Sink& sink);
  // Hands out what the converter still holds back (the end of the stream).
  void flush(const Sink& sink);

 private:
  struct SwrFree {
    void operator()(SwrContext* s) const;
  };
  void run(const AVFrame* in, const Sink& sink);

  AVChannelLayout out_layout_{};
  AVSampleFormat out_format_;
  int out_rate_;
  std::unique_ptr<SwrContext, SwrFree> swr_;
  AVChannelLayout in_layout_{};  // what swr_ was built for
  int in_format_ = -1;
  int in_rate_ = 0;
  FramePtr buffer_;  // the output, grown as needed
};

}  // namespace huntaze::media
