#pragma once
// A labelled grid of images (rows = samples, columns = methods) as one self-contained SVG
// file with the tiles embedded as PNG: opens in any browser, and renders with rsvg-convert
// or Inkscape. Optional component: link patternnet::image.

#include <patternnet/io/image.hpp>

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <vector>

namespace patternnet::io {

/// One row: a label (one string per line, e.g. "true: Sneaker", "pred: Sneaker 98%"),
/// drawn left of the tiles in `label_color` (an SVG colour), and one tile per column.
struct GridRow {
  std::vector<std::string> label;
  std::vector<Image> tiles;
  std::string label_color = "#000";
};

/// A colour bar drawn under the grid, with its meaning and the values at its ends and middle.
struct GridLegend {
  std::string title;
  Image bar;
  std::string low, middle, high;
};

struct ImageGrid {
  std::string title;
  /// One title per column; "\n" breaks a title into lines.
  std::vector<std::string> columns;
  std::vector<GridRow> rows;
  std::vector<GridLegend> legends;
  /// Lines of text under the legends.
  std::vector<std::string> notes;
  /// Tiles are enlarged by this integer factor (nearest neighbour), so 28 x 28 tiles
  /// become 112 x 112 crisp pixels in every viewer.
  Index tile_scale = 4;
  Index gap = 6;             // pixels between tiles
  Index label_width = 170;   // pixels for the row labels
};

}  // namespace patternnet::io

