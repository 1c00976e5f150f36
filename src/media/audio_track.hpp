// The audio of a video, ready for a Whisper-compatible transcription
// endpoint: decoded with libavcodec, mixed down to mono and resampled to
// 16 kHz signed 16-bit with libswresample, wrapped as a WAV file. Cut at
// `max_seconds` (transcripts of long videos cost by the minute).
//
// Thread-safety: reentrant; CPU-bound (run it on the compute pool).
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "media/media_policy.hpp"

namespace huntaze::media {

struct AudioOptions {
  int sample_rate = 16000;
  double max_seconds = 600;
  std::chrono::milliseconds deadline{20'000};
};

struct AudioTrack {
  std::string wav;     // RIFF/WAVE, PCM s16le, mono
  double seconds = 0;  // of audio in `wav`
  bool cut = false;    // the track was longer than max_seconds
};

// Throws MediaFailure: no_audio when the file has no audio track in an
// accepted codec, plus the codes of probing and the policy.
AudioTrack extract_audio(const std::filesystem::path& file, const MediaPolicy& policy, const AudioOptions& options);

}  // namespace huntaze::media
