#pragma once
// Explanations as pictures: signals in input colours, attributions as heat maps, PNG files.
// Optional component: link patternnet::image (stb's stb_image_write, Debian libstb-dev).
//
// Value-to-colour conventions (the paper's Fig. 4b / 5):
// - signal (PatternNet, Gradient, DeConvNet, Guided Backprop): u = v / (2 max|v|) + 1/2
//   per value, so 0 is mid grey (128), -max|v| black and +max|v| white; with 3 channels
//   each channel is mapped alike (an RGB image), with 1 channel a grey image.
// - heat map (LRP, PatternAttribution, any attribution): per pixel the sum of its
//   channels' values s, t = s / max|s| in [-1, 1], coloured by diverging_color(t):
//   blue for negative, white for 0, red for positive.
// - input: u = (v - low) / (high - low), clamped to [0, 1].
// Heat maps can take another colour map and normalisation (HeatmapStyle): t = s / max|s|
// (symmetric, the default) or |s| / max|s| (absolute), coloured red-blue (the diverging
// map above), reds (sequential, white at 0: always shows |t|) or grey (t / 2 + 1/2); and
// blend() lays one image over another (a heat map over its greyscale() input) with an alpha.
// max|.| is taken over the image itself (Scale::per_image(), the default) or given
// (Scale::fixed(m), e.g. shared_signal_scale() of a batch, so that several images share
// one scale). u in [0, 1] becomes the byte round(255 u).

#include <patternnet/core/batch.hpp>
#include <patternnet/io/binary.hpp>

#include <stb_image_write.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace patternnet::io {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
  friend constexpr bool operator==(const Rgb&, const Rgb&) = default;
};

/// An 8-bit RGB image: `pixels` holds height rows of width pixels, top row first.
struct Image {
  Index width = 0, height = 0;
  std::vector<Rgb> pixels;

  Image() = default;
  Image(Index w, Index h, Rgb fill = {}) : width(w), height(h), pixels(static_cast<std::size_t>(w * h), fill) {}
  [[nodiscard]] Rgb& at(Index row, Index col) { return pixels[static_cast<std::size_t>(row * width + col)]; }
  [[nodiscard]] const Rgb& at(Index row, Index col) const { return pixels[static_cast<std::size_t>(row * width + col)]; }
};

/// The scale that maps values to colours: max|v| of each image, or a fixed value.
struct Scale {
  double max_abs = 0;  // 0: per image
  [[nodiscard]] static Scale per_image() { return {}; }
  [[nodiscard]] static Scale fixed(double max_abs) {
    if (!(max_abs > 0) || !std::isfinite(max_abs)) {
      detail::fail<ConfigError>("Scale::fixed(): max_abs must be positive and finite, got {}", max_abs);
    }
    return {max_abs};
  }
};

/// The byte of u in [0, 1] (clamped): round(255 u).
[[nodiscard]] inline std::uint8_t to_byte(double u) {
  return static_cast<std::uint8_t>(std::lround(255.0 * std::clamp(u, 0.0, 1.0)));
}

}  // namespace patternnet::io

namespace patternnet::detail::image {

/// The colour at x in [0, 4] of the ramp that is linear in sRGB between five anchors at
/// x = 0, 1, 2, 3, 4.
[[nodiscard]] inline io::Rgb ramp(const std::array<std::array<double, 3>, 5>& anchors, double x) {
  const auto i = static_cast<std::size_t>(std::min(3.0, std::floor(x)));
  const double f = x - static_cast<double>(i);
  io::Rgb c;
  std::uint8_t* out[] = {&c.r, &c.g, &c.b};
  for (std::size_t k = 0; k < 3; ++k) {
    *out[k] = static_cast<std::uint8_t>(std::lround(anchors[i][k] + f * (anchors[i + 1][k] - anchors[i][k])));
  }
  return c;
}

}  // namespace patternnet::detail::image

