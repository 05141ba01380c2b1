#pragma once
// Images as network inputs: PNG and BMP files decoded to 8-bit RGB (stb_image), resized
// (stb_image_resize) and turned into a batch with torchvision's normalisation,
// value = (byte / 255 - mean[c]) / std[c] (ToTensor + Normalize).
// Optional component: link patternnet::image (Debian libstb-dev).
//
// Decoding is bounded: the format is recognised from its signature (stb_image's other
// decoders are not reached); the header's width and height are read first (stbi_info) and
// checked against a pixel limit before anything is allocated; and a PNG's chunk lengths are
// checked against the bytes that remain before stb_image sees them (it grows its buffer
// by a chunk's stated length before reading the chunk). What stb allocates is then bounded
// by the pixel limit and, for the compressed data, by about 1032 times the file's size (the
// densest deflate stream).
//
// JPEG is refused: Debian 12's stb_image 2.27 reads and writes out of bounds on malformed
// JPEG files (fuzz_image found it three ways; upstream fixed them in 2.28), so it is not
// used on files from elsewhere. Convert JPEG files to PNG first.

#include <patternnet/core/batch.hpp>
#include <patternnet/io/image.hpp>

#include <stb_image.h>
#include <stb_image_resize.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace patternnet::io {

/// The largest image decode_image() / read_image() accept by default: 2^26 pixels
/// (8192 x 8192; 192 MiB decoded). Raise it per call for larger images.
inline constexpr Index kMaxImagePixels = Index{1} << 26;

}  // namespace patternnet::io

namespace patternnet::detail::image {

/// Throws FormatError unless `bytes` start with the signature of a PNG or BMP file;
/// for a PNG, also unless its chunks up to IEND are all there.
inline void check_image_container(std::span<const std::byte> bytes, const std::string& origin) {
  const auto starts_with = [&](std::initializer_list<unsigned> sig) {
    if (bytes.size() < sig.size()) return false;
    std::size_t i = 0;
    for (const unsigned b : sig) {
      if (std::to_integer<unsigned>(bytes[i++]) != b) return false;
    }
    return true;
  };
  if (starts_with({'B', 'M'})) return;
  if (starts_with({0xFF, 0xD8, 0xFF})) {
    fail<FormatError>("image '{}': JPEG is not read (stb_image 2.27 is not safe on malformed JPEG files); convert it to PNG",
                      origin);
  }
  if (!starts_with({0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A})) {
    fail<FormatError>("image '{}': not a PNG or BMP file (its first bytes are no such signature)", origin);
  }
  const auto u32 = [&](std::size_t at) {  // big-endian
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | std::to_integer<std::uint32_t>(bytes[at + i]);
    return v;
  };
  for (std::size_t at = 8; at + 8 <= bytes.size();) {  // length (4), type (4), data, CRC (4)
    const std::uint64_t length = u32(at);
    const std::size_t left = bytes.size() - at - 8;
    const bool end = u32(at + 4) == 0x49454E44u;  // "IEND"
    if (length > left || (!end && length + 4 > left)) {
      fail<FormatError>("image '{}', byte {}: a PNG chunk of {} bytes, but {} bytes are left", origin, at, length, left);
    }
    if (end) return;
    at += 12 + static_cast<std::size_t>(length);
  }
  fail<FormatError>("image '{}': the PNG ends after {} bytes, before its IEND chunk (truncated)", origin, bytes.size());
}

}  // namespace patternnet::detail::image

namespace patternnet::io {

/// Decodes a PNG or BMP image held in `bytes` to 8-bit RGB (grey images become
/// r = g = b; alpha is dropped). `origin` names it in messages. Throws FormatError if the
/// bytes are not such an image (a JPEG is refused: file comment), are truncated or corrupt,
/// or the image has more than `max_pixels` pixels (checked from its header, before
/// decoding). stb_image keeps its failure reason in a global: decode on one thread at a time.
[[nodiscard]] inline Image decode_image(std::span<const std::byte> bytes, const std::string& origin = "<memory>",
                                        Index max_pixels = kMaxImagePixels) {
  if (bytes.empty() || bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    detail::fail<FormatError>("image '{}': {} bytes is not an image file", origin, bytes.size());
  }
  detail::image::check_image_container(bytes, origin);
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int length = static_cast<int>(bytes.size());
  int w = 0, h = 0, channels = 0;
  if (stbi_info_from_memory(data, length, &w, &h, &channels) == 0) {
    detail::fail<FormatError>("image '{}': cannot read its header ({})", origin, stbi_failure_reason());
  }
  if (w < 1 || h < 1 || static_cast<Index>(w) > max_pixels / static_cast<Index>(h)) {
    detail::fail<FormatError>("image '{}': {} x {} pixels is empty or more than the limit of {} pixels", origin, w, h,
                              max_pixels);
  }
  const std::unique_ptr<stbi_uc, void (*)(void*)> pixels(stbi_load_from_memory(data, length, &w, &h, &channels, 3),
                                                         stbi_image_free);
  if (!pixels) detail::fail<FormatError>("image '{}': cannot decode it ({})", origin, stbi_failure_reason());
  Image img(w, h);
  static_assert(sizeof(Rgb) == 3, "Rgb must be three packed bytes");
  std::memcpy(img.pixels.data(), pixels.get(), img.pixels.size() * sizeof(Rgb));
  return img;
}

/// Reads and decodes the image file `path` (decode_image above). Throws Error if the file
/// cannot be read, FormatError if it is not an image or too large.
[[nodiscard]] inline Image read_image(const std::filesystem::path& path, Index max_pixels = kMaxImagePixels) {
  const std::string name = path.string();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) detail::fail<Error>("cannot read image '{}': it is a directory", name);
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) detail::fail<Error>("cannot open image '{}': {}", name, ec.message());
  if (size > static_cast<std::uintmax_t>(std::numeric_limits<int>::max())) {
    detail::fail<FormatError>("image '{}': {} bytes is more than an image file may have (2 GiB)", name, size);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) detail::fail<Error>("cannot open image '{}'", name);
  std::vector<std::byte> bytes(static_cast<std::size_t>(size));
  if (!in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size))) {
    detail::fail<Error>("cannot read image '{}': it ended before its {} bytes", name, size);
  }
  return decode_image(bytes, name, max_pixels);
}

