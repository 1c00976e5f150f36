// Turning an 8-bit YUV 4:2:0 picture (AV_PIX_FMT_YUV420P) by a quarter
// turn, a half turn or three quarters, plane by plane. A phone's portrait
// video is stored sideways with a display matrix; a rendition bakes the turn
// into the pixels instead, because not every player honours the matrix.
//
// Thread-safety: pure; touches only the frames it is given.
#pragma once

extern "C" {
struct AVFrame;
}

namespace huntaze::media {

// Writes `src` turned `degrees` clockwise (90, 180 or 270) into `dst`, which
// must already hold writable YUV420P buffers of the turned size (height x
// width for 90 and 270). Both sizes even.
void rotate_yuv420p(const AVFrame& src, AVFrame& dst, int degrees);

}  // namespace huntaze::media
