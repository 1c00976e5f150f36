// Why a file could not be turned into a grid: bad files are normal input,
// so every refusal is one of these (a stable code and a human reason), never
// a crash. The processing job stores both on the asset (status `failed`).
//
// Codes: empty_file, not_a_video, unsupported_container, unsupported_codec,
// too_long, resolution_too_large, too_many_streams, corrupt, truncated, timeout,
// no_audio (transcripts only), encode_failed (renditions only: the H.264 or
// AAC encoder refused what it was given, or is missing from this FFmpeg).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace huntaze::media {

class MediaFailure : public std::runtime_error {
 public:
  MediaFailure(std::string code, const std::string& reason) : std::runtime_error(reason), code_(std::move(code)) {}
  const std::string& code() const noexcept { return code_; }

 private:
  std::string code_;
};

// FFmpeg's words for an AVERROR code.
std::string av_error_text(int averror);

// MediaFailure("encode_failed", "the <track> could not be encoded (<step>):
// <FFmpeg's words>"); running out of memory is std::bad_alloc instead.
[[noreturn]] void throw_encode_failed(std::string_view track, std::string_view step, int averror);

}  // namespace huntaze::media
