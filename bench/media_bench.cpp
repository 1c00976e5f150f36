// bench/media.sh runs this: probe + 16-frame grid of one file, repeated,
// with the decoders on one thread or on several; prints the median and best
// times, the method used and the process's peak RSS.
//
//   bench_media --file clip.mp4 [--workers N] [--repeat N] [--out grid.jpg]
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

using namespace huntaze::media;

int main(int argc, char** argv) {
  bench::Options opt("bench_media", "--file <video> [--workers N] [--repeat N] [--out grid.jpg]");
  opt.text("file", true);
  opt.text("out", false);
  opt.number("workers", 1, 1, 64);
  opt.number("repeat", 5, 1, 1000);
  opt.parse(argc, argv);

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
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::cout << "grid_ms_median " << bench::percentile(grid_ms, 50) << "\n"
            << "grid_ms_best " << grid_ms.front() << "\n"
            << "probe_ms_median " << bench::percentile(probe_ms, 50) << "\n"
            << "cells " << last.cells.size() << "\n"
            << "method " << last.method << "\n"
            << "sheet " << last.grid_width << "x" << last.grid_height << "\n"
            << "grid_bytes " << last.grid_jpeg.size() << "\n"
            << "peak_rss_mb " << usage.ru_maxrss / 1024.0 << "\n";
  return 0;
}
