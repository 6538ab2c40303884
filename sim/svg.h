// A small SVG line chart writer for benchmark figures (no dependencies).
//
//   svg::LineChart c;
//   c.title = "Unallocated GPU vs arrival";  c.x_label = "arrived GPU (%)";
//   c.series.push_back({"fgd", {{90, 10.0}, {100, 4.8}}});
//   std::string text = svg::Render(c);   // write it to a .svg file
//
// Axis ranges come from the data unless set; NaN points are skipped (they break
// the line). Colours cycle through a fixed palette in series order.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace drover::svg {

struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y), x ascending
};

struct LineChart {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<Series> series;
  std::optional<std::pair<double, double>> x_range;  // [min, max]
  std::optional<std::pair<double, double>> y_range;
  int width = 900;
  int height = 560;
};

// The chart as a standalone SVG document.
std::string Render(const LineChart& chart);

}  // namespace drover::svg
