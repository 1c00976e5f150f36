#include "media/jpeg.hpp"

#include <algorithm>
#include <stdexcept>

#include "media/av_ptr.hpp"

namespace huntaze::media {

std::string encode_jpeg(const RgbImage& image, int quality) {
  if (image.empty()) throw std::invalid_argument("encode_jpeg: empty image");
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
  if (!codec) throw std::runtime_error("encode_jpeg: FFmpeg has no MJPEG encoder");
  CodecContextPtr ctx(avcodec_alloc_context3(codec));
  FramePtr frame(av_frame_alloc());
  PacketPtr packet(av_packet_alloc());
  if (!ctx || !frame || !packet) throw std::bad_alloc();

  // 4:2:0 wants even sizes: an odd one is stretched by a pixel.
  const int w = (image.width + 1) & ~1;
  const int h = (image.height + 1) & ~1;
  ctx->width = w;
  ctx->height = h;
  ctx->pix_fmt = AV_PIX_FMT_YUVJ420P;
  ctx->time_base = {1, 25};
  ctx->thread_count = 1;
  ctx->flags |= AV_CODEC_FLAG_QSCALE;
  ctx->global_quality = FF_QP2LAMBDA * std::clamp(quality, 2, 31);
  if (avcodec_open2(ctx.get(), codec, nullptr) < 0) throw std::runtime_error("encode_jpeg: cannot open the encoder");

  frame->format = ctx->pix_fmt;
  frame->width = w;
  frame->height = h;
  if (av_frame_get_buffer(frame.get(), 0) < 0) throw std::bad_alloc();
  frame->quality = ctx->global_quality;
  // YUVJ420P is YUV420P at full range; swscale is told the range instead.
  SwsPtr sws(sws_getContext(image.width, image.height, AV_PIX_FMT_RGB24, w, h, AV_PIX_FMT_YUV420P, SWS_BILINEAR,
                            nullptr, nullptr, nullptr));
  if (!sws) throw std::runtime_error("encode_jpeg: no colour converter");
  const int* matrix = sws_getCoefficients(SWS_CS_DEFAULT);  // JPEG is BT.601
  sws_setColorspaceDetails(sws.get(), matrix, 1, matrix, 1, 0, 1 << 16, 1 << 16);
  const uint8_t* src[1] = {image.pixels.data()};
  const int src_stride[1] = {image.stride()};
  sws_scale(sws.get(), src, src_stride, 0, image.height, frame->data, frame->linesize);

  if (avcodec_send_frame(ctx.get(), frame.get()) < 0 || avcodec_send_frame(ctx.get(), nullptr) < 0) {
    throw std::runtime_error("encode_jpeg: encoding failed");
  }
  std::string out;
  while (avcodec_receive_packet(ctx.get(), packet.get()) == 0) {
    out.append(reinterpret_cast<const char*>(packet->data), static_cast<size_t>(packet->size));
    av_packet_unref(packet.get());
  }
  if (out.empty()) throw std::runtime_error("encode_jpeg: the encoder produced nothing");
  return out;
}

}  // namespace huntaze::media
