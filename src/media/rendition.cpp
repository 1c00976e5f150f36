#include "media/rendition.hpp"

#include <algorithm>
#include <memory>
#include <system_error>

#include "media/av_input.hpp"
#include "media/av_ptr.hpp"
#include "media/media_failure.hpp"
#include "media/mp4_writer.hpp"
#include "media/probe.hpp"
#include "media/rendition_audio.hpp"
#include "media/rendition_plan.hpp"
#include "media/rendition_video.hpp"
#include "media/sws_input.hpp"

extern "C" {
#include <libavformat/avformat.h>
#include <libavutil/error.h>
}

namespace huntaze::media {
namespace {

VideoPlan plan_video(const VideoInfo& info, const AVStream& stream, const RenditionOptions& options,
                     int64_t audio_bit_rate) {
  VideoPlan plan;
  plan.size = fit_long_side({info.display_width, info.display_height}, options.max_long_side);
  plan.rotation = info.rotation;
  plan.bit_rate = video_bit_rate_for(options.target_bytes, info.duration_seconds, audio_bit_rate, info.bit_rate,
                                     {options.min_video_bit_rate, options.max_video_bit_rate});
  plan.time_base = stream.time_base;
  plan.frame_rate = stream.avg_frame_rate.num > 0 && stream.avg_frame_rate.den > 0 ? stream.avg_frame_rate
                                                                                     : stream.r_frame_rate;
  plan.start_pts = stream.start_time != AV_NOPTS_VALUE ? stream.start_time : 0;
  // The source's matrix (stated, or guessed from its own height, as the
  // grid does): the encoder is tagged with it and converts nothing.
  plan.colorspace = source_matrix(stream.codecpar->color_space, stream.codecpar->height);
  plan.primaries = stream.codecpar->color_primaries;
  plan.transfer = stream.codecpar->color_trc;
  plan.threads = options.threads;
  return plan;
}

}  // namespace

RenditionResult make_rendition(const std::filesystem::path& input, const std::filesystem::path& output,
                               const RenditionOptions& options) {
  {
    std::filesystem::path stale = output;
    stale += ".part";
    std::error_code ignored;
    std::filesystem::remove(stale, ignored);
  }
  InputLimits limits;
  limits.probe_bytes = options.probe_bytes;
  limits.deadline = options.deadline;
  AvInput source(input, limits);
  const VideoInfo info = probe_checked(source, input, options.policy, limits);
  AVFormatContext* format = source.format();
  const AVStream& video_stream = *format->streams[info.video_stream];

  // An audio track in a codec the policy does not take is left out, as the
  // transcript does; the rendition is then video only.
  int audio_index = -1;
  if (audio_accepted(options.policy, info)) {
    audio_index = av_find_best_stream(format, AVMEDIA_TYPE_AUDIO, -1, info.video_stream, nullptr, 0);
  }
  // Only the two streams being re-encoded are demuxed; subtitles, data
  // tracks, a second audio language are skipped at the demuxer.
  source.keep_only(info.video_stream, audio_index);

  CodecContextPtr video_decoder = source.open_decoder(info.video_stream, [&](AVCodecContext& c) {
    c.max_pixels = max_pixels(options.policy);
    c.thread_count = std::max(1, options.threads);
  });
  CodecContextPtr audio_decoder;
  if (audio_index >= 0) audio_decoder = source.open_decoder(audio_index);

  RenditionResult result;
  AudioPlan audio_plan;
  if (audio_decoder) {
    audio_plan.channels = info.audio_channels == 1 ? 1 : 2;
    audio_plan.bit_rate = audio_plan.channels == 1 ? options.audio_bit_rate / 2 : options.audio_bit_rate;
    audio_plan.time_base = format->streams[audio_index]->time_base;
  }
  const VideoPlan video_plan = plan_video(info, video_stream, options, audio_decoder ? audio_plan.bit_rate : 0);
  // Output time 0 is the video's first timestamp; audio is placed against it.
  if (audio_decoder) audio_plan.start_pts = av_rescale_q(video_plan.start_pts, video_plan.time_base, audio_plan.time_base);

  // Declared before the encoders: on a failure they go first, then the
  // writer removes the .part file.
  Mp4Writer writer(output);
  RenditionVideo video(video_plan, writer.wants_global_header());
  video.connect(writer, writer.add_stream(video.encoder()));
  std::unique_ptr<RenditionAudio> audio;
  if (audio_decoder) {
    audio = std::make_unique<RenditionAudio>(audio_plan, writer.wants_global_header());
    audio->connect(writer, writer.add_stream(audio->encoder()));
  }
  writer.start();

  PacketPtr packet(av_packet_alloc());
  FramePtr frame(av_frame_alloc());
  if (!packet || !frame) throw std::bad_alloc();
  // The policy judged the duration the header states; a header that
  // understates hours of packets is caught as the output grows past it.
  const double max_seconds = std::min(options.policy.max_duration_seconds, info.duration_seconds * 1.1 + 2);
  auto check_length = [&] {
    if (std::max(video.end_seconds(), audio ? audio->end_seconds() : 0.0) > max_seconds)
      throw MediaFailure("too_long", "the video runs longer than its header says");
  };
  // One packet in (nullptr drains), every frame it releases out.
  auto decode = [&](AVCodecContext& decoder, const AVPacket* in, auto&& take) {
    const int rc = avcodec_send_packet(&decoder, in);
    if (rc == AVERROR(ENOMEM)) throw std::bad_alloc();
    // A damaged packet is skipped; the decoder recovers at the next one.
    if (rc < 0 && rc != AVERROR_EOF) return;
    while (avcodec_receive_frame(&decoder, frame.get()) == 0) {
      if (source.timed_out()) source.fail(AVERROR_EXIT, "timeout", "making the rendition");
      take(*frame);
      av_frame_unref(frame.get());
      check_length();
    }
  };
  auto to_video = [&](const AVFrame& f) { video.add(f); };
  auto to_audio = [&](const AVFrame& f) { audio->add(f); };

  while (source.next_packet(packet.get())) {
    if (packet->stream_index == info.video_stream) {
      decode(*video_decoder, packet.get(), to_video);
    } else if (packet->stream_index == audio_index) {
      decode(*audio_decoder, packet.get(), to_audio);
    }
    av_packet_unref(packet.get());
  }
  decode(*video_decoder, nullptr, to_video);
  if (audio_decoder) decode(*audio_decoder, nullptr, to_audio);
  if (video.frames() == 0) throw MediaFailure("corrupt", "no picture of the video could be decoded");

  video.finish();
  if (audio) audio->finish();
  if (source.timed_out()) source.fail(AVERROR_EXIT, "timeout", "making the rendition");
  result.bytes = writer.finish();
  result.width = video_plan.size.width;
  result.height = video_plan.size.height;
  result.video_bit_rate = video_plan.bit_rate;
  result.audio_bit_rate = audio ? audio_plan.bit_rate : 0;
  result.video_frames = video.frames();
  result.duration_seconds = std::max(video.end_seconds(), audio ? audio->end_seconds() : 0.0);
  return result;
}

}  // namespace huntaze::media
