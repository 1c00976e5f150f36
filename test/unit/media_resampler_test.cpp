// AudioResampler on synthetic frames: a track that changes its shape
// midway is converted frame by frame with the right shape, and a rate no
// microphone makes is refused before anything is allocated for it.
#include <catch2/catch.hpp>

#include "media/audio_resampler.hpp"
#include "media/av_ptr.hpp"
#include "media/media_failure.hpp"
#include "media/media_policy.hpp"
#include "media/probe.hpp"

extern "C" {
#include <libavutil/channel_layout.h>
}

using namespace huntaze::media;

namespace {

FramePtr silent_frame(const AVChannelLayout& layout, AVSampleFormat format, int rate, int samples) {
  FramePtr f(av_frame_alloc());
  REQUIRE(f);
  f->format = format;
  f->sample_rate = rate;
  f->nb_samples = samples;
  REQUIRE(av_channel_layout_copy(&f->ch_layout, &layout) == 0);
  REQUIRE(av_frame_get_buffer(f.get(), 0) == 0);
  av_samples_set_silence(f->extended_data, 0, samples, layout.nb_channels, format);
  return f;
}

}  // namespace

TEST_CASE("media: the resampler follows a track that changes layout, format and rate midway", "[media]") {
  AudioResampler resampler(AV_CHANNEL_LAYOUT_MONO, AV_SAMPLE_FMT_S16, 16000);
  int64_t total = 0;
  const AudioResampler::Sink count = [&](uint8_t* const* planes, int samples) {
    CHECK(planes[0] != nullptr);
    total += samples;
  };
  const AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO, stereo = AV_CHANNEL_LAYOUT_STEREO;
  // 1 s of mono 16-bit at 16 kHz, then 1 s of planar float stereo at 48 kHz
  // (the second shape read with the first's converter would read a plane
  // that is not there), then 1 s of 5.1 at 44.1 kHz.
  const AVChannelLayout surround = AV_CHANNEL_LAYOUT_5POINT1;
  for (int i = 0; i < 10; ++i) resampler.convert(*silent_frame(mono, AV_SAMPLE_FMT_S16, 16000, 1600), count);
  for (int i = 0; i < 10; ++i) resampler.convert(*silent_frame(stereo, AV_SAMPLE_FMT_FLTP, 48000, 4800), count);
  for (int i = 0; i < 10; ++i) resampler.convert(*silent_frame(surround, AV_SAMPLE_FMT_FLTP, 44100, 4410), count);
  resampler.flush(count);
  // Three seconds at 16 kHz, give or take the filters' edges.
  CHECK(total > 47000);
  CHECK(total < 49000);
}

TEST_CASE("media: the resampler refuses rates outside 8-384 kHz and frames without channels", "[media]") {
  AudioResampler resampler(AV_CHANNEL_LAYOUT_MONO, AV_SAMPLE_FMT_S16, 16000);
  const AudioResampler::Sink ignore = [](uint8_t* const*, int) {};
  const AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
  for (int rate : {1, 7999, 384001}) {
    INFO(rate);
    try {
      resampler.convert(*silent_frame(mono, AV_SAMPLE_FMT_S16, rate, 1000), ignore);
      FAIL("accepted");
    } catch (const MediaFailure& f) {
      CHECK(f.code() == "corrupt");
    }
  }
  CHECK_NOTHROW(resampler.convert(*silent_frame(mono, AV_SAMPLE_FMT_S16, 8000, 1000), ignore));
}

TEST_CASE("media: audio is decoded only in an accepted codec at a plausible rate", "[media]") {
  MediaPolicy policy;
  VideoInfo info;
  info.has_audio = true;
  info.audio_codec = "aac";
  info.audio_sample_rate = 48000;
  CHECK(audio_accepted(policy, info));
  info.audio_sample_rate = 1;
  CHECK_FALSE(audio_accepted(policy, info));
  info.audio_sample_rate = 500000;
  CHECK_FALSE(audio_accepted(policy, info));
  info.audio_sample_rate = 8000;
  info.audio_codec = "pcm_alaw";
  CHECK_FALSE(audio_accepted(policy, info));
  info.audio_codec = "aac";
  info.has_audio = false;
  CHECK_FALSE(audio_accepted(policy, info));
}
