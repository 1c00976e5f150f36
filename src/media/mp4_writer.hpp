// One MP4 file being written: the muxer, its streams, and the file itself,
// written as `output` + ".part" and renamed to `output` only once complete,
// so a reader never sees half a file under the final name. The moov box is
// moved to the front when the file is finished (+faststart) so that it plays
// while it downloads. Nothing of the upload's metadata is carried over (phones
// record where a video was shot).
//
// Failures here are the machine's, not the upload's (disk full, directory
// missing, a muxer refusing what we give it): std::runtime_error.
//
// Ownership: owns the muxer context and the .part file; destroying a writer
// that was not finished removes the .part file.
// Thread-safety: one thread at a time.
#pragma once

#include <cstdint>
#include <filesystem>

extern "C" {
#include <libavutil/rational.h>
struct AVCodecContext;
struct AVFormatContext;
struct AVPacket;
}

namespace huntaze::media {

class Mp4Writer {
 public:
  explicit Mp4Writer(std::filesystem::path output);
  ~Mp4Writer();
  Mp4Writer(const Mp4Writer&) = delete;
  Mp4Writer& operator=(const Mp4Writer&) = delete;

  // Whether encoders must put their headers in extradata
  // (AV_CODEC_FLAG_GLOBAL_HEADER): MP4 keeps them in the sample description.
  bool wants_global_header() const noexcept;

  // A stream described by an opened encoder; returns its index. Before start().
  int add_stream(const AVCodecContext& encoder);

  // Creates the .part file and writes the header.
  void start();

  // Hands one encoded packet (timestamps in `time_base`) to the interleaver,
  // which takes its data; the packet is left blank.
  void write(AVPacket& packet, int stream, AVRational time_base);

  // Flushes, moves the index to the front, closes the file and gives it its
  // final name. Returns its size in bytes.
  uint64_t finish();

 private:
  void close_file() noexcept;

  std::filesystem::path output_;
  std::filesystem::path part_;
  AVFormatContext* format_ = nullptr;
  bool file_open_ = false;
  bool finished_ = false;
};

}  // namespace huntaze::media
