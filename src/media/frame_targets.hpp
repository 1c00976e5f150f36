// Which moments of a video the grid shows: `count` times spread evenly over
// it (the middle of each of `count` equal slices), and the distinct
// keyframes nearest to them, in order.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <vector>

namespace huntaze::media {

std::vector<double> spread_targets(double start_seconds, double duration_seconds, int count);

// `keyframes`: ascending times. Returns min(targets, keyframes) strictly
// increasing indices into `keyframes`, each as near to its target as the
// order (and leaving enough keyframes for the targets after it) allows.
std::vector<size_t> pick_keyframes(const std::vector<double>& keyframes, const std::vector<double>& targets);

}  // namespace huntaze::media