namespace patternnet::io {

/// The diverging colour map of heat maps, t in [-1, 1] (clamped): piecewise linear in
/// sRGB through ColorBrewer's RdBu anchors, dark blue (5, 48, 97) at -1, (67, 147, 195)
/// at -1/2, white (255, 255, 255) exactly at 0, (214, 96, 77) at 1/2, dark red (103, 0, 31)
/// at +1. Symmetric in lightness, so equal |t| reads as equal strength.
[[nodiscard]] inline Rgb diverging_color(double t) {
  static constexpr std::array<std::array<double, 3>, 5> anchors{
      {{5, 48, 97}, {67, 147, 195}, {255, 255, 255}, {214, 96, 77}, {103, 0, 31}}};
  return detail::image::ramp(anchors, (std::clamp(t, -1.0, 1.0) + 1.0) * 2.0);
}

/// The sequential colour map of absolute values, t in [0, 1] (|t| of a signed value,
/// clamped): piecewise linear in sRGB through ColorBrewer's 5-class Reds after white,
/// (255, 255, 255) at 0, (252, 174, 145) at 1/4, (251, 106, 74) at 1/2, (222, 45, 38) at
/// 3/4, (165, 15, 21) at 1.
[[nodiscard]] inline Rgb sequential_color(double t) {
  static constexpr std::array<std::array<double, 3>, 5> anchors{
      {{255, 255, 255}, {252, 174, 145}, {251, 106, 74}, {222, 45, 38}, {165, 15, 21}}};
  return detail::image::ramp(anchors, std::min(std::abs(t), 1.0) * 4.0);
}

/// The colour maps of heat maps: `red_blue` = diverging_color (signed), `reds` =
/// sequential_color (absolute values), `grey` = the signal greys, t / 2 + 1/2.
enum class Colormap { red_blue, reds, grey };

/// How a heat map's per-pixel sums s become t: s / max|s| in [-1, 1] (`symmetric`) or
/// |s| / max|s| in [0, 1] (`absolute`, the sign dropped).
enum class HeatmapScaling { symmetric, absolute };

struct HeatmapStyle {
  Colormap colormap = Colormap::red_blue;
  HeatmapScaling scaling = HeatmapScaling::symmetric;
};

/// The colour of t (in [-1, 1], clamped) under a colour map.
[[nodiscard]] inline Rgb colormap_color(Colormap map, double t) {
  switch (map) {
    case Colormap::red_blue: return diverging_color(t);
    case Colormap::reds: return sequential_color(t);
    case Colormap::grey: {
      const std::uint8_t g = to_byte(std::clamp(t, -1.0, 1.0) / 2 + 0.5);
      return {g, g, g};
    }
  }
  detail::fail<ConfigError>("colormap_color(): unknown colour map {}", static_cast<int>(map));
}

}  // namespace patternnet::io

namespace patternnet::detail::image {

template <class V>
void check_image_sample(const V& v, Shape shape, const char* where, bool any_channels = false) {
  if (v.size() != shape.size()) {
    fail<ShapeError>("{}: the sample has {} values, shape {} needs {}", where, v.size(), shape, shape.size());
  }
  if (!any_channels && shape.c != 1 && shape.c != 3) {
    fail<ShapeError>("{}: an image needs 1 (grey) or 3 (RGB) channels, the shape {} has {}", where, shape, shape.c);
  }
  require_finite(v, where, "the sample");
}

/// Maps every pixel's channel values through u(v) to a grey or RGB image.
template <class V, class F>
io::Image channels_to_image(const V& v, Shape shape, F&& u) {
  io::Image img(shape.w, shape.h);
  for (Index y = 0; y < shape.h; ++y) {
    for (Index x = 0; x < shape.w; ++x) {
      const auto byte = [&](Index c) { return io::to_byte(u(static_cast<double>(v(shape.at(c, y, x))))); };
      img.at(y, x) = shape.c == 3 ? io::Rgb{byte(0), byte(1), byte(2)} : io::Rgb{byte(0), byte(0), byte(0)};
    }
  }
  return img;
}

}  // namespace patternnet::detail::image

