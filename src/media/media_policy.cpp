#include "media/media_policy.hpp"

#include "media/audio_resampler.hpp"

#include <algorithm>

#include "media/media_failure.hpp"
#include "media/probe.hpp"

namespace huntaze::media {
namespace {

bool listed(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

void enforce(const MediaPolicy& policy, const VideoInfo& info) {
  if (!listed(policy.containers, info.container)) {
    throw MediaFailure("unsupported_container", "container " + info.container + " is not accepted");
  }
  if (!listed(policy.video_codecs, info.video_codec)) {
    throw MediaFailure("unsupported_codec", "video codec " + info.video_codec + " is not accepted");
  }
  if (info.streams > policy.max_streams) {
    throw MediaFailure("too_many_streams", "the file has " + std::to_string(info.streams) + " streams, at most " +
                                               std::to_string(policy.max_streams) + " are accepted");
  }
  if (info.duration_seconds > policy.max_duration_seconds) {
    throw MediaFailure("too_long", "the video lasts " + std::to_string(static_cast<long>(info.duration_seconds)) +
                                       " s, at most " +
                                       std::to_string(static_cast<long>(policy.max_duration_seconds)) + " s are accepted");
  }
  const int long_side = std::max(info.width, info.height);
  const int short_side = std::min(info.width, info.height);
  if (long_side > policy.max_long_side || short_side > policy.max_short_side) {
    throw MediaFailure("resolution_too_large", "the picture is " + std::to_string(info.width) + "x" +
                                                   std::to_string(info.height) + ", at most " +
                                                   std::to_string(policy.max_long_side) + "x" +
                                                   std::to_string(policy.max_short_side) + " is accepted");
  }
}

bool audio_accepted(const MediaPolicy& policy, const VideoInfo& info) {
  // A rate outside what microphones and players use is a damaged or
  // hostile header (1 Hz would make every decoded frame resample into
  // gigabytes): the track is not decoded.
  return info.has_audio && listed(policy.audio_codecs, info.audio_codec) &&
         info.audio_sample_rate >= kMinSampleRate && info.audio_sample_rate <= kMaxSampleRate;
}

}  // namespace huntaze::media
