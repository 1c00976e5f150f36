// How a contact sheet of `cells` frames is laid out within a maximum size:
// the number of columns that gives each frame the most area at the video's
// own aspect ratio. A landscape video gets 4 x 4 cells of 16:9 in 1344 x 756;
// a portrait one gets 8 x 2 tall cells instead of 4 x 4 tiny ones.
//
// Thread-safety: a pure function.
#pragma once

namespace huntaze::media {

struct SheetLayout {
  int columns = 0;
  int rows = 0;
  int cell_width = 0;   // even
  int cell_height = 0;  // even
  int gap = 0;          // between cells
  int width = 0;        // the whole sheet
  int height = 0;
  int cell_x(int index) const { return (index % columns) * (cell_width + gap); }
  int cell_y(int index) const { return (index / columns) * (cell_height + gap); }
};

// `aspect`: display width / height of the video.
SheetLayout plan_sheet(int cells, double aspect, int max_width, int max_height, int gap = 4);

}  // namespace huntaze::media
