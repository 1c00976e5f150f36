#include "media/frame_targets.hpp"

#include <algorithm>
#include <cmath>

namespace huntaze::media {

std::vector<double> spread_targets(double start_seconds, double duration_seconds, int count) {
  std::vector<double> targets;
  if (count <= 0) return targets;
  targets.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    targets.push_back(start_seconds + std::max(0.0, duration_seconds) * (i + 0.5) / count);
  }
  return targets;
}

std::vector<size_t> pick_keyframes(const std::vector<double>& keyframes, const std::vector<double>& targets) {
  std::vector<size_t> picked;
  const size_t n = std::min(keyframes.size(), targets.size());
  if (n == 0) return picked;
  // With fewer keyframes than targets, every keyframe is shown once.
  if (keyframes.size() <= targets.size()) {
    for (size_t i = 0; i < keyframes.size(); ++i) picked.push_back(i);
    return picked;
  }
  picked.reserve(n);
  size_t low = 0;
  for (size_t i = 0; i < n; ++i) {
    // Keyframes [low, high] leave one for each later target.
    const size_t high = keyframes.size() - (n - i);
    const auto first = keyframes.begin() + static_cast<std::ptrdiff_t>(low);
    const auto last = keyframes.begin() + static_cast<std::ptrdiff_t>(high) + 1;
    auto at = std::lower_bound(first, last, targets[i]);
    size_t best = at == last ? high : static_cast<size_t>(at - keyframes.begin());
    if (best > low && std::fabs(keyframes[best - 1] - targets[i]) <= std::fabs(keyframes[best] - targets[i])) --best;
    picked.push_back(best);
    low = best + 1;
  }
  return picked;
}

}  // namespace huntaze::media
