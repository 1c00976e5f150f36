// What the service agrees to decode, checked on the probed header before a
// single frame is decoded: container, codecs, duration, picture size and the
// number of streams. A file outside the policy fails with a clear reason.
//
// Thread-safety: plain values.
#pragma once

#include <string>
#include <vector>

namespace huntaze::media {

struct VideoInfo;

struct MediaPolicy {
  std::vector<std::string> containers{"mp4", "mov", "matroska", "webm"};
  std::vector<std::string> video_codecs{"h264", "hevc", "vp8", "vp9", "av1", "mpeg4"};
  // An audio track in any other codec is ignored, not refused.
  std::vector<std::string> audio_codecs{"aac", "mp3", "opus", "vorbis", "alac", "ac3", "eac3", "flac"};
  double max_duration_seconds = 3 * 3600;
  int max_long_side = 7680;   // 8K
  int max_short_side = 4320;
  int max_streams = 16;
};

// Throws MediaFailure (unsupported_container, unsupported_codec, too_long,
// resolution_too_large, too_many_streams).
void enforce(const MediaPolicy& policy, const VideoInfo& info);

// The largest picture (width x height) a decoder may be asked to make.
inline int64_t max_pixels(const MediaPolicy& policy) {
  return static_cast<int64_t>(policy.max_long_side) * policy.max_short_side;
}

// Whether the file's audio may be decoded (for the transcript).
bool audio_accepted(const MediaPolicy& policy, const VideoInfo& info);

}  // namespace huntaze::media
