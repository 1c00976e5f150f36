// A plain 8-bit RGB picture (rows of width * 3 bytes, no padding) and the few
// operations the contact sheet needs: turning upright, placing one picture on
// another, and stamping a timestamp label.
//
// Thread-safety: a value; no shared state.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace huntaze::media {

struct RgbImage {
  // swscale's SIMD paths may write a little past the last row.
  static constexpr size_t kTailPadding = 64;

  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;

  RgbImage() = default;
  RgbImage(int w, int h, uint8_t gray = 0)
      : width(w), height(h), pixels(static_cast<size_t>(w) * static_cast<size_t>(h) * 3 + kTailPadding, gray) {}
  // `pixels` holds the rows, then kTailPadding spare bytes.
  uint8_t* at(int x, int y) { return pixels.data() + (static_cast<size_t>(y) * static_cast<size_t>(width) + x) * 3; }
  const uint8_t* at(int x, int y) const {
    return pixels.data() + (static_cast<size_t>(y) * static_cast<size_t>(width) + x) * 3;
  }
  int stride() const noexcept { return width * 3; }
  bool empty() const noexcept { return width == 0 || height == 0; }
};

// `degrees` clockwise: 0, 90, 180 or 270.
RgbImage rotate_clockwise(const RgbImage& image, int degrees);

// Copies `src` onto `dst` with its top-left corner at (x, y), clipped.
void blit(RgbImage& dst, const RgbImage& src, int x, int y);

// Fills a rectangle, clipped.
void fill(RgbImage& image, int x, int y, int w, int h, uint8_t r, uint8_t g, uint8_t b);

// White digits, ':' and '.' on a black box whose bottom-left corner is at
// (x, y_bottom); each font pixel is `scale` x `scale`. Other characters
// are left blank. Returns the box's width.
int draw_label(RgbImage& image, int x, int y_bottom, std::string_view text, int scale);

}  // namespace huntaze::media
