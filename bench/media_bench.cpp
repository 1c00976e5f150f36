// bench/media.sh runs this: probe + 16-frame grid of one file, repeated,
// with the decoders on one thread or on several; prints the median and best
// times, the method used and the process's peak RSS.
//
//   bench_media --file clip.mp4 [--workers N] [--repeat N] [--out grid.jpg]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <fstream>
#include <iostream>
#include <thread>
#include <vector>

#include "bench_util.hpp"
#include "media/keyframe_grid.hpp"
#include "media/media_failure.hpp"

using namespace huntaze::media;

namespace {

void run_on_threads(int parts, const std::function<void(int)>& part) {
  std::vector<std::thread> threads;
  std::vector<std::exception_ptr> errors(static_cast<size_t>(parts));
  for (int i = 1; i < parts; ++i) {
    threads.emplace_back([&, i] {
      try {
        part(i);
      } catch (...) {
        errors[static_cast<size_t>(i)] = std::current_exception();
      }
    });
  }
  try {
    part(0);
  } catch (...) {
    errors[0] = std::current_exception();
  }
  for (auto& t : threads) t.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

}  // namespace

int main(int argc, char** argv) {
  bench::Options opt("bench_media", "--file <video> [--workers N] [--repeat N] [--out grid.jpg]");
  opt.text("file", true);
  opt.text("out", false);
  opt.number("workers", 1, 1, 64);
  opt.number("repeat", 5, 1, 1000);
  opt.parse(argc, argv);

  GridOptions options;
  options.workers = opt["workers"];
  const ParallelFor parallel = options.workers > 1 ? ParallelFor(run_on_threads) : ParallelFor(run_in_sequence);
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
