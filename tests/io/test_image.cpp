#include "support.hpp"

#include <patternnet/io/image.hpp>
#include <patternnet/io/image_grid.hpp>

#include <catch2/catch.hpp>
#include <stb_image.h>

#include <filesystem>
#include <memory>

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using pn::io::Rgb;

namespace {

struct Decoded {
  int width = 0, height = 0, channels = 0;
  std::vector<Rgb> pixels;
};

Decoded decode(const std::vector<unsigned char>& png) {
  Decoded d;
  std::unique_ptr<unsigned char, void (*)(void*)> data(
      stbi_load_from_memory(png.data(), static_cast<int>(png.size()), &d.width, &d.height, &d.channels, 3), stbi_image_free);
  REQUIRE(data != nullptr);
  for (int i = 0; i < d.width * d.height; ++i) d.pixels.push_back({data.get()[3 * i], data.get()[3 * i + 1], data.get()[3 * i + 2]});
  return d;
}

}  // namespace

TEST_CASE("the diverging colour map is white at 0, RdBu's anchors at +-1/2 and +-1, clamped beyond") {
  CHECK(pn::io::diverging_color(0.0) == Rgb{255, 255, 255});
  CHECK(pn::io::diverging_color(-1.0) == Rgb{5, 48, 97});
  CHECK(pn::io::diverging_color(-0.5) == Rgb{67, 147, 195});
  CHECK(pn::io::diverging_color(0.5) == Rgb{214, 96, 77});
  CHECK(pn::io::diverging_color(1.0) == Rgb{103, 0, 31});
  CHECK(pn::io::diverging_color(7.0) == pn::io::diverging_color(1.0));
  CHECK(pn::io::diverging_color(-7.0) == pn::io::diverging_color(-1.0));
  // halfway between white and (214, 96, 77): (234.5, 175.5, 166) rounded half away from zero
  CHECK(pn::io::diverging_color(0.25) == Rgb{235, 176, 166});
}

TEST_CASE("signals use the paper's normalisation x / (2 max|x|) + 1/2, inputs their range") {
  pn::Vector<double> v(4);
  v << -2, 0, 1, 2;  // image rows (-2, 0) and (1, 2)
  const auto img = pn::io::signal_image(v, {1, 2, 2});
  REQUIRE(img.width == 2);
  REQUIRE(img.height == 2);
  // u = 0, 1/2, 3/4, 1 -> round(255 u) = 0, 128 (127.5 rounds up), 191 (191.25), 255
  CHECK(img.at(0, 0) == Rgb{0, 0, 0});
  CHECK(img.at(0, 1) == Rgb{128, 128, 128});
  CHECK(img.at(1, 0) == Rgb{191, 191, 191});
  CHECK(img.at(1, 1) == Rgb{255, 255, 255});
  // a shared scale of 4: u = v / 8 + 1/2 -> 0.25, 0.5, 0.625, 0.75
  const auto shared = pn::io::signal_image(v, {1, 2, 2}, pn::io::Scale::fixed(4));
  CHECK(shared.at(0, 0) == Rgb{64, 64, 64});
  CHECK(shared.at(1, 0) == Rgb{159, 159, 159});
  // RGB: channel planes
  pn::Vector<float> rgb(3);
  rgb << 1, 0, -1;
  CHECK(pn::io::signal_image(rgb, {3, 1, 1}).at(0, 0) == Rgb{255, 128, 0});
  pn::Vector<double> in(2);
  in << 0.2, 1.5;
  const auto input = pn::io::input_image(in, {1, 1, 2});
  CHECK(input.at(0, 0) == Rgb{51, 51, 51});
  CHECK(input.at(0, 1) == Rgb{255, 255, 255});
  CHECK_THROWS_AS(pn::io::signal_image(pn::Vector<double>::Zero(8), {2, 2, 2}), pn::ShapeError);
  CHECK_THROWS_AS(pn::io::signal_image(pn::Vector<double>::Zero(3), {1, 2, 2}), pn::ShapeError);
}

