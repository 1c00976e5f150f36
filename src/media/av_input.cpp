#include "media/av_input.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <mutex>
#include <string>

#include "media/media_failure.hpp"

extern "C" {
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <libavutil/avstring.h>
#include <libavutil/mem.h>
}

namespace huntaze::media {
namespace {

// The demuxers a video upload may use: MP4/MOV (phones), Matroska/WebM
// (browsers' recorders). Nothing else is even probed.
constexpr const char* kFormatWhitelist = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm";
// Video formats the probe may recognise that are refused as such (any other
// recognised format, a text file say, is simply not a video).
constexpr const char* kOtherVideoFormats = "avi,flv,mpegts,mpeg,asf,rm,ogg,mxf,nut,dv,h264,hevc,m4v,ivf,yuv4mpegpipe,gif";
constexpr int kIoBufferSize = 64 * 1024;

}  // namespace

struct AvInput::Source {
  int fd = -1;
  int64_t size = 0;
  std::chrono::steady_clock::time_point deadline;
  AVIOContext* io = nullptr;

  ~Source() {
    if (io) {
      av_freep(&io->buffer);
      avio_context_free(&io);
    }
    if (fd >= 0) ::close(fd);
  }

  static int read(void* opaque, uint8_t* buf, int size) {
    auto* self = static_cast<Source*>(opaque);
    // FFmpeg checks the interrupt callback only in some loops; every read
    // checks the deadline too.
    if (interrupted(self)) return AVERROR_EXIT;
    for (;;) {
      const ssize_t n = ::read(self->fd, buf, static_cast<size_t>(size));
      if (n > 0) return static_cast<int>(n);
      if (n == 0) return AVERROR_EOF;
      if (errno != EINTR) return AVERROR(errno);
    }
  }

  static int64_t seek(void* opaque, int64_t offset, int whence) {
    auto* self = static_cast<Source*>(opaque);
    if (whence & AVSEEK_SIZE) return self->size;
    whence &= ~AVSEEK_FORCE;
    const off_t at = ::lseek(self->fd, static_cast<off_t>(offset), whence);
    return at < 0 ? AVERROR(errno) : static_cast<int64_t>(at);
  }

  static int interrupted(void* opaque) {
    return std::chrono::steady_clock::now() > static_cast<Source*>(opaque)->deadline ? 1 : 0;
  }