namespace patternnet::detail::image {

/// Text for an SVG element: & < > " escaped.
[[nodiscard]] inline std::string xml_escape(std::string_view s) {
  std::string out;
  for (const char c : s) {
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

[[nodiscard]] inline std::string base64(const std::vector<unsigned char>& in) {
  static constexpr char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < in.size(); i += 3) {
    const unsigned v = (unsigned{in[i]} << 16) | (i + 1 < in.size() ? unsigned{in[i + 1]} << 8 : 0U) |
                       (i + 2 < in.size() ? unsigned{in[i + 2]} : 0U);
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += i + 1 < in.size() ? table[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? table[v & 63] : '=';
  }
  return out;
}

/// An <image> element showing `img` (as an embedded PNG) at (x, y), 1:1.
[[nodiscard]] inline std::string svg_image(const io::Image& img, Index x, Index y) {
  return fmt::format(R"(<image x="{}" y="{}" width="{}" height="{}" xlink:href="data:image/png;base64,{}"/>)", x, y,
                     img.width, img.height, base64(io::encode_png(img)));
}

[[nodiscard]] inline std::string svg_text(double x, double y, std::string_view s, int size, std::string_view anchor = "start",
                                          std::string_view color = "#000", bool bold = false) {
  return fmt::format(R"(<text x="{}" y="{}" font-size="{}" text-anchor="{}" fill="{}"{}>{}</text>)", x, y, size, anchor,
                     color, bold ? R"( font-weight="bold")" : "", xml_escape(s));
}

}  // namespace patternnet::detail::image

namespace patternnet::io {

/// The grid as an SVG document. Throws ShapeError if a row has more tiles than there
/// are columns, ConfigError for tile_scale < 1, Error if a tile cannot be encoded.
[[nodiscard]] inline std::string grid_svg(const ImageGrid& grid) {
  namespace im = detail::image;
  constexpr Index kLegendHeight = 50;  // for a bar 14 pixels high
  if (grid.tile_scale < 1) detail::fail<ConfigError>("grid_svg(): tile_scale must be >= 1, got {}", grid.tile_scale);
  Index tile_w = 0, tile_h = 0, header_lines = 1;
  for (const GridRow& row : grid.rows) {
    if (row.tiles.size() > grid.columns.size()) {
      detail::fail<ShapeError>("grid_svg(): a row has {} tiles for {} columns", row.tiles.size(), grid.columns.size());
    }
    for (const Image& t : row.tiles) tile_w = std::max(tile_w, t.width * grid.tile_scale), tile_h = std::max(tile_h, t.height * grid.tile_scale);
  }
  for (const std::string& c : grid.columns) header_lines = std::max<Index>(header_lines, 1 + std::ranges::count(c, '\n'));
  tile_w = std::max<Index>(tile_w, 60);
  const Index cols = static_cast<Index>(grid.columns.size()), margin = 12, title_h = grid.title.empty() ? 0 : 30;
  const Index header_h = 15 * header_lines + 8, top = margin + title_h + header_h;
  const Index grid_w = grid.label_width + cols * (tile_w + grid.gap);
  const Index rows_h = static_cast<Index>(grid.rows.size()) * (tile_h + grid.gap);
  Index legend_h = 0;
  for (const GridLegend& legend : grid.legends) legend_h += kLegendHeight + std::max<Index>(legend.bar.height - 14, 0);
  const Index notes_h = static_cast<Index>(grid.notes.size()) * 18;
  const Index width = margin * 2 + grid_w, height = top + rows_h + 10 + legend_h + notes_h + margin;

  std::string body;
  if (!grid.title.empty()) body += im::svg_text(margin, margin + 18, grid.title, 18, "start", "#000", true);
  for (Index c = 0; c < cols; ++c) {  // column titles, bottom-aligned above the tiles
    const std::string& title = grid.columns[static_cast<std::size_t>(c)];
    const double x = margin + grid.label_width + c * (tile_w + grid.gap) + tile_w / 2.0;
    std::vector<std::string> lines;
    for (std::size_t start = 0;;) {
      const std::size_t end = title.find('\n', start);
      lines.push_back(title.substr(start, end == std::string::npos ? std::string::npos : end - start));
      if (end == std::string::npos) break;
      start = end + 1;
    }
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const double y = top - 8 - 15.0 * static_cast<double>(lines.size() - 1 - i);
      body += im::svg_text(x, y, lines[i], 12, "middle", "#000", true);
    }
  }
  for (std::size_t r = 0; r < grid.rows.size(); ++r) {
    const GridRow& row = grid.rows[r];
    const Index y = top + static_cast<Index>(r) * (tile_h + grid.gap);
    const double label_top = y + tile_h / 2.0 - 8.0 * static_cast<double>(row.label.size()) + 12;
    for (std::size_t i = 0; i < row.label.size(); ++i) {
      body += im::svg_text(margin, label_top + 16.0 * static_cast<double>(i), row.label[i], 13, "start", row.label_color);
    }
    for (std::size_t c = 0; c < row.tiles.size(); ++c) {
      const Image& tile = row.tiles[c];
      if (tile.width == 0) continue;  // an empty cell
      const Index x = margin + grid.label_width + static_cast<Index>(c) * (tile_w + grid.gap);
      body += im::svg_image(upscale(tile, grid.tile_scale), x, y);
    }
  }
  Index y = top + rows_h + 10;
  for (const GridLegend& legend : grid.legends) {  // title, then the bar, then its end and middle values
    const Index x = margin + grid.label_width;
    body += im::svg_text(x, y + 12, legend.title, 12);
    body += im::svg_image(legend.bar, x, y + 18);
    const double ticks = static_cast<double>(y + 18 + legend.bar.height + 13);
    body += im::svg_text(x, ticks, legend.low, 11, "start");
    body += im::svg_text(x + legend.bar.width / 2.0, ticks, legend.middle, 11, "middle");
    body += im::svg_text(x + legend.bar.width, ticks, legend.high, 11, "end");
    y += kLegendHeight + std::max<Index>(legend.bar.height - 14, 0);
  }
  for (const std::string& note : grid.notes) {
    body += im::svg_text(margin, y + 14, note, 12, "start", "#333");
    y += 18;
  }
  return fmt::format(R"(<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" )"
                     R"(width="{0}" height="{1}" viewBox="0 0 {0} {1}" font-family="sans-serif">)"
                     R"(<rect width="100%" height="100%" fill="white"/>{2}</svg>)"
                     "\n",
                     width, height, body);
}

/// Writes grid_svg(grid) to `path` atomically. Throws like grid_svg, and Error on I/O failure.
inline void write_grid_svg(const ImageGrid& grid, const std::filesystem::path& path) {
  const std::string svg = grid_svg(grid);
  write_file_atomically(std::vector<unsigned char>(svg.begin(), svg.end()), path);
}

}  // namespace patternnet::io
