// A smaller copy of an uploaded video that any browser or phone plays: MP4
// with H.264 (libx264, 8-bit 4:2:0) and AAC (48 kHz, mono or stereo as the
// source), the index at the front so it plays while downloading, upright
// (a phone's display-matrix turn is applied to the pixels; the output has
// no rotation), scaled to fit max_long_side, and encoded at the video bit
// rate that lands the file near target_bytes.
//
// The input is read only through AvInput and checked against the policy
// before any frame is decoded. The output is written to `output` + ".part"
// and renamed to `output` when complete; on any failure neither exists
// (a stale .part from an earlier attempt is removed too).
//
// Sizing: video bits per second = target_bytes * 8 * 0.97 / duration - the
// audio's, clamped to [min_video_bit_rate, max_video_bit_rate] and never above
// the upload's own overall rate. A long video at the minimum rate comes out
// larger than the target, and an upload already smaller than the target is
// still re-encoded: the caller compares sizes and decides which to keep.
//
// Not done: HDR is not tone-mapped (its colour tags are carried over onto
// 8-bit video); the frame rate is kept as is (a 120 fps upload stays 120).
//
// Thread-safety: reentrant; CPU-bound and blocking for about as long as the
// video lasts (run it on a compute thread, never an I/O thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>

#include "media/media_policy.hpp"

namespace huntaze::media {

struct RenditionOptions {
  uint64_t target_bytes = 20ull << 20;  // 20 MiB
  int max_long_side = 1280;             // 720p
  int64_t audio_bit_rate = 96'000;      // stereo; a mono track gets half
  int64_t max_video_bit_rate = 4'000'000;
  int64_t min_video_bit_rate = 200'000;
  // Encoder and decoder threads. One by default: parallelism comes from
  // several jobs on the compute pool, not threads inside one.
  int threads = 1;
  // Checked on every packet and picture; passing it fails with `timeout`.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  int64_t probe_bytes = 5 << 20;
  MediaPolicy policy;
};

struct RenditionResult {
  uint64_t bytes = 0;           // the file at `output`
  double duration_seconds = 0;  // the longer of its tracks
  int width = 0;                // upright, as encoded
  int height = 0;
  int64_t video_bit_rate = 0;   // what the encoder was asked for
  int64_t audio_bit_rate = 0;   // 0: no audio track
  int64_t video_frames = 0;
};

// Throws MediaFailure: the probe's and policy's codes (empty_file,
// not_a_video, unsupported_container, unsupported_codec, too_long,
// resolution_too_large, too_many_streams, corrupt, truncated), timeout, and
// encode_failed. Throws std::runtime_error / std::filesystem::filesystem_error
// when the output cannot be written (the machine's fault, not the upload's).
RenditionResult make_rendition(const std::filesystem::path& input, const std::filesystem::path& output,
                               const RenditionOptions& options);

}  // namespace huntaze::media
