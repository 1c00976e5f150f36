#include "media/media_failure.hpp"

#include <cerrno>
#include <new>

extern "C" {
#include <libavutil/error.h>
}

namespace huntaze::media {

std::string av_error_text(int averror) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(averror, buf, sizeof buf);
  return buf;
}

void throw_encode_failed(std::string_view track, std::string_view step, int averror) {
  if (averror == AVERROR(ENOMEM)) throw std::bad_alloc();
  throw MediaFailure("encode_failed", "the " + std::string(track) + " could not be encoded (" + std::string(step) +
                                          "): " + av_error_text(averror));
}

}  // namespace huntaze::media
