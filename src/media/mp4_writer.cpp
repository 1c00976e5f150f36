#include "media/mp4_writer.hpp"

#include <new>
#include <stdexcept>
#include <string>
#include <system_error>

#include "media/media_failure.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libavutil/mem.h>
}

namespace huntaze::media {
namespace {

[[noreturn]] void fail(const std::string& what, int averror) {
  throw std::runtime_error("media: writing the rendition: " + what + ": " + av_error_text(averror));
}

}  // namespace

Mp4Writer::Mp4Writer(std::filesystem::path output) : output_(std::move(output)), part_(output_) {
  part_ += ".part";
  // "file:" in front: a path with a colon in it is still a path, never
  // taken for another protocol.
  const std::string url = "file:" + part_.string();
  const int rc = avformat_alloc_output_context2(&format_, nullptr, "mp4", url.c_str());
  if (rc < 0 || !format_) fail("no MP4 muxer", rc);
  // The faststart pass reopens the file by its URL; nothing else may be opened.
  format_->protocol_whitelist = av_strdup("file");
  if (!format_->protocol_whitelist) {
    avformat_free_context(format_);
    throw std::bad_alloc();
  }
}

Mp4Writer::~Mp4Writer() {
  close_file();
  avformat_free_context(format_);  // also ends the muxer and drops packets it still holds
  if (!finished_) {
    std::error_code ignored;
    std::filesystem::remove(part_, ignored);
  }
}

void Mp4Writer::close_file() noexcept {
  if (file_open_) {
    avio_closep(&format_->pb);
    file_open_ = false;
  }
}

bool Mp4Writer::wants_global_header() const noexcept { return format_->oformat->flags & AVFMT_GLOBALHEADER; }

int Mp4Writer::add_stream(const AVCodecContext& encoder) {
  AVStream* stream = avformat_new_stream(format_, nullptr);
  if (!stream) throw std::bad_alloc();
  const int rc = avcodec_parameters_from_context(stream->codecpar, &encoder);
  if (rc < 0) fail("stream parameters", rc);
  stream->time_base = encoder.time_base;  // a wish: the muxer may choose a finer one
  return stream->index;
}

void Mp4Writer::start() {
  AVDictionary* io_options = nullptr;
  av_dict_set(&io_options, "protocol_whitelist", "file", 0);
  int rc = avio_open2(&format_->pb, format_->url, AVIO_FLAG_WRITE, nullptr, &io_options);
  av_dict_free(&io_options);
  if (rc < 0) fail("cannot create " + part_.string(), rc);
  file_open_ = true;
  AVDictionary* options = nullptr;
  av_dict_set(&options, "movflags", "+faststart", 0);
  rc = avformat_write_header(format_, &options);
  av_dict_free(&options);
  if (rc < 0) fail("header", rc);
}

void Mp4Writer::write(AVPacket& packet, int stream, AVRational time_base) {
  packet.stream_index = stream;
  av_packet_rescale_ts(&packet, time_base, format_->streams[stream]->time_base);
  const int rc = av_interleaved_write_frame(format_, &packet);
  if (rc < 0) fail("packet", rc);
}

uint64_t Mp4Writer::finish() {
  int rc = av_write_trailer(format_);
  if (rc < 0) fail("trailer", rc);
  rc = avio_closep(&format_->pb);
  file_open_ = false;
  if (rc < 0) fail("closing", rc);
  std::filesystem::rename(part_, output_);  // throws filesystem_error
  finished_ = true;
  return std::filesystem::file_size(output_);
}

}  // namespace huntaze::media
