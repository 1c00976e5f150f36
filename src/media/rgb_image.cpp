#include "media/rgb_image.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace huntaze::media {
namespace {

constexpr int kGlyphWidth = 5;
constexpr int kGlyphHeight = 7;

// A 5x7 font: each row's five pixels in the low bits, leftmost highest.
const std::array<uint8_t, kGlyphHeight>* glyph(char c) {
  static const std::array<std::array<uint8_t, kGlyphHeight>, 12> font{{
      {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E},  // 0
      {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E},  // 1
      {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F},  // 2
      {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E},  // 3
      {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02},  // 4
      {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E},  // 5
      {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E},  // 6
      {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08},  // 7
      {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E},  // 8
      {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C},  // 9
      {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00},  // :
      {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C},  // .
  }};
  if (c >= '0' && c <= '9') return &font[static_cast<size_t>(c - '0')];
  if (c == ':') return &font[10];
  if (c == '.') return &font[11];
  return nullptr;
}

}  // namespace

RgbImage rotate_clockwise(const RgbImage& image, int degrees) {
  if (degrees == 0) return image;
  const bool sideways = degrees == 90 || degrees == 270;
  RgbImage out(sideways ? image.height : image.width, sideways ? image.width : image.height);
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      int nx = x, ny = y;
      switch (degrees) {
        case 90: nx = image.height - 1 - y; ny = x; break;
        case 180: nx = image.width - 1 - x; ny = image.height - 1 - y; break;
        case 270: nx = y; ny = image.width - 1 - x; break;
        default: break;
      }
      std::memcpy(out.at(nx, ny), image.at(x, y), 3);
    }
  }
  return out;
}

void blit(RgbImage& dst, const RgbImage& src, int x, int y) {
  const int x0 = std::max(0, x), y0 = std::max(0, y);
  const int x1 = std::min(dst.width, x + src.width), y1 = std::min(dst.height, y + src.height);
  if (x0 >= x1) return;
  for (int row = y0; row < y1; ++row) {
    std::memcpy(dst.at(x0, row), src.at(x0 - x, row - y), static_cast<size_t>(x1 - x0) * 3);
  }
}

void fill(RgbImage& image, int x, int y, int w, int h, uint8_t r, uint8_t g, uint8_t b) {
  const int x0 = std::max(0, x), y0 = std::max(0, y);
  const int x1 = std::min(image.width, x + w), y1 = std::min(image.height, y + h);
  for (int row = y0; row < y1; ++row) {
    for (int col = x0; col < x1; ++col) {
      uint8_t* p = image.at(col, row);
      p[0] = r;
      p[1] = g;
      p[2] = b;
    }
  }
}

int draw_label(RgbImage& image, int x, int y_bottom, std::string_view text, int scale) {
  scale = std::max(1, scale);
  const int pad = scale * 2;
  const int advance = (kGlyphWidth + 1) * scale;
  const int box_w = static_cast<int>(text.size()) * advance - scale + 2 * pad;
  const int box_h = kGlyphHeight * scale + 2 * pad;
  const int top = y_bottom - box_h;
  fill(image, x, top, box_w, box_h, 0, 0, 0);
  int pen = x + pad;
  for (char c : text) {
    if (const auto* rows = glyph(c)) {
      for (int gy = 0; gy < kGlyphHeight; ++gy) {
        for (int gx = 0; gx < kGlyphWidth; ++gx) {
          if ((*rows)[static_cast<size_t>(gy)] & (0x10 >> gx)) {
            fill(image, pen + gx * scale, top + pad + gy * scale, scale, scale, 255, 255, 255);
          }
        }
      }
    }
    pen += advance;
  }
  return box_w;
}

}  // namespace huntaze::media
