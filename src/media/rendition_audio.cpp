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
#include <libswresample/swresample.h>
}

namespace huntaze::media {
namespace {

constexpr AVSampleFormat kFormat = AV_SAMPLE_FMT_FLTP;  // what FFmpeg's AAC encoder takes

std::string av_text(int averror) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(averror, buf, sizeof buf);
  return buf;
}

[[noreturn]] void encode_failed(const std::string& what, int averror) {
  if (averror == AVERROR(ENOMEM)) throw std::bad_alloc();
  throw MediaFailure("encode_failed", "the audio could not be encoded (" + what + "): " + av_text(averror));
}

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

void RenditionAudio::SwrFree::operator()(SwrContext* s) const { swr_free(&s); }
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
  if (rc < 0) encode_failed("opening the AAC encoder", rc);

  fifo_.reset(av_audio_fifo_alloc(kFormat, c.ch_layout.nb_channels, c.frame_size * 4));
  if (!fifo_) throw std::bad_alloc();
  frame_ = sample_buffer(c.ch_layout, c.frame_size);
}

RenditionAudio::~RenditionAudio() { av_channel_layout_uninit(&resampler_layout_); }

void RenditionAudio::connect(Mp4Writer& writer, int stream) noexcept {
  writer_ = &writer;
  stream_ = stream;
}

void RenditionAudio::add(const AVFrame& decoded) {
  if (decoded.nb_samples <= 0) return;
  if (decoded.sample_rate <= 0 || decoded.ch_layout.nb_channels <= 0 || decoded.format < 0) {
    throw MediaFailure("corrupt", "a decoded audio frame is unusable");
  }
  AVChannelLayout layout{};
  // Some decoders give a count without an order; the usual order is assumed.
  if (decoded.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
    av_channel_layout_default(&layout, decoded.ch_layout.nb_channels);
  } else if (av_channel_layout_copy(&layout, &decoded.ch_layout) < 0) {
    throw std::bad_alloc();
  }
  // A stream may change its layout or rate midway: the resampler built for
  // the old one would read the new frame wrongly, so it is rebuilt.
  const bool same = resampler_ && resampler_format_ == decoded.format && resampler_rate_ == decoded.sample_rate &&
                    av_channel_layout_compare(&resampler_layout_, &layout) == 0;
  if (!same) {
    if (resampler_) resample(nullptr);  // what the old one holds back
    resampler_.reset();
    av_channel_layout_uninit(&resampler_layout_);
    resampler_layout_ = layout;  // takes over what `layout` owns
    layout = {};
    resampler_format_ = decoded.format;
    resampler_rate_ = decoded.sample_rate;
    SwrContext* swr = nullptr;
    if (swr_alloc_set_opts2(&swr, &encoder_->ch_layout, kFormat, kSampleRate, &resampler_layout_,
                            static_cast<AVSampleFormat>(decoded.format), decoded.sample_rate, 0, nullptr) < 0 ||
        swr_init(swr) < 0) {
      swr_free(&swr);
      throw MediaFailure("corrupt", "the audio cannot be resampled");
    }
    resampler_.reset(swr);
  }
  av_channel_layout_uninit(&layout);

  if (!placed_) {
    placed_ = true;
    const int64_t pts = decoded.best_effort_timestamp;
    if (pts != AV_NOPTS_VALUE) {
      const int64_t offset = av_rescale_q(pts - plan_.start_pts, plan_.time_base, {1, kSampleRate});
      if (offset > 0) next_pts_ = offset;
      else skip_samples_ = -offset;
    }
  }
  resample(&decoded);
  while (av_audio_fifo_size(fifo_.get()) >= encoder_->frame_size) encode_from_fifo(encoder_->frame_size);
}

void RenditionAudio::resample(const AVFrame* decoded) {
  if (!resampler_) return;
  const int in_samples = decoded ? decoded->nb_samples : 0;
  const int room = swr_get_out_samples(resampler_.get(), in_samples);
  if (room <= 0) return;
  if (!converted_ || converted_->nb_samples < room) converted_ = sample_buffer(encoder_->ch_layout, room);
  const auto** in = decoded ? const_cast<const uint8_t**>(decoded->extended_data) : nullptr;
  const int made = swr_convert(resampler_.get(), converted_->data, room, in, in_samples);
  if (made < 0) throw MediaFailure("corrupt", "the audio cannot be resampled");
  const int cut = static_cast<int>(std::min<int64_t>(skip_samples_, made));
  skip_samples_ -= cut;
  if (made == cut) return;
  void* planes[AV_NUM_DATA_POINTERS] = {};
  for (int ch = 0; ch < encoder_->ch_layout.nb_channels; ++ch) {
    planes[ch] = converted_->data[ch] + static_cast<size_t>(cut) * sizeof(float);
  }
  if (av_audio_fifo_write(fifo_.get(), planes, made - cut) < made - cut) throw std::bad_alloc();
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
  resample(nullptr);
  while (av_audio_fifo_size(fifo_.get()) > 0) {
    encode_from_fifo(std::min(av_audio_fifo_size(fifo_.get()), encoder_->frame_size));
  }
  send(nullptr);
}

void RenditionAudio::send(const AVFrame* frame) {
  int rc = avcodec_send_frame(encoder_.get(), frame);
  if (rc < 0) encode_failed("a frame", rc);
  for (;;) {
    rc = avcodec_receive_packet(encoder_.get(), packet_.get());
    if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return;
    if (rc < 0) encode_failed("a packet", rc);
    writer_->write(*packet_, stream_, encoder_->time_base);
  }
}

}  // namespace huntaze::media
