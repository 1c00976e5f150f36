#include "media/rendition_plan.hpp"

#include <algorithm>
#include <cmath>

namespace huntaze::media {
namespace {

int even_at_least_2(double side) { return std::max(2, static_cast<int>(std::lround(side)) & ~1); }

}  // namespace

PictureSize fit_long_side(PictureSize display, int max_long_side) {
  const double w = std::max(1, display.width), h = std::max(1, display.height);
  const double scale = std::min(1.0, std::max(2, max_long_side) / std::max(w, h));
  return {even_at_least_2(w * scale), even_at_least_2(h * scale)};
}

int64_t video_bit_rate_for(uint64_t target_bytes, double seconds, int64_t audio_bit_rate, int64_t source_bit_rate,
                           const BitRateLimits& limits) {
  int64_t rate = limits.max;
  if (seconds > 0) {
    const double total = static_cast<double>(target_bytes) * 8 * (1 - kContainerReserve) / seconds;
    rate = static_cast<int64_t>(total) - std::max<int64_t>(0, audio_bit_rate);
  }
  if (source_bit_rate > 0) rate = std::min(rate, source_bit_rate);
  return std::clamp(rate, limits.min, std::max(limits.min, limits.max));
}

}  // namespace huntaze::media
