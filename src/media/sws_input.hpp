// How swscale is to read a decoded picture, the same for the grid and the
// rendition: the plain pixel format with the range said apart (the "J"
// formats are full-range YUV), and the YUV matrix the source was made with
// (as stated, else the usual guess by its coded height: HD is BT.709, SD
// BT.601) - so grid cells and rendition agree on colour.
//
// Thread-safety: pure functions.
#pragma once

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>
}

namespace huntaze::media {

struct SwsInput {
  AVPixelFormat format;
  bool full_range;
};

SwsInput sws_input(const AVFrame& picture);

// Also usable as sws_getCoefficients()'s index (its table follows AVColorSpace).
AVColorSpace source_matrix(AVColorSpace stated, int coded_height);

}  // namespace huntaze::media
