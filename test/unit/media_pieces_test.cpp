// The media pieces that need no video file: which moments a grid shows,
// how the sheet is laid out, turning pictures upright, the cell labels.
#include <catch2/catch.hpp>

#include "media/frame_targets.hpp"
#include "media/keyframe_grid.hpp"
#include "media/rgb_image.hpp"
#include "media/sheet_layout.hpp"

using namespace huntaze::media;

TEST_CASE("media: targets are the middles of equal slices", "[media]") {
  const auto targets = spread_targets(0, 8, 4);
  REQUIRE(targets.size() == 4);
  CHECK(targets[0] == Approx(1));
  CHECK(targets[1] == Approx(3));
  CHECK(targets[3] == Approx(7));
  CHECK(spread_targets(0, 8, 0).empty());
}

TEST_CASE("media: keyframes are picked nearest their targets, distinct and in order", "[media]") {
  // A keyframe every second over 10 s; targets at 1, 3, 5, 7, 9 pick those.
  std::vector<double> keys{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  CHECK(pick_keyframes(keys, {1, 3, 5, 7, 9}) == std::vector<size_t>{1, 3, 5, 7, 9});
  // Two targets nearest the same keyframe still get two different ones.
  CHECK(pick_keyframes({0, 5, 10}, {4.9, 5.1}) == std::vector<size_t>{1, 2});
  // Clustered keyframes: the last targets keep enough keyframes for themselves.
  CHECK(pick_keyframes({0, 0.1, 0.2, 0.3, 9}, {5, 6, 7}) == std::vector<size_t>{2, 3, 4});
  // Fewer keyframes than targets: each shown once.
  CHECK(pick_keyframes({2, 4}, {1, 2, 3, 4}) == std::vector<size_t>{0, 1});
  CHECK(pick_keyframes({}, {1}).empty());
}

TEST_CASE("media: a landscape sheet is 4 x 4 and a portrait one 8 x 2 within 1344 x 756", "[media]") {
  const SheetLayout landscape = plan_sheet(16, 16.0 / 9, 1344, 756);
  CHECK(landscape.columns == 4);
  CHECK(landscape.rows == 4);
  CHECK(landscape.width <= 1344);
  CHECK(landscape.height <= 756);
  CHECK(landscape.cell_width > landscape.cell_height);
  CHECK(landscape.cell_width % 2 == 0);
  CHECK(landscape.cell_height % 2 == 0);
  CHECK(landscape.cell_x(5) == landscape.cell_width + landscape.gap);
  CHECK(landscape.cell_y(5) == landscape.cell_height + landscape.gap);

  const SheetLayout portrait = plan_sheet(16, 9.0 / 16, 1344, 756);
  CHECK(portrait.columns == 8);
  CHECK(portrait.rows == 2);
  CHECK(portrait.cell_height > portrait.cell_width);
  CHECK(portrait.width <= 1344);
  CHECK(portrait.height <= 756);
  // Its cells are bigger than a 4 x 4 layout of the same frames would allow.
  CHECK(portrait.cell_height > (756 - 12) / 4);

  const SheetLayout single = plan_sheet(1, 16.0 / 9, 1344, 756);
  CHECK(single.columns == 1);
  CHECK(single.width == 1344);
}

TEST_CASE("media: pictures turn clockwise by quarter turns", "[media]") {
  RgbImage image(3, 2);
  image.at(0, 0)[0] = 1;  // top-left
  image.at(2, 1)[0] = 2;  // bottom-right
  const RgbImage quarter = rotate_clockwise(image, 90);
  REQUIRE(quarter.width == 2);
  REQUIRE(quarter.height == 3);
  CHECK(quarter.at(1, 0)[0] == 1);  // top-left goes top-right
  CHECK(quarter.at(0, 2)[0] == 2);  // bottom-right goes bottom-left
  const RgbImage half = rotate_clockwise(image, 180);
  CHECK(half.at(2, 1)[0] == 1);
  CHECK(half.at(0, 0)[0] == 2);
  const RgbImage three = rotate_clockwise(image, 270);
  REQUIRE(three.width == 2);
  CHECK(three.at(0, 2)[0] == 1);  // top-left goes bottom-left
  CHECK(three.at(1, 0)[0] == 2);
}

TEST_CASE("media: labels are clock times and are drawn in white on black", "[media]") {
  CHECK(clock_label(0) == "0:00");
  CHECK(clock_label(65.9) == "1:05");
  CHECK(clock_label(3725) == "1:02:05");
  CHECK(clock_label(-3) == "0:00");

  RgbImage image(100, 40, 128);
  const int width = draw_label(image, 2, 38, "1:0", 2);
  CHECK(width > 0);
  int white = 0, black = 0;
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      if (image.at(x, y)[0] == 255) ++white;
      if (image.at(x, y)[0] == 0) ++black;
    }
  }
  CHECK(white > 20);
  CHECK(black > white);
  CHECK(image.at(99, 0)[0] == 128);  // outside the box: untouched
}