  // Every nested open (MOV data references, playlists, image sequences) is
  // refused: the one file we were given is all FFmpeg may read.
  static int refuse_open(AVFormatContext*, AVIOContext**, const char*, int, AVDictionary**) { return AVERROR(EPERM); }
};

AvInput::AvInput(const std::filesystem::path& file, const InputLimits& limits) : source_(std::make_unique<Source>()) {
  // Bad files are normal input: FFmpeg's own complaints would flood stderr;
  // what went wrong reaches the caller as a MediaFailure instead.
  static std::once_flag quiet;
  std::call_once(quiet, [] { av_log_set_level(AV_LOG_QUIET); });
  source_->deadline = limits.deadline;
  source_->fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (source_->fd < 0) throw std::runtime_error("media: cannot open " + file.string() + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(source_->fd, &st) != 0 || !S_ISREG(st.st_mode)) throw MediaFailure("not_a_video", "not a regular file");
  source_->size = st.st_size;
  if (source_->size == 0) throw MediaFailure("empty_file", "the file is empty");

  auto* buffer = static_cast<unsigned char*>(av_malloc(kIoBufferSize));
  if (!buffer) throw std::bad_alloc();
  source_->io = avio_alloc_context(buffer, kIoBufferSize, 0, source_.get(), &Source::read, nullptr, &Source::seek);
  if (!source_->io) {
    av_free(buffer);
    throw std::bad_alloc();
  }

  // Recognise the container first, so that "not a video at all" and "a
  // video whose header is broken" are told apart.
  const AVInputFormat* detected = nullptr;
  const int score = av_probe_input_buffer2(source_->io, &detected, nullptr, nullptr, 0,
                                           static_cast<unsigned>(std::min<int64_t>(limits.probe_bytes, 1 << 20)));
  if (score < 0 || !detected) {
    if (timed_out()) throw MediaFailure("timeout", "reading the file took too long");
    throw MediaFailure("not_a_video", "not a video this service reads (MP4, MOV, Matroska, WebM)");
  }
  if (av_match_list(detected->name, kFormatWhitelist, ',') <= 0) {
    if (av_match_list(detected->name, kOtherVideoFormats, ',') <= 0) {
      throw MediaFailure("not_a_video", "not a video this service reads (MP4, MOV, Matroska, WebM)");
    }
    throw MediaFailure("unsupported_container", std::string("container ") + detected->name + " is not accepted");
  }

  // Nothing throws between allocating the context and opening it, and
  // avformat_open_input frees it when it fails: no path leaks it.
  AVFormatContext* format = avformat_alloc_context();
  if (!format) throw std::bad_alloc();
  format->pb = source_->io;
  format->flags |= AVFMT_FLAG_CUSTOM_IO;
  format->interrupt_callback = {&Source::interrupted, source_.get()};
  format->io_open = &Source::refuse_open;
  format->probesize = limits.probe_bytes;
  format->max_analyze_duration = limits.analyze_micros;
  format->format_whitelist = av_strdup(kFormatWhitelist);
  format->protocol_whitelist = av_strdup("none");

  AVDictionary* options = nullptr;
  av_dict_set(&options, "enable_drefs", "0", 0);       // MOV: no external data references
  av_dict_set(&options, "use_absolute_path", "0", 0);  // MOV: and no absolute paths either
  const int rc = avformat_open_input(&format, nullptr, detected, &options);
  av_dict_free(&options);
  if (rc < 0) {
    if (rc == AVERROR_EXIT || timed_out()) throw MediaFailure("timeout", "reading the file took too long");
    throw MediaFailure("corrupt", std::string("the ") + detected->name + " header could not be read: " + av_error_text(rc));
  }
  format_ = format;
}

AvInput::~AvInput() {
  if (format_) avformat_close_input(&format_);  // leaves pb alone: AVFMT_FLAG_CUSTOM_IO
}

int64_t AvInput::file_size() const noexcept { return source_->size; }

bool AvInput::timed_out() const noexcept { return std::chrono::steady_clock::now() > source_->deadline; }

void AvInput::set_deadline(std::chrono::steady_clock::time_point deadline) { source_->deadline = deadline; }

void AvInput::fail(int averror, const char* code, const std::string& what) const {
  if (averror == AVERROR_EXIT || timed_out()) throw MediaFailure("timeout", "processing the file took too long");
  throw MediaFailure(code, what + ": " + av_error_text(averror));
}

void AvInput::keep_only(int stream, int also) {
  for (unsigned i = 0; i < format_->nb_streams; ++i) {
    const int index = static_cast<int>(i);
    format_->streams[i]->discard = index == stream || index == also ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
  }
}

bool AvInput::next_packet(AVPacket* packet) {
  if (timed_out()) fail(AVERROR_EXIT, "timeout", "reading");
  const int rc = av_read_frame(format_, packet);
  if (rc >= 0) return true;
  if (rc == AVERROR_EXIT || timed_out()) fail(rc, "timeout", "reading");
  return false;
}

CodecContextPtr AvInput::open_decoder(int stream, const std::function<void(AVCodecContext&)>& tune) {
  const AVCodecParameters* par = format_->streams[stream]->codecpar;
  const AVCodec* codec = avcodec_find_decoder(par->codec_id);
  if (!codec) throw MediaFailure("unsupported_codec", std::string("no decoder for ") + avcodec_get_name(par->codec_id));
  CodecContextPtr context(avcodec_alloc_context3(codec));
  if (!context) throw std::bad_alloc();
  if (avcodec_parameters_to_context(context.get(), par) < 0) {
    throw MediaFailure("corrupt", "the stream's parameters are unusable");
  }
  // Parallelism comes from several decoders on the compute pool, not from
  // threads inside one.
  context->thread_count = 1;
  if (tune) tune(*context);
  const int rc = avcodec_open2(context.get(), codec, nullptr);
  if (rc < 0) fail(rc, "corrupt", "the decoder refused the stream");
  return context;
}

bool AvInput::header_is_complete() const noexcept {
  return format_ && format_->iformat && std::strncmp(format_->iformat->name, "mov,", 4) == 0;
}

}  // namespace huntaze::media
