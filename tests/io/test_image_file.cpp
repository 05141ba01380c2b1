#include "files.hpp"
#include "support.hpp"

#include <patternnet/io/image_file.hpp>

#include <catch2/catch.hpp>
#include <stb_image_write.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using pn::io::Rgb;

namespace {

/// Matches an exception whose message contains `part` (Catch2 2 has only an exact matcher).
struct MessageContains : Catch::MatcherBase<std::exception> {
  std::string part;
  explicit MessageContains(std::string p) : part(std::move(p)) {}
  bool match(const std::exception& e) const override { return std::string_view(e.what()).find(part) != std::string_view::npos; }
  std::string describe() const override { return "message contains \"" + part + "\""; }
};

std::vector<std::byte> as_bytes(const std::vector<unsigned char>& v) {
  std::vector<std::byte> out(v.size());
  std::memcpy(out.data(), v.data(), v.size());
  return out;
}

/// A w x h image whose pixels all differ: (3 i, 5 i + 1, 255 - 7 i) mod 256 for pixel i.
pn::io::Image distinct_pixels(pn::Index w, pn::Index h) {
  pn::io::Image img(w, h);
  for (std::size_t i = 0; i < img.pixels.size(); ++i) {
    img.pixels[i] = {static_cast<std::uint8_t>(3 * i), static_cast<std::uint8_t>(5 * i + 1),
                     static_cast<std::uint8_t>(255 - 7 * i)};
  }
  return img;
}

/// A one-channel (grey) PNG of the given bytes, row by row.
std::vector<std::byte> grey_png(int w, int h, const std::vector<unsigned char>& values) {
  std::vector<unsigned char> out;
  const auto append = [](void* context, void* data, int size) {
    auto* v = static_cast<std::vector<unsigned char>*>(context);
    v->insert(v->end(), static_cast<unsigned char*>(data), static_cast<unsigned char*>(data) + size);
  };
  REQUIRE(stbi_write_png_to_func(append, &out, w, h, 1, values.data(), w) != 0);
  return as_bytes(out);
}

}  // namespace

TEST_CASE("decode_image() reads back every pixel of a PNG the library wrote; grey images become r = g = b") {
  const pn::io::Image img = distinct_pixels(7, 5);
  const pn::io::Image back = pn::io::decode_image(as_bytes(pn::io::encode_png(img)));
  CHECK(back.width == 7);
  CHECK(back.height == 5);
  CHECK(back.pixels == img.pixels);

  const pn::io::Image grey = pn::io::decode_image(grey_png(3, 2, {0, 10, 20, 30, 40, 255}));
  REQUIRE(grey.width == 3);
  REQUIRE(grey.height == 2);
  CHECK(grey.at(0, 1) == Rgb{10, 10, 10});
  CHECK(grey.at(1, 2) == Rgb{255, 255, 255});
}

TEST_CASE("decode_image() refuses what is not an image, a truncated one, and one above the pixel limit before decoding") {
  const std::vector<std::byte> png = as_bytes(pn::io::encode_png(distinct_pixels(8, 8)));
  const std::vector<std::byte> garbage(100, std::byte{0x42});
  CHECK_THROWS_MATCHES(pn::io::decode_image(garbage, "noise.png"), pn::FormatError, MessageContains("image 'noise.png': not a PNG or BMP file"));
  CHECK_THROWS_AS(pn::io::decode_image({}, "empty.png"), pn::FormatError);
  // The header (signature + IHDR) survives, the pixel data does not.
  const std::span<const std::byte> truncated(png.data(), 40);
  CHECK_THROWS_MATCHES(pn::io::decode_image(truncated, "cut.png"), pn::FormatError,
                       MessageContains("image 'cut.png': the PNG ends after 40 bytes, before its IEND chunk (truncated)"));
  // A chunk that claims more bytes than the file has is refused before stb_image, which
  // would first grow its buffer to the claimed size (found by fuzz_image: 1.2 GB).
  std::vector<std::byte> claims = png;
  claims[33] = std::byte{0x48};  // the first chunk after IHDR (at byte 33) now claims 1.2 GB
  CHECK_THROWS_MATCHES(pn::io::decode_image(claims, "claims.png"), pn::FormatError,
                       MessageContains("image 'claims.png', byte 33: a PNG chunk of 12"));
  // Bytes stb_image could decode, but not as PNG or BMP: refused from the signature.
  std::vector<std::byte> gif{std::byte{'G'}, std::byte{'I'}, std::byte{'F'}, std::byte{'8'}, std::byte{'9'}, std::byte{'a'}};
  CHECK_THROWS_MATCHES(pn::io::decode_image(gif, "anim.gif"), pn::FormatError, MessageContains("not a PNG or BMP file"));
  // 64 pixels against a limit of 63: refused from the header's size.
  CHECK_THROWS_MATCHES(pn::io::decode_image(png, "big.png", 63), pn::FormatError,
                       MessageContains("8 x 8 pixels is empty or more than the limit of 63 pixels"));
  CHECK(pn::io::decode_image(png, "fits.png", 64).pixels.size() == 64);
}

TEST_CASE("read_image() reads a file, and reports a missing file or a directory as an Error naming it") {
  const support::TempDir dir;
  const fs::path file = dir.path / "image.png";
  const pn::io::Image img = distinct_pixels(4, 6);
  pn::io::write_png(img, file);
  CHECK(pn::io::read_image(file).pixels == img.pixels);
  CHECK_THROWS_MATCHES(pn::io::read_image(dir.path / "missing.png"), pn::Error, MessageContains("missing.png"));
  CHECK_THROWS_MATCHES(pn::io::read_image(dir.path), pn::Error, MessageContains("it is a directory"));
}

