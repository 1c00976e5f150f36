#include "media/sheet_layout.hpp"

#include <algorithm>
#include <cmath>

namespace huntaze::media {

SheetLayout plan_sheet(int cells, double aspect, int max_width, int max_height, int gap) {
  SheetLayout best;
  if (cells <= 0 || aspect <= 0 || max_width <= 0 || max_height <= 0) return best;
  double best_area = -1;
  for (int columns = 1; columns <= cells; ++columns) {
    const int rows = (cells + columns - 1) / columns;
    const double room_w = static_cast<double>(max_width - gap * (columns - 1)) / columns;
    const double room_h = static_cast<double>(max_height - gap * (rows - 1)) / rows;
    if (room_w < 2 || room_h < 2) continue;
    const double w = std::min(room_w, room_h * aspect);
    const double area = w * (w / aspect);
    // Ties go to fewer empty slots (the earlier, wider layout).
    if (area > best_area * 1.0001) {
      best_area = area;
      best.columns = columns;
      best.rows = rows;
      int cw = static_cast<int>(std::floor(w)) & ~1;
      int ch = static_cast<int>(std::lround(cw / aspect)) & ~1;
      while (ch > room_h && cw > 2) {  // rounding may overshoot by a pixel
        cw -= 2;
        ch = static_cast<int>(std::lround(cw / aspect)) & ~1;
      }
      best.cell_width = std::max(2, cw);
      best.cell_height = std::max(2, ch);
    }
  }
  best.gap = gap;
  best.width = best.columns * best.cell_width + gap * (best.columns - 1);
  best.height = best.rows * best.cell_height + gap * (best.rows - 1);
  return best;
}

}  // namespace huntaze::media
