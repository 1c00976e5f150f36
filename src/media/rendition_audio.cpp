#include "media/rendition_audio.hpp"

#include <algorithm>
#include <string>

#include "media/media_failure.hpp"
#include "media/mp4_writer.hpp"

extern "C" {
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/error.h>
#include <libavutil/samplefmt.h>
}

namespace huntaze::media {
namespace {

constexpr AVSampleFormat kFormat = AV_SAMPLE_FMT_FLTP;  // what FFmpeg's AAC encoder takes

FramePtr sample_buffer(const AVChannelLayout& layout, int samples) {
  FramePtr frame(av_frame_alloc());
  if (!frame) throw std::bad_alloc();
  frame->format = kFormat;
  frame->sample_rate = RenditionAudio::kSampleRate;
  frame->nb_samples = samples;
  if (av_channel_layout_copy(&frame->ch_layout, &layout) < 0 || av_frame_get_buffer(frame.get(), 0) < 0) {
    throw std::bad_alloc();
  }
  return frame;
}

}  // namespace

void RenditionAudio::FifoFree::operator()(AVAudioFifo* f) const { av_audio_fifo_free(f); }

RenditionAudio::RenditionAudio(const AudioPlan& plan, bool global_header) : plan_(plan), packet_(av_packet_alloc()) {
  if (!packet_) throw std::bad_alloc();
  // FFmpeg's own encoder: always built in, unlike libfdk-aac.
  const AVCodec* codec = avcodec_find_encoder_by_name("aac");
  if (!codec) throw MediaFailure("encode_failed", "this FFmpeg has no AAC encoder");
  encoder_.reset(avcodec_alloc_context3(codec));
  if (!encoder_) throw std::bad_alloc();
  AVCodecContext& c = *encoder_;
  c.sample_fmt = kFormat;
  c.sample_rate = kSampleRate;
  av_channel_layout_default(&c.ch_layout, plan.channels == 1 ? 1 : 2);
  c.bit_rate = plan.bit_rate;
  c.time_base = {1, kSampleRate};
  if (global_header) c.flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  const int rc = avcodec_open2(&c, codec, nullptr);
  if (rc < 0) throw_encode_failed("audio", "opening the AAC encoder", rc);

  resampler_ = std::make_unique<AudioResampler>(c.ch_layout, kFormat, kSampleRate);
  fifo_.reset(av_audio_fifo_alloc(kFormat, c.ch_layout.nb_channels, c.frame_size * 4));
  if (!fifo_) throw std::bad_alloc();
  frame_ = sample_buffer(c.ch_layout, c.frame_size);
}

RenditionAudio::~RenditionAudio() = default;

void RenditionAudio::connect(Mp4Writer& writer, int stream) noexcept {
  writer_ = &writer;
  stream_ = stream;
}

void RenditionAudio::add(const AVFrame& decoded) {
  if (decoded.nb_samples <= 0) return;
  if (!placed_) {
    placed_ = true;
    const int64_t pts = decoded.best_effort_timestamp;
    if (pts != AV_NOPTS_VALUE) {
      const int64_t offset = av_rescale_q(pts - plan_.start_pts, plan_.time_base, {1, kSampleRate});
      if (offset > 0) next_pts_ = offset;
      else skip_samples_ = -offset;
    }
  }
  resampler_->convert(decoded, [this](uint8_t* const* planes, int samples) { queue(planes, samples); });
  while (av_audio_fifo_size(fifo_.get()) >= encoder_->frame_size) encode_from_fifo(encoder_->frame_size);
}

void RenditionAudio::queue(uint8_t* const* planes, int made) {
  const int cut = static_cast<int>(std::min<int64_t>(skip_samples_, made));
  skip_samples_ -= cut;
  if (made == cut) return;
  void* shifted[AV_NUM_DATA_POINTERS] = {};
  for (int ch = 0; ch < encoder_->ch_layout.nb_channels; ++ch) {
    shifted[ch] = planes[ch] + static_cast<size_t>(cut) * sizeof(float);
  }
  if (av_audio_fifo_write(fifo_.get(), shifted, made - cut) < made - cut) throw std::bad_alloc();
}

void RenditionAudio::encode_from_fifo(int samples) {
  frame_->nb_samples = encoder_->frame_size;  // the size its buffers were made for
  if (av_frame_make_writable(frame_.get()) < 0) throw std::bad_alloc();
  const int got = av_audio_fifo_read(fifo_.get(), reinterpret_cast<void**>(frame_->data), samples);
  if (got < samples) throw MediaFailure("encode_failed", "the audio buffer ran short");
  int length = samples;
  if (samples < encoder_->frame_size && !(encoder_->codec->capabilities & AV_CODEC_CAP_SMALL_LAST_FRAME)) {
    av_samples_set_silence(frame_->data, samples, encoder_->frame_size - samples, encoder_->ch_layout.nb_channels,
                           kFormat);
    length = encoder_->frame_size;
  }
  frame_->nb_samples = length;
  frame_->pts = next_pts_;
  next_pts_ += samples;
  send(frame_.get());
}

void RenditionAudio::finish() {
  resampler_->flush([this](uint8_t* const* planes, int samples) { queue(planes, samples); });
  while (av_audio_fifo_size(fifo_.get()) > 0) {
    encode_from_fifo(std::min(av_audio_fifo_size(fifo_.get()), encoder_->frame_size));
  }
  send(nullptr);
}

void RenditionAudio::send(const AVFrame* frame) {
  int rc = avcodec_send_frame(encoder_.get(), frame);
  if (rc < 0) throw_encode_failed("audio", "a frame", rc);
  for (;;) {
    rc = avcodec_receive_packet(encoder_.get(), packet_.get());
    if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return;
    if (rc < 0) throw_encode_failed("audio", "a packet", rc);
    writer_->write(*packet_, stream_, encoder_->time_base);
  }
}

}  // namespace huntaze::media