TEST_CASE("heat maps sum channels, scale by max|s| and colour with the diverging map") {
  pn::Vector<double> v(6);  // 2 channels of 1 x 3: sums (-4, 0, 2)
  v << -1, 0, 3, -3, 0, -1;
  const auto img = pn::io::heatmap_image(v, {2, 1, 3});
  CHECK(img.at(0, 0) == pn::io::diverging_color(-1.0));
  CHECK(img.at(0, 1) == Rgb{255, 255, 255});
  CHECK(img.at(0, 2) == pn::io::diverging_color(0.5));
  pn::Batch<double> b({2, 1, 3}, 2);
  b.data.col(0) = v;
  b.data.col(1) = 2 * v;  // sums (-8, 0, 4)
  const pn::io::Scale s = pn::io::shared_heatmap_scale(b);
  CHECK(s.max_abs == 8.0);
  CHECK(pn::io::heatmap_image(b.sample(0), b.shape, s).at(0, 0) == pn::io::diverging_color(-0.5));
  CHECK(pn::io::shared_signal_scale(b).max_abs == 6.0);
  CHECK(pn::io::heatmap_image(pn::Vector<double>::Zero(3), {1, 1, 3}).at(0, 2) == Rgb{255, 255, 255});
  pn::Vector<double> bad = v;
  bad(2) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(pn::io::heatmap_image(bad, {2, 1, 3}), pn::NumericError);
}

TEST_CASE("heat-map styles: the Reds map of |t|, greys, absolute normalisation, blending over a greyscale input") {
  using pn::io::Colormap;
  using pn::io::HeatmapScaling;
  CHECK(pn::io::sequential_color(0.0) == Rgb{255, 255, 255});
  CHECK(pn::io::sequential_color(0.25) == Rgb{252, 174, 145});
  CHECK(pn::io::sequential_color(0.5) == Rgb{251, 106, 74});
  CHECK(pn::io::sequential_color(0.75) == Rgb{222, 45, 38});
  CHECK(pn::io::sequential_color(1.0) == Rgb{165, 15, 21});
  CHECK(pn::io::sequential_color(-0.5) == pn::io::sequential_color(0.5));
  CHECK(pn::io::sequential_color(3.0) == pn::io::sequential_color(1.0));
  // halfway between (251, 106, 74) and (222, 45, 38): (236.5, 75.5, 56) rounded half away from zero
  CHECK(pn::io::sequential_color(0.625) == Rgb{237, 76, 56});
  CHECK(pn::io::colormap_color(Colormap::grey, -1.0) == Rgb{0, 0, 0});
  CHECK(pn::io::colormap_color(Colormap::grey, 0.5) == Rgb{191, 191, 191});
  CHECK(pn::io::colormap_color(Colormap::red_blue, -0.5) == pn::io::diverging_color(-0.5));

  pn::Vector<double> v(3);  // one channel, sums (-4, 1, 2)
  v << -4, 1, 2;
  const pn::io::HeatmapStyle absolute{Colormap::red_blue, HeatmapScaling::absolute};
  const auto a = pn::io::heatmap_image(v, {1, 1, 3}, {}, absolute);
  CHECK(a.at(0, 0) == pn::io::diverging_color(1.0));  // |-4| / 4
  CHECK(a.at(0, 1) == pn::io::diverging_color(0.25));
  const auto grey = pn::io::heatmap_image(v, {1, 1, 3}, pn::io::Scale::fixed(8), {Colormap::grey, HeatmapScaling::symmetric});
  CHECK(grey.at(0, 0) == Rgb{64, 64, 64});  // -4 / 8 / 2 + 1/2 = 0.25
  CHECK(grey.at(0, 2) == Rgb{159, 159, 159});  // 0.625 -> 159.375
  const auto bar = pn::io::heatmap_colorbar(5, 1, {Colormap::reds, HeatmapScaling::absolute});
  CHECK(bar.at(0, 0) == Rgb{255, 255, 255});
  CHECK(bar.at(0, 2) == pn::io::sequential_color(0.5));
  CHECK(bar.at(0, 4) == pn::io::sequential_color(1.0));

  pn::io::Image top(2, 1, {200, 0, 100}), bottom(2, 1, {10, 20, 30});
  bottom.at(0, 1) = {255, 0, 0};
  const auto g = pn::io::greyscale(bottom);
  CHECK(g.at(0, 0) == Rgb{18, 18, 18});  // 2.99 + 11.74 + 3.42 = 18.15
  CHECK(g.at(0, 1) == Rgb{76, 76, 76});  // 76.245
  const auto b = pn::io::blend(top, bottom, 0.25);
  CHECK(b.at(0, 0) == Rgb{58, 15, 48});  // 0.75 * (10, 20, 30) + 0.25 * (200, 0, 100) = (57.5, 15, 47.5)
  CHECK(pn::io::blend(top, bottom, 1.0).pixels == top.pixels);
  CHECK(pn::io::blend(top, bottom, 0.0).pixels == bottom.pixels);
  CHECK_THROWS_WITH(pn::io::blend(top, bottom, 1.5), Contains("alpha must be in [0, 1], got 1.5"));
  CHECK_THROWS_AS(pn::io::blend(top, pn::io::Image(1, 1), 0.5), pn::ShapeError);
}

