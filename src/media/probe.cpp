#include "media/probe.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "media/av_input.hpp"
#include "media/media_failure.hpp"
#include "media/media_policy.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
}

namespace huntaze::media {
namespace {

std::string container_name(const AVFormatContext* format) {
  const char* name = format->iformat->name;
  if (std::strncmp(name, "mov,", 4) == 0) {
    // One demuxer reads both; QuickTime files say so in their brand.
    const AVDictionaryEntry* brand = av_dict_get(format->metadata, "major_brand", nullptr, 0);
    return brand && std::strncmp(brand->value, "qt", 2) == 0 ? "mov" : "mp4";
  }
  if (std::strncmp(name, "matroska", 8) == 0) {
    // The demuxer does not expose the DocType; WebM is Matroska holding only
    // its codecs (VP8, VP9, AV1, Opus, Vorbis).
    for (unsigned i = 0; i < format->nb_streams; ++i) {
      switch (format->streams[i]->codecpar->codec_id) {
        case AV_CODEC_ID_VP8: case AV_CODEC_ID_VP9: case AV_CODEC_ID_AV1:
        case AV_CODEC_ID_OPUS: case AV_CODEC_ID_VORBIS: break;
        default: return "matroska";
      }
    }
    return "webm";
  }
  return name;
}

// Clockwise degrees, normalised to 0/90/180/270, from the display matrix
// (which states the counter-clockwise rotation to apply).
int rotation_of(const AVStream* stream) {
  size_t size = 0;
  const uint8_t* matrix = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, &size);
  if (!matrix || size < 9 * sizeof(int32_t)) return 0;
  const double ccw = av_display_rotation_get(reinterpret_cast<const int32_t*>(matrix));
  if (std::isnan(ccw)) return 0;
  long degrees = std::lround(-ccw) % 360;
  if (degrees < 0) degrees += 360;
  return static_cast<int>(((degrees + 45) / 90) * 90 % 360);
}

// A file cut short after a complete header (MP4 with the index first) lists
// samples beyond its end: refused now rather than shown half.
void check_complete(const AvInput& input, const AVStream* stream) {
  const int count = avformat_index_get_entries_count(stream);
  if (count <= 0) return;
  const AVIndexEntry* last = avformat_index_get_entry(const_cast<AVStream*>(stream), count - 1);
  // Compared without adding: a hostile position near INT64_MAX must not
  // wrap around to a small end.
  if (last && (last->pos < 0 || last->size < 0 || last->pos > input.file_size() - last->size)) {
    throw MediaFailure("truncated", "the file ends before its last video frame (" + std::to_string(input.file_size()) +
                                        " of at least " + std::to_string(last->pos + last->size) + " bytes)");
  }
}

double seconds(int64_t duration, AVRational time_base) {
  return duration > 0 && time_base.den > 0 ? static_cast<double>(duration) * av_q2d(time_base) : 0;
}

// Files written live (browser recorders' WebM) state no duration: it is then
// the span of the video packets, read without decoding.
void measure_duration(const std::filesystem::path& file, VideoInfo& info, const InputLimits& limits) {
  AvInput input(file, limits);
  AVFormatContext* format = input.format();
  if (info.video_stream >= static_cast<int>(format->nb_streams)) return;
  input.keep_only(info.video_stream);
  PacketPtr packet(av_packet_alloc());
  if (!packet) throw std::bad_alloc();
  int64_t first = AV_NOPTS_VALUE, end = AV_NOPTS_VALUE;
  while (input.next_packet(packet.get())) {
    if (packet->stream_index == info.video_stream) {
      const int64_t at = packet->pts != AV_NOPTS_VALUE ? packet->pts : packet->dts;
      if (at != AV_NOPTS_VALUE) {
        if (first == AV_NOPTS_VALUE || at < first) first = at;
        const int64_t until = at + std::max<int64_t>(0, packet->duration);
        if (end == AV_NOPTS_VALUE || until > end) end = until;
      }
    }
    av_packet_unref(packet.get());
  }
  if (first != AV_NOPTS_VALUE && end > first) {
    info.duration_seconds = static_cast<double>(end - first) * av_q2d(format->streams[info.video_stream]->time_base);
  }
}

}  // namespace

VideoInfo probe(AvInput& input) {
  AVFormatContext* format = input.format();
  if (!input.header_is_complete()) {
    const int rc = avformat_find_stream_info(format, nullptr);
    if (rc < 0) input.fail(rc, "corrupt", "the streams could not be read");
  }

  VideoInfo info;
  info.container = container_name(format);
  info.streams = static_cast<int>(format->nb_streams);
  const int video = av_find_best_stream(format, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (video < 0) throw MediaFailure("not_a_video", "the file has no video stream");
  const AVStream* stream = format->streams[video];
  const AVCodecParameters* par = stream->codecpar;
  info.video_stream = video;
  info.video_codec = avcodec_get_name(par->codec_id);
  info.width = par->width;
  info.height = par->height;
  if (info.width <= 0 || info.height <= 0) throw MediaFailure("corrupt", "the video stream has no picture size");
  info.rotation = rotation_of(stream);
  check_complete(input, stream);

  AVRational sar = par->sample_aspect_ratio;
  if (sar.num <= 0 || sar.den <= 0) sar = stream->sample_aspect_ratio;
  double shown_width = info.width;
  // Within 1/16..16: a hostile ratio must not overflow the int below (the
  // policy then judges the shown size).
  if (sar.num > 0 && sar.den > 0) shown_width = info.width * std::clamp(av_q2d(sar), 1.0 / 16, 16.0);
  const int display_w = std::max(1, static_cast<int>(std::lround(shown_width)));
  const bool sideways = info.rotation == 90 || info.rotation == 270;
  info.display_width = sideways ? info.height : display_w;
  info.display_height = sideways ? display_w : info.height;

  AVRational rate = stream->avg_frame_rate;
  if (rate.num <= 0 || rate.den <= 0) rate = stream->r_frame_rate;
  if (rate.num > 0 && rate.den > 0) info.frame_rate = av_q2d(rate);

  if (format->duration > 0 && format->duration != AV_NOPTS_VALUE) {
    info.duration_seconds = static_cast<double>(format->duration) / AV_TIME_BASE;
  } else {
    info.duration_seconds = seconds(stream->duration, stream->time_base);
  }
  info.bit_rate = format->bit_rate;
  if (info.bit_rate <= 0 && info.duration_seconds > 0) {
    // Clamped in double: a duration of one tick must not overflow int64.
    info.bit_rate = static_cast<int64_t>(
        std::min(static_cast<double>(input.file_size()) * 8 / info.duration_seconds, 1e12));
  }

  const int audio = av_find_best_stream(format, AVMEDIA_TYPE_AUDIO, -1, video, nullptr, 0);
  if (audio >= 0) {
    const AVCodecParameters* a = format->streams[audio]->codecpar;
    info.has_audio = true;
    info.audio_codec = avcodec_get_name(a->codec_id);
    info.audio_channels = a->ch_layout.nb_channels;
    info.audio_sample_rate = a->sample_rate;
  }
  return info;
}

VideoInfo probe_checked(AvInput& input, const std::filesystem::path& file, const MediaPolicy& policy,
                        const InputLimits& limits) {
  VideoInfo info = probe(input);
  enforce(policy, info);  // before reading a whole file to measure it
  if (info.duration_seconds <= 0) {
    measure_duration(file, info, limits);
    enforce(policy, info);
  }
  return info;
}

}  // namespace huntaze::media
