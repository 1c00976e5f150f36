// JPEG encoding of an RgbImage with libavcodec's MJPEG encoder (4:2:0,
// full-range). `quality` is FFmpeg's qscale: 2 (best) to 31 (smallest).
//
// Thread-safety: each call has its own encoder; safe from any thread.
#pragma once

#include <string>

#include "media/rgb_image.hpp"

namespace huntaze::media {

std::string encode_jpeg(const RgbImage& image, int quality = 4);

}  // namespace huntaze::media
