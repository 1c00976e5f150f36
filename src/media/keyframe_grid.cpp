#include "media/keyframe_grid.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <limits>
#include <memory>
#include <optional>

#include "media/frame_decoder.hpp"
#include "media/frame_targets.hpp"
#include "media/jpeg.hpp"
#include "media/media_failure.hpp"
#include "media/rgb_image.hpp"
#include "media/sheet_layout.hpp"

namespace huntaze::media {
namespace {

struct Picture {
  double seconds = 0;
  RgbImage cell;
  RgbImage poster;  // only on the frame chosen for the poster
};

struct Boxes {
  int cell_w, cell_h, poster_w, poster_h;
};

InputLimits limits_for(const GridOptions& options, std::chrono::steady_clock::time_point deadline) {
  InputLimits limits;
  limits.probe_bytes = options.probe_bytes;
  limits.deadline = deadline;
  return limits;
}

void keep(std::optional<Picture>& slot, FrameDecoder& decoder, const AVFrame& frame, double seconds, const Boxes& boxes,
          bool poster) {
  Picture picture;
  picture.seconds = seconds;
  picture.cell = decoder.to_rgb(frame, boxes.cell_w, boxes.cell_h);
  if (poster) picture.poster = decoder.to_rgb(frame, boxes.poster_w, boxes.poster_h);
  slot = std::move(picture);
}

// Index mode: the chosen keyframes, split into contiguous runs, one decoder
// per run. Run 0 uses the decoder that probed; the others open their own.
std::vector<std::optional<Picture>> from_index(const std::filesystem::path& file, const VideoInfo& info,
                                               FrameDecoder& first, const std::vector<size_t>& chosen,
                                               size_t poster_at, const Boxes& boxes, const MediaPolicy& policy,
                                               const InputLimits& limits, int workers, const ParallelFor& parallel) {
  std::vector<std::optional<Picture>> pictures(chosen.size());
  const int parts = static_cast<int>(std::clamp<size_t>(static_cast<size_t>(std::max(1, workers)), 1, chosen.size()));
  const size_t listed = first.indexed_keyframes().size();
  parallel(parts, [&](int part) {
    std::unique_ptr<AvInput> own_input;
    std::unique_ptr<FrameDecoder> own_decoder;
    FrameDecoder* decoder = &first;
    if (part != 0) {
      own_input = std::make_unique<AvInput>(file, limits);
      own_decoder = std::make_unique<FrameDecoder>(*own_input, info, true, max_pixels(policy));
      // The same file gives the same index; anything else is not trusted.
      if (own_decoder->indexed_keyframes().size() != listed) throw MediaFailure("corrupt", "the stream index is unstable");
      decoder = own_decoder.get();
    }
    const size_t begin = chosen.size() * static_cast<size_t>(part) / static_cast<size_t>(parts);
    const size_t end = chosen.size() * static_cast<size_t>(part + 1) / static_cast<size_t>(parts);
    for (size_t i = begin; i < end; ++i) {
      auto frame = decoder->keyframe_at(chosen[i]);
      if (frame) keep(pictures[i], *decoder, *frame->frame, frame->seconds, boxes, i == poster_at);
    }
  });
  return pictures;
}

// Scan modes: one pass, each decoded frame kept for the targets it is the
// nearest to so far (converted once, only when it improves one).
std::vector<std::optional<Picture>> from_scan(FrameDecoder& decoder, const std::vector<double>& targets,
                                              size_t poster_at, const Boxes& boxes) {
  std::vector<std::optional<Picture>> best(targets.size());
  std::vector<double> distance(targets.size(), std::numeric_limits<double>::infinity());
  decoder.scan([&](DecodedFrame& frame) {
    std::optional<Picture> converted;
    for (size_t t = 0; t < targets.size(); ++t) {
      const double d = std::fabs(frame.seconds - targets[t]);
      if (d >= distance[t]) continue;
      distance[t] = d;
      if (!converted || (t == poster_at && converted->poster.empty())) {
        keep(converted, decoder, *frame.frame, frame.seconds, boxes, t == poster_at);
      }
      best[t] = converted;
    }
  });
  return best;
}

// Drops missing pictures and repeats (a frame nearest to two targets).
std::vector<Picture> distinct(std::vector<std::optional<Picture>>&& pictures) {
  std::vector<Picture> out;
  for (auto& picture : pictures) {
    if (!picture) continue;
    if (!out.empty() && picture->seconds <= out.back().seconds) {
      if (picture->seconds == out.back().seconds && out.back().poster.empty()) out.back().poster = std::move(picture->poster);
      continue;
    }
    out.push_back(std::move(*picture));
  }
  return out;
}

Boxes boxes_for(const VideoInfo& info, const SheetLayout& layout, int poster_max_side) {
  const double w = info.display_width, h = info.display_height;
  const double poster_scale = std::min(1.0, poster_max_side / std::max(w, h));
  return {layout.cell_width, layout.cell_height, std::max(2, static_cast<int>(std::lround(w * poster_scale))),
          std::max(2, static_cast<int>(std::lround(h * poster_scale)))};
}

}  // namespace

void run_in_sequence(int parts, const std::function<void(int)>& part) {
  for (int i = 0; i < parts; ++i) part(i);
}

std::string clock_label(double seconds) {
  const long total = std::max(0L, static_cast<long>(std::floor(seconds)));
  char text[32];
  if (total >= 3600) {
    std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", total / 3600, total / 60 % 60, total % 60);
  } else {
    std::snprintf(text, sizeof text, "%ld:%02ld", total / 60, total % 60);
  }
  return text;
}

VideoInfo probe_file(const std::filesystem::path& file, const MediaPolicy& policy, const GridOptions& options) {
  const InputLimits limits = limits_for(options, std::chrono::steady_clock::now() + options.deadline);
  AvInput input(file, limits);
  return probe_checked(input, file, policy, limits);
}

GridResult make_grid(const std::filesystem::path& file, const MediaPolicy& policy, const GridOptions& options,
                     const ParallelFor& parallel) {
  const InputLimits limits = limits_for(options, std::chrono::steady_clock::now() + options.deadline);
  AvInput input(file, limits);
  GridResult result;
  result.info = probe_checked(input, file, policy, limits);
  const VideoInfo& info = result.info;

  const int wanted = std::max(1, options.frames);
  const double aspect = static_cast<double>(info.display_width) / info.display_height;
  // Cells are sized for the full count; fewer pictures get a fresh layout below.
  const Boxes boxes = boxes_for(info, plan_sheet(wanted, aspect, options.max_width, options.max_height),
                                options.poster_max_side);
  const std::vector<double> targets = spread_targets(0, info.duration_seconds, wanted);
  const size_t poster_at = targets.size() / 2;

  FrameDecoder keys(input, info, true, max_pixels(policy));
  const auto& listed = keys.indexed_keyframes();
  std::vector<Picture> pictures;
  // The index is trusted only when it reaches the end of the video:
  // Matroska without cues gets entries only for the keyframes read while
  // probing (the first seconds), and a second opening reads more or fewer.
  const bool index_covers = !listed.empty() && listed.back() >= 0.8 * info.duration_seconds;
  if (info.duration_seconds > 0 && listed.size() >= targets.size() && index_covers) {
    result.method = "index";
    const auto chosen = pick_keyframes(listed, targets);
    pictures = distinct(from_index(file, info, keys, chosen, poster_at, boxes, policy, limits, options.workers, parallel));
  } else if (info.duration_seconds > 0 && info.duration_seconds <= options.full_decode_max_seconds) {
    result.method = "full_scan";
    FrameDecoder every(input, info, false, max_pixels(policy));
    pictures = distinct(from_scan(every, targets, poster_at, boxes));
  } else {
    result.method = "keyframe_scan";
    pictures = distinct(from_scan(keys, targets, poster_at, boxes));
  }
  if (pictures.empty()) throw MediaFailure("corrupt", "no picture of the video could be decoded");

  const SheetLayout layout =
      plan_sheet(static_cast<int>(pictures.size()), aspect, options.max_width, options.max_height);
  RgbImage sheet(layout.width, layout.height, 16);
  const int label_scale = std::clamp(std::min(layout.cell_width, layout.cell_height) / 80, 1, 4);
  const RgbImage* poster = nullptr;
  for (size_t i = 0; i < pictures.size(); ++i) {
    const Picture& picture = pictures[i];
    // A picture smaller than its cell (other proportions) is centred in it.
    const int x = layout.cell_x(static_cast<int>(i)) + (layout.cell_width - picture.cell.width) / 2;
    const int y = layout.cell_y(static_cast<int>(i)) + (layout.cell_height - picture.cell.height) / 2;
    blit(sheet, picture.cell, x, y);
    draw_label(sheet, x, y + picture.cell.height, clock_label(picture.seconds), label_scale);
    result.cells.push_back({picture.seconds, x, y, picture.cell.width, picture.cell.height});
    if (!picture.poster.empty()) poster = &picture.poster;
  }
  // The poster's frame did not decode: the middle cell stands in.
  if (!poster) poster = &pictures[pictures.size() / 2].cell;

  result.grid_jpeg = encode_jpeg(sheet, options.jpeg_quality);
  result.grid_width = sheet.width;
  result.grid_height = sheet.height;
  result.poster_jpeg = encode_jpeg(*poster, options.jpeg_quality);
  result.poster_width = poster->width;
  result.poster_height = poster->height;
  return result;
}

}  // namespace huntaze::media