TEST_CASE("resize() keeps a constant image constant, copies at the same size, and refuses sizes < 1") {
  const pn::io::Image flat(5, 3, Rgb{10, 100, 200});
  const pn::io::Image big = pn::io::resize(flat, 12, 7);
  CHECK(big.width == 12);
  CHECK(big.height == 7);
  for (const Rgb& p : big.pixels) CHECK(p == Rgb{10, 100, 200});
  const pn::io::Image small = pn::io::resize(flat, 2, 1);
  for (const Rgb& p : small.pixels) CHECK(p == Rgb{10, 100, 200});
  const pn::io::Image img = distinct_pixels(4, 4);
  CHECK(pn::io::resize(img, 4, 4).pixels == img.pixels);
  // Halving a 2-pixel-period stripe pattern averages it: every output pixel lies strictly
  // between the two stripes' values.
  pn::io::Image stripes(8, 8);
  for (pn::Index y = 0; y < 8; ++y) {
    for (pn::Index x = 0; x < 8; ++x) stripes.at(y, x) = x % 2 ? Rgb{200, 200, 200} : Rgb{0, 0, 0};
  }
  for (const Rgb& p : pn::io::resize(stripes, 4, 4).pixels) {
    CHECK(p.r > 20);
    CHECK(p.r < 180);
  }
  CHECK_THROWS_AS(pn::io::resize(flat, 0, 3), pn::ConfigError);
  CHECK_THROWS_AS(pn::io::resize(flat, 3, -1), pn::ConfigError);
}

TEST_CASE("image_batch() is torchvision's ToTensor + Normalize, with the luminance for one channel") {
  pn::io::Image img(2, 1);
  img.at(0, 0) = {255, 0, 51};
  img.at(0, 1) = {102, 102, 102};
  const std::vector<pn::io::Image> images{img, pn::io::Image(2, 1, Rgb{0, 0, 0})};

  const auto rgb = pn::io::image_batch<double>(images, {3, 1, 2});
  REQUIRE(rgb.size() == 2);
  CHECK(rgb.data(0, 0) == 1.0);                                // red of pixel (0, 0)
  CHECK(rgb.data(rgb.shape.at(2, 0, 0), 0) == 51.0 / 255.0);   // blue of pixel (0, 0)
  CHECK(rgb.data(rgb.shape.at(1, 0, 1), 0) == 102.0 / 255.0);  // green of pixel (0, 1)
  CHECK(rgb.data.col(1).isZero());

  const pn::io::Normalization imagenet = pn::io::Normalization::imagenet();
  const auto normalised = pn::io::image_batch<double>(images, {3, 1, 2}, imagenet);
  CHECK(normalised.data(0, 0) == (1.0 - 0.485) / 0.229);
  CHECK(normalised.data(normalised.shape.at(2, 0, 0), 0) == (51.0 / 255.0 - 0.406) / 0.225);
  CHECK(normalised.data(normalised.shape.at(1, 0, 0), 1) == (0.0 - 0.456) / 0.224);

  const auto grey = pn::io::image_batch<float>(images, {1, 1, 2});
  CHECK(grey.data(0, 0) == static_cast<float>(0.299 * 1.0 + 0.114 * 51.0 / 255.0));
  CHECK(grey.data(1, 0) == static_cast<float>(102.0 / 255.0));  // a grey pixel: exactly its value

  CHECK_THROWS_MATCHES(pn::io::image_batch<float>(images, {3, 2, 2}), pn::ShapeError,
                       MessageContains("image 0 is 2 x 1 pixels, the shape [3, 2, 2] needs 2 x 2"));
  CHECK_THROWS_AS(pn::io::image_batch<float>(images, {2, 1, 2}), pn::ShapeError);
  pn::io::Normalization zero_std;
  zero_std.std[1] = 0;
  CHECK_THROWS_AS(pn::io::image_batch<float>(images, {3, 1, 2}, zero_std), pn::ConfigError);
}

TEST_CASE("decode_image() rejects each input fuzz_image once found with a FormatError (tests/fuzz/regressions/image)") {
  const fs::path dir = fs::path(PATTERNNET_TEST_DATA).parent_path() / "fuzz" / "regressions" / "image";
  pn::Index n = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    INFO(entry.path().filename().string());
    CHECK_THROWS_AS(pn::io::read_image(entry.path()), pn::FormatError);
    ++n;
  }
  CHECK(n >= 1);
}

TEST_CASE("decode_image() reads BMP exactly, and refuses JPEG (stb_image 2.27 is not safe on malformed JPEG files)") {
  const fs::path dir = fs::path(PATTERNNET_TEST_DATA) / "images";
  CHECK(pn::io::read_image(dir / "formats" / "sneaker.bmp").pixels == pn::io::read_image(dir / "fashion_7_Sneaker.png").pixels);
  CHECK_THROWS_MATCHES(pn::io::read_image(dir / "formats" / "sneaker.jpg"), pn::FormatError,
                       MessageContains("sneaker.jpg': JPEG is not read (stb_image 2.27 is not safe on malformed JPEG files); "
                                       "convert it to PNG"));
}
