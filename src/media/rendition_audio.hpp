// The audio half of a rendition: decoded audio in, AAC packets out to an
// Mp4Writer. libswresample turns whatever the upload holds into 48 kHz
// planar float, mono or stereo; a FIFO cuts it into the encoder's 1024-sample
// frames; FFmpeg's own AAC encoder encodes them. The first decoded frame's
// time places the track against the video (leading audio before the video's
// start is cut); after that the samples are laid end to end.
//
// Ownership: owns the encoder, resampler, FIFO and frames; borrows the writer.
// Thread-safety: one thread at a time.
#pragma once

#include <cstdint>
#include <memory>

#include "media/audio_resampler.hpp"
#include "media/av_ptr.hpp"

extern "C" {
struct AVAudioFifo;
struct SwrContext;
}

namespace huntaze::media {

class Mp4Writer;

struct AudioPlan {
  int channels = 2;             // 1 or 2
  int64_t bit_rate = 96'000;
  AVRational time_base{};       // the source stream's
  int64_t start_pts = 0;        // output time 0, in time_base
};

class RenditionAudio {
 public:
  static constexpr int kSampleRate = 48'000;

  // Opens the encoder. Throws MediaFailure("encode_failed").
  RenditionAudio(const AudioPlan& plan, bool global_header);
  ~RenditionAudio();
  RenditionAudio(const RenditionAudio&) = delete;
  RenditionAudio& operator=(const RenditionAudio&) = delete;

  const AVCodecContext& encoder() const noexcept { return *encoder_; }
  void connect(Mp4Writer& writer, int stream) noexcept;

  // Resamples and encodes one decoded frame (after connect). Throws
  // MediaFailure (corrupt: unusable audio; encode_failed).
  void add(const AVFrame& decoded);

  // Flushes the resampler and the FIFO (the last frame may be short) and
  // drains the encoder into the writer.
  void finish();

  double end_seconds() const noexcept { return static_cast<double>(next_pts_) / kSampleRate; }

 private:
  struct FifoFree {
    void operator()(AVAudioFifo* f) const;
  };

  // The resampler's output into the FIFO, less audio before output time 0.
  void queue(uint8_t* const* planes, int samples);
  void encode_from_fifo(int samples);
  void send(const AVFrame* frame);

  AudioPlan plan_;
  CodecContextPtr encoder_;
  std::unique_ptr<AudioResampler> resampler_;  // to the encoder's layout, planar float, 48 kHz
  std::unique_ptr<AVAudioFifo, FifoFree> fifo_;
  FramePtr frame_;  // what the encoder is given
  PacketPtr packet_;
  Mp4Writer* writer_ = nullptr;
  int stream_ = -1;
  bool placed_ = false;       // the first frame's time has been seen
  int64_t skip_samples_ = 0;  // audio before output time 0, still to cut
  int64_t next_pts_ = 0;      // in samples
};

}  // namespace huntaze::media
