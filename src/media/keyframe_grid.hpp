// The probe -> policy -> keyframes -> contact sheet path for one video file:
// reads its header, refuses it if it breaks the policy, decodes `frames`
// pictures spread evenly over it (each from a distinct keyframe found through
// the container's index; several decoders in parallel when `workers` > 1),
// and lays them out as one JPEG sized for the vision model, each cell
// labelled with its time, plus a poster JPEG.
//
// How frames are found:
//  - index: the index lists at least `frames` keyframes: seek to each chosen
//    one and decode it alone;
//  - keyframe_scan: fewer are listed (or none): one pass decoding key frames
//    only, keeping the nearest to each target;
//  - full_scan: that found fewer than `frames` keyframes and the video is no
//    longer than full_decode_max_seconds: one pass decoding every frame.
// A file that states no duration (WebM written live by a browser) is first
// read through, packets only, to measure it.
//
// Thread-safety: make_grid is reentrant; `parallel` runs the parts.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "media/av_input.hpp"
#include "media/media_policy.hpp"
#include "media/probe.hpp"

namespace huntaze::media {

struct GridOptions {
  int frames = 16;
  int max_width = 1344;  // the sheet; Phi-4-multimodal reads 448-px crops
  int max_height = 756;
  int poster_max_side = 640;
  int jpeg_quality = 4;  // qscale, 2 (best) .. 31
  double full_decode_max_seconds = 20;
  int workers = 1;  // decoders working at once in index mode
  std::chrono::milliseconds deadline{20'000};
  int64_t probe_bytes = 5 << 20;
};

struct GridCell {
  double seconds = 0;
  int x = 0, y = 0, width = 0, height = 0;  // the picture within the sheet
};

struct GridResult {
  VideoInfo info;
  std::string method;  // index | keyframe_scan | full_scan
  std::string grid_jpeg;
  int grid_width = 0, grid_height = 0;
  std::vector<GridCell> cells;  // in time order
  std::string poster_jpeg;
  int poster_width = 0, poster_height = 0;
};

// Runs part(0) .. part(parts - 1), possibly at once, and returns when all
// have; the first exception a part throws is rethrown.
using ParallelFor = std::function<void(int parts, const std::function<void(int)>& part)>;
void run_in_sequence(int parts, const std::function<void(int)>& part);

// Probes and checks the file only. Throws MediaFailure.
VideoInfo probe_file(const std::filesystem::path& file, const MediaPolicy& policy, const GridOptions& options);

// Throws MediaFailure for files it will not or cannot show.
GridResult make_grid(const std::filesystem::path& file, const MediaPolicy& policy, const GridOptions& options,
                     const ParallelFor& parallel = run_in_sequence);

// "m:ss" (or "h:mm:ss"), the cell label.
std::string clock_label(double seconds);

}  // namespace huntaze::media
