#include "sim/svg.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace drover::svg {
namespace {

constexpr const char* kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
constexpr double kLeft = 70, kRight = 170, kTop = 40, kBottom = 55;

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// Data range over all finite points, padded when degenerate.
std::pair<double, double> Range(const LineChart& c, bool x) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const Series& s : c.series) {
    for (const auto& [px, py] : s.points) {
      const double v = x ? px : py;
      if (!std::isfinite(px) || !std::isfinite(py)) continue;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  if (!std::isfinite(lo)) return {0, 1};
  if (hi - lo < 1e-9) return {lo - 1, hi + 1};
  return {lo, hi};
}

// A "nice" tick step giving about `target` ticks over `span`.
double TickStep(double span, int target) {
  const double raw = span / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (raw <= m * mag) return m * mag;
  }
  return 10 * mag;
}

struct Frame {
  double x0, x1, y0, y1, w, h;
  double X(double v) const { return kLeft + (v - x0) / (x1 - x0) * w; }
  double Y(double v) const { return kTop + h - (v - y0) / (y1 - y0) * h; }
};

void Axes(const LineChart& c, const Frame& f, std::string* out) {
  absl::StrAppendFormat(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#333\"/>\n",
                        kLeft, kTop, f.w, f.h);
  for (int axis = 0; axis < 2; ++axis) {
    const double lo = axis == 0 ? f.x0 : f.y0, hi = axis == 0 ? f.x1 : f.y1;
    const double step = TickStep(hi - lo, axis == 0 ? 10 : 8);
    for (double v = std::ceil(lo / step) * step; v <= hi + 1e-9; v += step) {
      if (axis == 0) {
        absl::StrAppendFormat(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", f.X(v),
                              kTop, f.X(v), kTop + f.h);
        absl::StrAppendFormat(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\">%g</text>\n",
                              f.X(v), kTop + f.h + 16, v);
      } else {
        absl::StrAppendFormat(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", kLeft,
                              f.Y(v), kLeft + f.w, f.Y(v));
        absl::StrAppendFormat(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"end\">%g</text>\n",
                              kLeft - 6, f.Y(v) + 4, v);
      }
    }
  }
  absl::StrAppendFormat(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"16\" text-anchor=\"middle\">%s</text>\n",
                        kLeft + f.w / 2, kTop - 14, Escape(c.title));
  absl::StrAppendFormat(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" text-anchor=\"middle\">%s</text>\n",
                        kLeft + f.w / 2, kTop + f.h + 40, Escape(c.x_label));
  absl::StrAppendFormat(out,
                        "<text x=\"18\" y=\"%.1f\" font-size=\"13\" text-anchor=\"middle\" "
                        "transform=\"rotate(-90 18 %.1f)\">%s</text>\n",
                        kTop + f.h / 2, kTop + f.h / 2, Escape(c.y_label));
}

void Lines(const LineChart& c, const Frame& f, std::string* out) {
  for (size_t i = 0; i < c.series.size(); ++i) {
    const Series& s = c.series[i];
    const char* color = kPalette[i % (sizeof(kPalette) / sizeof(kPalette[0]))];
    std::string path;
    bool pen_down = false;
    for (const auto& [x, y] : s.points) {
      const bool inside = std::isfinite(x) && std::isfinite(y) && x >= f.x0 && x <= f.x1;
      if (!inside) {
        pen_down = false;
        continue;
      }
      const double cy = std::clamp(y, f.y0, f.y1);
      absl::StrAppendFormat(&path, "%s%.1f,%.1f ", pen_down ? "L" : "M", f.X(x), f.Y(cy));
      pen_down = true;
    }
    absl::StrAppendFormat(out, "<path d=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>\n", path, color);
    const double ly = kTop + 18 + 20.0 * static_cast<double>(i);
    absl::StrAppendFormat(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"3\"/>\n",
                          kLeft + f.w + 12, ly, kLeft + f.w + 36, ly, color);
    absl::StrAppendFormat(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\">%s</text>\n", kLeft + f.w + 42, ly + 4,
                          Escape(s.name));
  }
}

}  // namespace

std::string Render(const LineChart& c) {
  Frame f;
  std::tie(f.x0, f.x1) = c.x_range.value_or(Range(c, true));
  std::tie(f.y0, f.y1) = c.y_range.value_or(Range(c, false));
  f.w = c.width - kLeft - kRight;
  f.h = c.height - kTop - kBottom;
  std::string out = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
      "font-family=\"sans-serif\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
      c.width, c.height, c.width, c.height);
  Axes(c, f, &out);
  Lines(c, f, &out);
  out += "</svg>\n";
  return out;
}

}  // namespace drover::svg
