#include "media/sws_input.hpp"

namespace huntaze::media {

SwsInput sws_input(const AVFrame& picture) {
  SwsInput in{static_cast<AVPixelFormat>(picture.format), picture.color_range == AVCOL_RANGE_JPEG};
  switch (in.format) {
    case AV_PIX_FMT_YUVJ420P:
      return {AV_PIX_FMT_YUV420P, true};
    case AV_PIX_FMT_YUVJ422P:
      return {AV_PIX_FMT_YUV422P, true};
    case AV_PIX_FMT_YUVJ444P:
      return {AV_PIX_FMT_YUV444P, true};
    case AV_PIX_FMT_YUVJ440P:
      return {AV_PIX_FMT_YUV440P, true};
    case AV_PIX_FMT_YUVJ411P:
      return {AV_PIX_FMT_YUV411P, true};
    default:
      return in;
  }
}

AVColorSpace source_matrix(AVColorSpace stated, int coded_height) {
  if (stated != AVCOL_SPC_UNSPECIFIED && stated != AVCOL_SPC_RESERVED && stated != AVCOL_SPC_RGB) return stated;
  return coded_height >= 720 ? AVCOL_SPC_BT709 : AVCOL_SPC_SMPTE170M;
}

}  // namespace huntaze::media
