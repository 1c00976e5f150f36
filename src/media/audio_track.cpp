#include "media/audio_track.hpp"

#include <cstring>
#include <memory>

#include "media/audio_resampler.hpp"
#include "media/av_input.hpp"
#include "media/av_ptr.hpp"
#include "media/media_failure.hpp"
#include "media/probe.hpp"

extern "C" {
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
}

namespace huntaze::media {
namespace {

void put_u32(std::string& out, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[at + static_cast<size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

void put_u16(std::string& out, size_t at, uint16_t v) {
  out[at] = static_cast<char>(v & 0xFF);
  out[at + 1] = static_cast<char>(v >> 8);
}

// The 44-byte header of a PCM WAV file holding `data_bytes` of samples.
void write_wav_header(std::string& out, int sample_rate, size_t data_bytes) {
  std::memcpy(out.data(), "RIFF", 4);
  put_u32(out, 4, static_cast<uint32_t>(36 + data_bytes));
  std::memcpy(out.data() + 8, "WAVEfmt ", 8);
  put_u32(out, 16, 16);  // fmt chunk size
  put_u16(out, 20, 1);   // PCM
  put_u16(out, 22, 1);   // mono
  put_u32(out, 24, static_cast<uint32_t>(sample_rate));
  put_u32(out, 28, static_cast<uint32_t>(sample_rate * 2));  // bytes per second
  put_u16(out, 32, 2);                                       // bytes per frame
  put_u16(out, 34, 16);                                      // bits per sample
  std::memcpy(out.data() + 36, "data", 4);
  put_u32(out, 40, static_cast<uint32_t>(data_bytes));
}

}  // namespace

AudioTrack extract_audio(const std::filesystem::path& file, const MediaPolicy& policy, const AudioOptions& options) {
  InputLimits limits;
  limits.deadline = std::chrono::steady_clock::now() + options.deadline;
  AvInput input(file, limits);
  const VideoInfo info = probe_checked(input, file, policy, limits);
  if (!audio_accepted(policy, info)) throw MediaFailure("no_audio", "the video has no audio track to transcribe");

  AVFormatContext* format = input.format();
  const int index = av_find_best_stream(format, AVMEDIA_TYPE_AUDIO, -1, info.video_stream, nullptr, 0);
  if (index < 0) throw MediaFailure("no_audio", "the video has no audio track to transcribe");
  input.keep_only(index);
  CodecContextPtr decoder = input.open_decoder(index);

  // Mono 16-bit at the transcript's rate, whatever the track's shape (or
  // its changes of shape).
  AudioResampler resampler(AV_CHANNEL_LAYOUT_MONO, AV_SAMPLE_FMT_S16, options.sample_rate);

  const auto max_samples = static_cast<size_t>(options.max_seconds * options.sample_rate);
  std::string out(44, '\0');
  size_t samples = 0;
  AudioTrack track;
  FramePtr frame(av_frame_alloc());
  PacketPtr packet(av_packet_alloc());
  if (!frame || !packet) throw std::bad_alloc();

  const AudioResampler::Sink append = [&](uint8_t* const* planes, int made) {
    out.append(reinterpret_cast<const char*>(planes[0]), static_cast<size_t>(made) * 2);
    samples += static_cast<size_t>(made);
  };
  auto drain_frames = [&] {
    while (samples < max_samples && avcodec_receive_frame(decoder.get(), frame.get()) == 0) {
      resampler.convert(*frame, append);
      av_frame_unref(frame.get());
    }
  };

  while (samples < max_samples && input.next_packet(packet.get())) {
    if (packet->stream_index == index) {
      // A damaged packet is skipped; the decoder recovers at the next one.
      if (avcodec_send_packet(decoder.get(), packet.get()) == 0) drain_frames();
    }
    av_packet_unref(packet.get());
  }
  if (samples < max_samples) {
    avcodec_send_packet(decoder.get(), nullptr);
    drain_frames();
    resampler.flush(append);  // what the resampler holds back
  } else {
    track.cut = true;
  }
  if (samples > max_samples) {
    out.resize(44 + max_samples * 2);
    samples = max_samples;
  }
  if (samples == 0) throw MediaFailure("corrupt", "no audio could be decoded");
  write_wav_header(out, options.sample_rate, samples * 2);
  track.wav = std::move(out);
  track.seconds = static_cast<double>(samples) / options.sample_rate;
  return track;
}

}  // namespace huntaze::media