/// The image resized to width x height (aspect ratio not kept), filtered per channel in
/// sRGB byte values by stb_image_resize's defaults (Mitchell when shrinking, Catmull-Rom
/// when enlarging), rounded to bytes. The same size returns a copy. Throws ConfigError for
/// a size < 1 or above kMaxImagePixels.
[[nodiscard]] inline Image resize(const Image& img, Index width, Index height) {
  if (width < 1 || height < 1 || width > kMaxImagePixels / height) {
    detail::fail<ConfigError>("resize(): cannot resize to {} x {} pixels", width, height);
  }
  if (img.width < 1 || img.height < 1 || static_cast<Index>(img.pixels.size()) != img.width * img.height) {
    detail::fail<ConfigError>("resize(): invalid image {}x{} with {} pixels", img.width, img.height, img.pixels.size());
  }
  if (width == img.width && height == img.height) return img;
  Image out(width, height);
  const int ok = stbir_resize_uint8(&img.pixels.data()->r, static_cast<int>(img.width), static_cast<int>(img.height), 0,
                                    &out.pixels.data()->r, static_cast<int>(width), static_cast<int>(height), 0, 3);
  if (ok == 0) detail::fail<Error>("resize(): stb_image_resize failed from {}x{} to {}x{}", img.width, img.height, width, height);
  return out;
}

/// torchvision's ToTensor + Normalize: value = (byte / 255 - mean[c]) / std[c].
struct Normalization {
  std::array<double, 3> mean{0, 0, 0};
  std::array<double, 3> std{1, 1, 1};
  /// torchvision's ImageNet statistics (the models of torchvision.models expect them).
  [[nodiscard]] static Normalization imagenet() { return {{0.485, 0.456, 0.406}, {0.229, 0.224, 0.225}}; }
};

/// The images as a batch of `shape` (C x H x W, C = 1 or 3), normalised; with C = 1 each
/// pixel is its luminance 0.299 r + 0.587 g + 0.114 b (ITU-R 601, PIL's convert("L")
/// before rounding; exact for grey images), normalised with mean[0] and std[0]. Every image
/// must be W x H already (resize() above). Throws ShapeError naming the image that is not,
/// ConfigError for a std that is not positive.
template <class T>
[[nodiscard]] Batch<T> image_batch(std::span<const Image> images, Shape shape, const Normalization& norm = {}) {
  if (shape.c != 1 && shape.c != 3) detail::fail<ShapeError>("image_batch(): the shape {} needs 1 or 3 channels", shape);
  for (const double s : norm.std) {
    if (!(s > 0) || !std::isfinite(s)) detail::fail<ConfigError>("image_batch(): std must be positive, got {}", s);
  }
  Batch<T> x(shape, static_cast<Index>(images.size()));
  for (std::size_t j = 0; j < images.size(); ++j) {
    const Image& img = images[j];
    if (img.width != shape.w || img.height != shape.h) {
      detail::fail<ShapeError>("image_batch(): image {} is {} x {} pixels, the shape {} needs {} x {}", j, img.width,
                               img.height, shape, shape.w, shape.h);
    }
    auto sample = x.sample(static_cast<Index>(j));
    for (Index y = 0; y < shape.h; ++y) {
      for (Index col = 0; col < shape.w; ++col) {
        const Rgb p = img.at(y, col);
        const std::array<double, 3> u{p.r / 255.0, p.g / 255.0, p.b / 255.0};
        if (shape.c == 3) {
          for (Index c = 0; c < 3; ++c) {
            const auto k = static_cast<std::size_t>(c);
            sample(shape.at(c, y, col)) = static_cast<T>((u[k] - norm.mean[k]) / norm.std[k]);
          }
        } else {
          const double grey = p.r == p.g && p.g == p.b ? u[0] : 0.299 * u[0] + 0.587 * u[1] + 0.114 * u[2];
          sample(shape.at(0, y, col)) = static_cast<T>((grey - norm.mean[0]) / norm.std[0]);
        }
      }
    }
  }
  return x;
}

}  // namespace patternnet::io
