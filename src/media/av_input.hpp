// One media file opened for demuxing, and nothing else: FFmpeg reads it
// through our own I/O context over one file descriptor, so it can open no
// other file or protocol (nested opens are refused, MOV external references
// are off), recognises only the allowed container families, probes a bounded
// number of bytes, and gives up at a wall-clock deadline (checked by
// FFmpeg's interrupt callback between reads).
//
// Ownership: owns the descriptor, the I/O context and the format context.
// Thread-safety: one thread at a time; open one AvInput per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>

#include <functional>

#include "media/av_ptr.hpp"

extern "C" {
struct AVFormatContext;
}

namespace huntaze::media {

struct InputLimits {
  int64_t probe_bytes = 5 << 20;      // how much the format probe may read
  int64_t analyze_micros = 5'000'000;  // stream-info scan (non-MP4/MOV only)
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

class AvInput {
 public:
  // Throws MediaFailure (empty_file, not_a_video, unsupported_container,
  // corrupt, timeout).
  AvInput(const std::filesystem::path& file, const InputLimits& limits);
  ~AvInput();
  AvInput(const AvInput&) = delete;
  AvInput& operator=(const AvInput&) = delete;

  AVFormatContext* format() const noexcept { return format_; }
  int64_t file_size() const noexcept;
  bool timed_out() const noexcept;
  // Moves the deadline (e.g. from probing to decoding).
  void set_deadline(std::chrono::steady_clock::time_point deadline);
  // Turns an FFmpeg error into a MediaFailure: timeout when the deadline
  // passed, otherwise `code` with FFmpeg's text appended to `what`.
  [[noreturn]] void fail(int averror, const char* code, const std::string& what) const;

  // Makes the demuxer skip every stream but `stream` (and `also`, when not
  // negative: the rendition reads video and audio).
  void keep_only(int stream, int also = -1);

  // Reads the next packet into `packet`. False at the end of the file or
  // at a damaged tail (what was read so far stays usable); throws
  // MediaFailure("timeout") once the deadline passed.
  bool next_packet(AVPacket* packet);

  // A single-threaded decoder for `stream`, configured by `tune` before it
  // opens. Throws MediaFailure: unsupported_codec (no decoder), corrupt.
  CodecContextPtr open_decoder(int stream, const std::function<void(AVCodecContext&)>& tune = {});

  // Whether the container's header already describes the streams (MP4/MOV):
  // then the costly stream-info scan is skipped.
  bool header_is_complete() const noexcept;

 private:
  struct Source;
  std::unique_ptr<Source> source_;
  AVFormatContext* format_ = nullptr;
};

}  // namespace huntaze::media
