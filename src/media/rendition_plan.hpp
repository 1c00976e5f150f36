// The arithmetic of a rendition, apart from any FFmpeg object: the upright
// picture size that fits a long-side limit, and the video bit rate that
// makes the file land near a target size.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>

namespace huntaze::media {

struct PictureSize {
  int width = 0;
  int height = 0;
};

// `display` (upright, pixel aspect applied) scaled down, never up, so that
// its long side is at most `max_long_side`, proportions kept, both sides
// even (4:2:0 chroma needs it) and at least 2.
PictureSize fit_long_side(PictureSize display, int max_long_side);

struct BitRateLimits {
  int64_t min = 200'000;
  int64_t max = 4'000'000;
};

// Bits per second for the video so that video + audio + the MP4's own
// bookkeeping fill `target_bytes` over `seconds`, clamped to `limits`. Never
// more than `source_bit_rate` (the whole upload's rate; 0 when unknown) unless
// that is below limits.min: re-encoding cannot add detail, so a small upload
// stays small.
int64_t video_bit_rate_for(uint64_t target_bytes, double seconds, int64_t audio_bit_rate, int64_t source_bit_rate,
                           const BitRateLimits& limits);

// The share of the target kept for the container (sample tables, headers):
// the encoders are given the rest.
inline constexpr double kContainerReserve = 0.03;

}  // namespace huntaze::media
