// What a video file is, read from its container header (libavformat):
// container, duration, codecs, size, frame rate, bit rate, rotation and audio.
// For MP4/MOV the header already says all of this and the costly stream-info
// scan is skipped; other containers get a scan bounded by InputLimits.
//
// Thread-safety: a pure function of the AvInput it is given.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace huntaze::media {

class AvInput;
struct InputLimits;
struct MediaPolicy;

struct VideoInfo {
  std::string container;    // mp4 | mov | matroska | webm
  double duration_seconds = 0;
  int video_stream = -1;    // index in the container
  std::string video_codec;  // FFmpeg's codec name: h264, hevc, vp9, av1, ...
  int width = 0;            // as coded
  int height = 0;
  int display_width = 0;    // as shown: pixel aspect and rotation applied
  int display_height = 0;
  int rotation = 0;         // clockwise degrees to turn a coded frame upright: 0, 90, 180, 270
  double frame_rate = 0;    // average frames per second; 0 when unknown
  int64_t bit_rate = 0;     // bits per second, whole file
  int streams = 0;
  bool has_audio = false;
  std::string audio_codec;
  int audio_channels = 0;
  int audio_sample_rate = 0;
};

// Throws MediaFailure (not_a_video when there is no video stream, corrupt,
// timeout).
VideoInfo probe(AvInput& input);

// probe() and the policy. A file that states no duration (WebM written live
// by a browser) is first read through, packets only, from a second opening of
// `file`, to measure it; the policy then checks that duration too. Throws
// MediaFailure.
VideoInfo probe_checked(AvInput& input, const std::filesystem::path& file, const MediaPolicy& policy,
                        const InputLimits& limits);

}  // namespace huntaze::media
