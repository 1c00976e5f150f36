// bench/media.sh runs this: probe + 16-frame grid of one file, repeated,
// with the decoders on one thread or on several; prints the median and best
// times, the method used and the process's peak RSS. With --rendition it
// times the H.264/AAC rendition of the file to a size target instead and
// prints the output's size.
//
//   bench_media --file clip.mp4 [--workers N] [--repeat N] [--out grid.jpg]
//   bench_media --file clip.mp4 --rendition out.mp4 [--target-mib N] [--threads N] [--repeat N]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <vector>

#include "bench_util.hpp"
#include "huntaze/core/compute.hpp"
#include "media/keyframe_grid.hpp"
#include "media/media_failure.hpp"
#include "media/rendition.hpp"

using namespace huntaze::media;

namespace {

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

int bench_rendition(const bench::Options& opt) {
  RenditionOptions options;
  options.target_bytes = static_cast<uint64_t>(opt["target-mib"]) << 20;
  options.threads = opt["threads"];
  std::vector<double> ms;
  RenditionResult last;
  try {
    for (int i = 0; i < opt["repeat"]; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      last = make_rendition(opt.text_value("file"), opt.text_value("rendition"), options);
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
  } catch (const MediaFailure& e) {
    std::cerr << "bench_media: " << e.code() << ": " << e.what() << "\n";
    return 1;
  }
  std::sort(ms.begin(), ms.end());
  std::cout << "rendition_ms_median " << bench::percentile(ms, 50) << "\n"
            << "rendition_ms_best " << ms.front() << "\n"
            << "rendition_bytes " << last.bytes << "\n"
            << "target_bytes " << options.target_bytes << "\n"
            << "size " << last.width << "x" << last.height << "\n"
            << "duration_s " << last.duration_seconds << "\n"
            << "video_bit_rate " << last.video_bit_rate << "\n"
            << "audio_bit_rate " << last.audio_bit_rate << "\n"
            << "frames " << last.video_frames << "\n"
            << "peak_rss_mb " << peak_rss_mb() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  bench::Options opt("bench_media",
                     "--file <video> [--workers N] [--repeat N] [--out grid.jpg]"
                     " | --file <video> --rendition <out.mp4> [--target-mib N] [--threads N] [--repeat N]");
  opt.text("file", true);
  opt.text("out", false);
  opt.number("workers", 1, 1, 64);
  opt.number("repeat", 5, 1, 1000);
  opt.text("rendition", false);
  opt.number("target-mib", 20, 1, 4096);
  opt.number("threads", 1, 1, 64);
  opt.parse(argc, argv);
  if (!opt.text_value("rendition").empty()) return bench_rendition(opt);

  GridOptions options;
  options.workers = opt["workers"];
  // The decoders run as the module runs them: parts of one job on the
  // compute pool, the calling thread taking its share.
  huntaze::Compute compute(options.workers);
  const ParallelFor parallel = [&](int parts, const std::function<void(int)>& part) {
    compute.parallel_for(parts, part);
  };
  std::vector<double> grid_ms, probe_ms;
  GridResult last;
  try {
    for (int i = 0; i < opt["repeat"]; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      probe_file(opt.text_value("file"), {}, options);
      auto t1 = std::chrono::steady_clock::now();
      last = make_grid(opt.text_value("file"), {}, options, parallel);
      auto t2 = std::chrono::steady_clock::now();
      probe_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      grid_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
    }
  } catch (const MediaFailure& e) {
    std::cerr << "bench_media: " << e.code() << ": " << e.what() << "\n";
    return 1;
  }
  std::sort(grid_ms.begin(), grid_ms.end());
  std::sort(probe_ms.begin(), probe_ms.end());
  if (!opt.text_value("out").empty()) std::ofstream(opt.text_value("out"), std::ios::binary) << last.grid_jpeg;
  std::cout << "grid_ms_median " << bench::percentile(grid_ms, 50) << "\n"
            << "grid_ms_best " << grid_ms.front() << "\n"
            << "probe_ms_median " << bench::percentile(probe_ms, 50) << "\n"
            << "cells " << last.cells.size() << "\n"
            << "method " << last.method << "\n"
            << "sheet " << last.grid_width << "x" << last.grid_height << "\n"
            << "grid_bytes " << last.grid_jpeg.size() << "\n"
            << "peak_rss_mb " << peak_rss_mb() << "\n";
  return 0;
}
