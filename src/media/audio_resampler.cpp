#include "media/audio_resampler.hpp"

#include <new>

#include "media/media_failure.hpp"

extern "C" {
#include <libswresample/swresample.h>
}

namespace huntaze::media {

void AudioResampler::SwrFree::operator()(SwrContext* s) const {
  swr_free(&s);
}

AudioResampler::AudioResampler(const AVChannelLayout& out_layout, AVSampleFormat out_format, int out_rate)
    : out_format_(out_format), out_rate_(out_rate) {
  if (av_channel_layout_copy(&out_layout_, &out_layout) < 0) throw std::bad_alloc();
}

AudioResampler::~AudioResampler() {
  av_channel_layout_uninit(&out_layout_);
  av_channel_layout_uninit(&in_layout_);
}

void AudioResampler::convert(const AVFrame& in, const Sink& sink) {
  if (in.nb_samples <= 0) return;
  if (in.ch_layout.nb_channels <= 0 || in.format < 0 || in.sample_rate < kMinSampleRate ||
      in.sample_rate > kMaxSampleRate)
    throw MediaFailure("corrupt", "a decoded audio frame is unusable");
  AVChannelLayout layout{};
  // Some decoders give a count without an order; the usual order is assumed.
  if (in.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
    av_channel_layout_default(&layout, in.ch_layout.nb_channels);
  } else if (av_channel_layout_copy(&layout, &in.ch_layout) < 0) {
    throw std::bad_alloc();
  }
  const bool same = swr_ && in_format_ == in.format && in_rate_ == in.sample_rate &&
                    av_channel_layout_compare(&in_layout_, &layout) == 0;
  if (!same) {
    if (swr_) run(nullptr, sink);  // what the old shape holds back
    swr_.reset();
    av_channel_layout_uninit(&in_layout_);
    in_layout_ = layout;  // takes over what `layout` owns
    layout = {};
    in_format_ = in.format;
    in_rate_ = in.sample_rate;
    SwrContext* swr = nullptr;
    if (swr_alloc_set_opts2(&swr, &out_layout_, out_format_, out_rate_, &in_layout_,
                            static_cast<AVSampleFormat>(in.format), in.sample_rate, 0, nullptr) < 0 ||
        swr_init(swr) < 0) {
      swr_free(&swr);
      throw MediaFailure("corrupt", "the audio cannot be resampled");
    }
    swr_.reset(swr);
  }
  av_channel_layout_uninit(&layout);
  run(&in, sink);
}

void AudioResampler::flush(const Sink& sink) {
  if (swr_) run(nullptr, sink);
}

void AudioResampler::run(const AVFrame* in, const Sink& sink) {
  const int in_samples = in ? in->nb_samples : 0;
  const int room = swr_get_out_samples(swr_.get(), in_samples);
  if (room <= 0) return;
  if (!buffer_ || buffer_->nb_samples < room) {
    buffer_.reset(av_frame_alloc());
    if (!buffer_) throw std::bad_alloc();
    buffer_->format = out_format_;
    buffer_->sample_rate = out_rate_;
    buffer_->nb_samples = room;
    if (av_channel_layout_copy(&buffer_->ch_layout, &out_layout_) < 0 || av_frame_get_buffer(buffer_.get(), 0) < 0)
      throw std::bad_alloc();
  }
  const auto** data = in ? const_cast<const uint8_t**>(in->extended_data) : nullptr;
  const int made = swr_convert(swr_.get(), buffer_->extended_data, room, data, in_samples);
  if (made < 0) throw MediaFailure("corrupt", "the audio cannot be resampled");
  if (made > 0) sink(buffer_->extended_data, made);
}

}  // namespace huntaze::media
