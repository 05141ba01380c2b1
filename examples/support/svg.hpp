#pragma once
// A minimal SVG writer for the examples' figures: panels with linear axes, points,
// lines, arrows and labels. Not part of the library.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace svg {

struct Range {
  double lo, hi;
};

/// One rectangular plot area mapping data coordinates to pixels.
class Panel {
public:
  Panel(std::string* out, double x, double y, double w, double h, Range xr, Range yr)
      : out_(out), x_(x), y_(y), w_(w), h_(h), xr_(xr), yr_(yr) {}

  [[nodiscard]] double px(double v) const { return x_ + (v - xr_.lo) / (xr_.hi - xr_.lo) * w_; }
  [[nodiscard]] double py(double v) const { return y_ + h_ - (v - yr_.lo) / (yr_.hi - yr_.lo) * h_; }

  /// Frame, ticks and axis labels (xticks = 0: no numeric ticks on x).
  void axes(const std::string& title, const std::string& xlabel, const std::string& ylabel, int xticks = 5, int yticks = 5) {
    *out_ += fmt::format(R"(<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#444"/>)", x_, y_, w_, h_);
    for (int i = 0; xticks > 0 && i <= xticks; ++i) {
      const double v = xr_.lo + (xr_.hi - xr_.lo) * i / xticks;
      *out_ += fmt::format(R"(<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="#444"/><text x="{0}" y="{3}" font-size="11" text-anchor="middle">{4:g}</text>)",
                           px(v), y_ + h_, y_ + h_ + 4, y_ + h_ + 16, std::round(v * 100) / 100);
    }
    for (int i = 0; i <= yticks; ++i) {
      const double v = yr_.lo + (yr_.hi - yr_.lo) * i / yticks;
      *out_ += fmt::format(R"(<line x1="{0}" y1="{1}" x2="{2}" y2="{1}" stroke="#444"/><text x="{3}" y="{4}" font-size="11" text-anchor="end">{5:g}</text>)",
                           x_ - 4, py(v), x_, x_ - 6, py(v) + 4, std::round(v * 100) / 100);
    }
    text(x_ + w_ / 2, y_ - 10, title, 14, "middle", true);
    text(x_ + w_ / 2, y_ + h_ + 34, xlabel, 12, "middle");
    *out_ += fmt::format(R"svg(<text x="{0}" y="{1}" font-size="12" text-anchor="middle" transform="rotate(-90 {0} {1})">{2}</text>)svg",
                         x_ - 48, y_ + h_ / 2, ylabel);
  }
  /// A dot; points outside the panel's ranges are skipped.
  void point(double x, double y, const std::string& color, double r = 1.6, double opacity = 0.35) {
    if (x < xr_.lo || x > xr_.hi || y < yr_.lo || y > yr_.hi) return;
    *out_ += fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="{}" fill="{}" fill-opacity="{}"/>)", px(x), py(y), r, color, opacity);
  }
  void line(double x1, double y1, double x2, double y2, const std::string& color, double width = 1.5, const std::string& dash = "") {
    *out_ += fmt::format(R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="{}" stroke-width="{}"{}/>)", px(x1), py(y1), px(x2),
                         py(y2), color, width, dash.empty() ? "" : fmt::format(R"( stroke-dasharray="{}")", dash));
  }
  /// An arrow with a label beyond its head (label_dy shifts the label down, in pixels).
  void arrow(double x1, double y1, double x2, double y2, const std::string& color, const std::string& label,
             double label_dy = 0) {
    line(x1, y1, x2, y2, color, 2.5);
    const double ax = px(x2), ay = py(y2), dx = ax - px(x1), dy = ay - py(y1), n = std::hypot(dx, dy);
    if (n == 0) return;
    const double ux = dx / n, uy = dy / n, s = 9;
    *out_ += fmt::format(R"(<polygon points="{:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f}" fill="{}"/>)", ax, ay, ax - s * ux - s * 0.5 * uy,
                         ay - s * uy + s * 0.5 * ux, ax - s * ux + s * 0.5 * uy, ay - s * uy - s * 0.5 * ux, color);
    text(ax + 8 * ux + 4, ay + 8 * uy + 4 + label_dy, label, 13, "start", true, color);
  }
  void polyline(const std::vector<std::pair<double, double>>& pts, const std::string& color, double width = 2,
                const std::string& dash = "", bool markers = true) {
    std::string p;
    for (const auto& [x, y] : pts) p += fmt::format("{:.1f},{:.1f} ", px(x), py(y));
    *out_ += fmt::format(R"(<polyline points="{}" fill="none" stroke="{}" stroke-width="{}"{}/>)", p, color, width,
                         dash.empty() ? "" : fmt::format(R"( stroke-dasharray="{}")", dash));
    if (markers) {
      for (const auto& [x, y] : pts) point(x, y, color, 3, 1.0);
    }
  }
  /// A legend entry (row i) in the panel's top-left corner.
  void legend(int i, const std::string& color, const std::string& label, const std::string& dash = "") {
    const double lx = x_ + 12, ly = y_ + 16 + 18 * i;
    *out_ += fmt::format(R"(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="2.5"{}/>)", lx, ly, lx + 24, ly, color,
                         dash.empty() ? "" : fmt::format(R"( stroke-dasharray="{}")", dash));
    text(lx + 30, ly + 4, label, 12, "start");
  }
  void text(double x, double y, const std::string& s, int size = 12, const std::string& anchor = "start", bool bold = false,
            const std::string& color = "#000") {
    *out_ += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" font-size="{}" text-anchor="{}" fill="{}"{}>{}</text>)", x, y, size, anchor, color,
                         bold ? R"( font-weight="bold")" : "", s);
  }

private:
  std::string* out_;
  double x_, y_, w_, h_;
  Range xr_, yr_;
};

/// A whole SVG document.
class Document {
public:
  Document(double width, double height) : width_(width), height_(height) {}
  Panel panel(double x, double y, double w, double h, Range xr, Range yr) { return Panel(&body_, x, y, w, h, xr, yr); }
  void text(double x, double y, const std::string& s, int size = 12) {
    body_ += fmt::format(R"(<text x="{}" y="{}" font-size="{}">{}</text>)", x, y, size, s);
  }
  /// Writes the file (via a temporary file and a rename).
  void save(const std::filesystem::path& path) const {
    const auto tmp = path.string() + ".tmp";
    {
      std::ofstream out(tmp);
      out << fmt::format(R"(<svg xmlns="http://www.w3.org/2000/svg" width="{0}" height="{1}" viewBox="0 0 {0} {1}" font-family="sans-serif">)",
                         width_, height_)
          << R"(<rect width="100%" height="100%" fill="white"/>)" << body_ << "</svg>\n";
      if (!out) throw std::runtime_error("cannot write " + tmp);
    }
    std::filesystem::rename(tmp, path);
  }

private:
  double width_, height_;
  std::string body_;
};

}  // namespace svg