namespace patternnet::io {

/// A signal in input colours (see the file comment): v / (2 max|v|) + 1/2. A sample of
/// all zeros is mid grey. Throws ShapeError (size, channels not 1 or 3), NumericError.
template <class V>
[[nodiscard]] Image signal_image(const Eigen::MatrixBase<V>& sample, Shape shape, Scale scale = {}) {
  detail::image::check_image_sample(sample, shape, "signal_image()");
  double m = scale.max_abs > 0 ? scale.max_abs : static_cast<double>(sample.cwiseAbs().maxCoeff());
  if (m == 0) m = 1;
  return detail::image::channels_to_image(sample.derived(), shape, [m](double v) { return v / (2 * m) + 0.5; });
}

/// An input as it is: (v - low) / (high - low), clamped (Fashion-MNIST: low 0, high 1).
template <class V>
[[nodiscard]] Image input_image(const Eigen::MatrixBase<V>& sample, Shape shape, double low = 0, double high = 1) {
  detail::image::check_image_sample(sample, shape, "input_image()");
  if (!(high > low)) detail::fail<ConfigError>("input_image(): need low < high, got {} and {}", low, high);
  return detail::image::channels_to_image(sample.derived(), shape, [=](double v) { return (v - low) / (high - low); });
}

/// The per-pixel channel sums of a sample (H x W, row = image row).
template <class V>
[[nodiscard]] Eigen::MatrixXd pixel_sums(const Eigen::MatrixBase<V>& sample, Shape shape) {
  Eigen::MatrixXd s = Eigen::MatrixXd::Zero(shape.h, shape.w);
  for (Index c = 0; c < shape.c; ++c) {
    for (Index y = 0; y < shape.h; ++y) {
      for (Index x = 0; x < shape.w; ++x) s(y, x) += static_cast<double>(sample(shape.at(c, y, x)));
    }
  }
  return s;
}

/// An attribution as a heat map (see the file comment): the per-pixel channel sum s,
/// coloured by diverging_color(s / max|s|), or as `style` says. A sample of all zeros is
/// the colour of t = 0. Any number of channels. Throws ShapeError (size), NumericError.
template <class V>
[[nodiscard]] Image heatmap_image(const Eigen::MatrixBase<V>& sample, Shape shape, Scale scale = {},
                                  HeatmapStyle style = {}) {
  detail::image::check_image_sample(sample, shape, "heatmap_image()", true);
  const Eigen::MatrixXd s = pixel_sums(sample, shape);
  double m = scale.max_abs > 0 ? scale.max_abs : s.cwiseAbs().maxCoeff();
  if (m == 0) m = 1;
  const bool absolute = style.scaling == HeatmapScaling::absolute;
  Image img(shape.w, shape.h);
  for (Index y = 0; y < shape.h; ++y) {
    for (Index x = 0; x < shape.w; ++x) {
      img.at(y, x) = colormap_color(style.colormap, (absolute ? std::abs(s(y, x)) : s(y, x)) / m);
    }
  }
  return img;
}

/// The image in greys: per pixel the luma round(0.299 r + 0.587 g + 0.114 b) (ITU-R BT.601).
[[nodiscard]] inline Image greyscale(const Image& img) {
  Image out = img;
  for (Rgb& p : out.pixels) {
    const auto y = static_cast<std::uint8_t>(std::lround(0.299 * p.r + 0.587 * p.g + 0.114 * p.b));
    p = {y, y, y};
  }
  return out;
}

/// `top` laid over `bottom` with opacity alpha in [0, 1]: per channel
/// round((1 - alpha) bottom + alpha top). Throws ShapeError for images of different
/// sizes, ConfigError for alpha outside [0, 1].
[[nodiscard]] inline Image blend(const Image& top, const Image& bottom, double alpha) {
  if (top.width != bottom.width || top.height != bottom.height) {
    detail::fail<ShapeError>("blend(): the images are {} x {} and {} x {}", top.width, top.height, bottom.width, bottom.height);
  }
  if (!(alpha >= 0 && alpha <= 1)) detail::fail<ConfigError>("blend(): alpha must be in [0, 1], got {}", alpha);
  Image out(top.width, top.height);
  const auto mix = [alpha](std::uint8_t t, std::uint8_t b) {
    return static_cast<std::uint8_t>(std::lround((1 - alpha) * b + alpha * t));
  };
  for (std::size_t i = 0; i < out.pixels.size(); ++i) {
    const Rgb t = top.pixels[i], b = bottom.pixels[i];
    out.pixels[i] = {mix(t.r, b.r), mix(t.g, b.g), mix(t.b, b.b)};
  }
  return out;
}

/// max|v| over every value of a batch: one signal scale shared by all its samples.
template <class T>
[[nodiscard]] Scale shared_signal_scale(const Batch<T>& batch) {
  const double m = batch.data.size() ? static_cast<double>(batch.data.cwiseAbs().maxCoeff()) : 0.0;
  return m > 0 ? Scale::fixed(m) : Scale::per_image();
}

/// max|s| over the per-pixel channel sums of every sample: one heat-map scale shared by all.
template <class T>
[[nodiscard]] Scale shared_heatmap_scale(const Batch<T>& batch) {
  double m = 0;
  for (Index j = 0; j < batch.size(); ++j) m = std::max(m, pixel_sums(batch.sample(j), batch.shape).cwiseAbs().maxCoeff());
  return m > 0 ? Scale::fixed(m) : Scale::per_image();
}

/// Nearest-neighbour enlargement by an integer factor >= 1 (crisp pixels in any viewer).
[[nodiscard]] inline Image upscale(const Image& img, Index factor) {
  if (factor < 1) detail::fail<ConfigError>("upscale(): factor must be >= 1, got {}", factor);
  Image out(img.width * factor, img.height * factor);
  for (Index y = 0; y < out.height; ++y) {
    for (Index x = 0; x < out.width; ++x) out.at(y, x) = img.at(y / factor, x / factor);
  }
  return out;
}

/// A horizontal colour bar of the heat-map colours, t from -1 (left) to +1 (right), or
/// from 0 to +1 with absolute normalisation.
[[nodiscard]] inline Image heatmap_colorbar(Index width, Index height, HeatmapStyle style = {}) {
  const double low = style.scaling == HeatmapScaling::absolute ? 0.0 : -1.0;
  Image img(width, height);
  for (Index x = 0; x < width; ++x) {
    const double u = width > 1 ? static_cast<double>(x) / static_cast<double>(width - 1) : 0.5;
    const Rgb c = colormap_color(style.colormap, low + (1.0 - low) * u);
    for (Index y = 0; y < height; ++y) img.at(y, x) = c;
  }
  return img;
}

/// A horizontal grey bar of the signal colours, v / max|v| from -1 (left) to +1 (right).
[[nodiscard]] inline Image signal_colorbar(Index width, Index height) {
  Image img(width, height);
  for (Index x = 0; x < width; ++x) {
    const double t = width > 1 ? -1.0 + 2.0 * static_cast<double>(x) / static_cast<double>(width - 1) : 0.0;
    const std::uint8_t g = to_byte(t / 2 + 0.5);
    for (Index y = 0; y < height; ++y) img.at(y, x) = {g, g, g};
  }
  return img;
}

/// The PNG encoding of an image (8-bit RGB, stb_image_write). Throws Error if stb fails
/// or the image is empty or inconsistent.
[[nodiscard]] inline std::vector<unsigned char> encode_png(const Image& img) {
  if (img.width < 1 || img.height < 1 || static_cast<Index>(img.pixels.size()) != img.width * img.height) {
    detail::fail<Error>("encode_png(): invalid image {}x{} with {} pixels", img.width, img.height, img.pixels.size());
  }
  static_assert(sizeof(Rgb) == 3, "Rgb must be three packed bytes");
  std::vector<unsigned char> out;
  const auto append = [](void* context, void* data, int size) {
    auto* bytes = static_cast<unsigned char*>(data);
    static_cast<std::vector<unsigned char>*>(context)->insert(static_cast<std::vector<unsigned char>*>(context)->end(), bytes,
                                                              bytes + size);
  };
  const int ok = stbi_write_png_to_func(append, &out, static_cast<int>(img.width), static_cast<int>(img.height), 3,
                                        img.pixels.data(), static_cast<int>(img.width * 3));
  if (ok == 0 || out.empty()) detail::fail<Error>("encode_png(): stb_image_write failed on a {}x{} image", img.width, img.height);
  return out;
}

/// Writes an image as a PNG file, atomically. Throws Error on failure.
inline void write_png(const Image& img, const std::filesystem::path& path) { write_file_atomically(encode_png(img), path); }

}  // namespace patternnet::io