TEST_CASE("PNG output decodes to the same size and pixels, and files are written atomically") {
  pn::io::Image img(3, 2);
  img.at(0, 0) = {255, 0, 0};
  img.at(0, 1) = {0, 255, 0};
  img.at(0, 2) = {0, 0, 255};
  img.at(1, 0) = {1, 2, 3};
  img.at(1, 1) = {128, 128, 128};
  img.at(1, 2) = {255, 255, 255};
  const Decoded d = decode(pn::io::encode_png(img));
  CHECK(d.width == 3);
  CHECK(d.height == 2);
  CHECK(d.channels == 3);
  CHECK(d.pixels == img.pixels);

  const auto big = pn::io::upscale(img, 4);
  CHECK(big.width == 12);
  CHECK(big.height == 8);
  CHECK(big.at(7, 11) == Rgb{255, 255, 255});
  CHECK(big.at(3, 4) == Rgb{0, 255, 0});
  CHECK(big.at(4, 3) == Rgb{1, 2, 3});

  const fs::path dir = fs::temp_directory_path() / ("pn_image_" + std::to_string(std::random_device{}()));
  fs::create_directories(dir);
  pn::io::write_png(big, dir / "t.png");
  int w = 0, h = 0, c = 0;
  unsigned char* data = stbi_load((dir / "t.png").string().c_str(), &w, &h, &c, 3);
  REQUIRE(data != nullptr);
  CHECK(w == 12);
  CHECK(h == 8);
  CHECK(data[3 * (3 * 12 + 4) + 1] == 255);
  stbi_image_free(data);
  CHECK_THROWS_AS(pn::io::write_png(img, dir / "missing" / "t.png"), pn::Error);
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}) == 1);
  fs::remove_all(dir);
  CHECK_THROWS_AS(pn::io::encode_png(pn::io::Image{}), pn::Error);
}

TEST_CASE("the grid is an SVG with one embedded PNG per tile and legend, titles and escaped labels") {
  pn::io::ImageGrid grid;
  grid.title = "Fashion-MNIST";
  grid.columns = {"input", "Pattern\nAttribution"};
  pn::io::Image tile(28, 28, {10, 20, 30});
  grid.rows.push_back({{"true: Bag", "pred: Bag 99%"}, {tile, tile}});
  grid.rows.push_back({{"a < b & c"}, {tile}, "#c00"});
  grid.legends.push_back({"heat map", pn::io::heatmap_colorbar(200, 12), "-max", "0", "+max"});
  const std::string svg = pn::io::grid_svg(grid);
  std::size_t images = 0;
  for (std::size_t at = svg.find("<image "); at != std::string::npos; at = svg.find("<image ", at + 1)) ++images;
  CHECK(images == 4);
  CHECK_THAT(svg, Contains(">Pattern</text>") && Contains(">Attribution</text>") && Contains(">pred: Bag 99%</text>"));
  CHECK_THAT(svg, Contains(">a &lt; b &amp; c</text>") && Contains(R"(fill="#c00")"));
  CHECK_THAT(svg, Contains(R"(width="112" height="112")"));  // 28 x 4
  // the first tile decodes back to the upscaled tile
  const auto start = svg.find("base64,") + 7;
  const std::string b64 = svg.substr(start, svg.find('"', start) - start);
  std::vector<unsigned char> png;
  unsigned buffer = 0;
  int bits = 0;
  for (const char ch : b64) {
    if (ch == '=') break;
    const std::string table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    buffer = (buffer << 6) | static_cast<unsigned>(table.find(ch));
    bits += 6;
    if (bits >= 8) png.push_back(static_cast<unsigned char>(buffer >> (bits -= 8)));
  }
  const Decoded d = decode(png);
  CHECK(d.width == 112);
  CHECK(d.pixels.front() == Rgb{10, 20, 30});
  grid.rows[1].tiles.resize(3);
  CHECK_THROWS_WITH(pn::io::grid_svg(grid), Contains("a row has 3 tiles for 2 columns"));
}
