#include "files.hpp"
#include "support.hpp"

#include <patternnet/io/fashion_mnist.hpp>
#include <patternnet/io/idx.hpp>

#include <catch2/catch.hpp>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using Bytes = std::vector<unsigned char>;

namespace {

using support::TempDir;

/// An IDX file of unsigned bytes: magic 00 00 08 ndims, big-endian dimensions, values.
Bytes idx_bytes(const std::vector<std::uint32_t>& dims, const Bytes& values) {
  Bytes b{0, 0, 0x08, static_cast<unsigned char>(dims.size())};
  for (const auto d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<unsigned char>(d >> shift));
  }
  b.insert(b.end(), values.begin(), values.end());
  return b;
}

void write_plain(const fs::path& p, const Bytes& b) {
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}
void write_gzip(const fs::path& p, const Bytes& b) {
  gzFile f = gzopen(p.string().c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, b.data(), static_cast<unsigned>(b.size())) == static_cast<int>(b.size()));
  REQUIRE(gzclose(f) == Z_OK);
}
Bytes read_unsigned_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// 3 images of 2 x 4 pixels: pixel k of image n is (40 n + 17 k) mod 256, with 0 and 255 in it.
Bytes pixels() {
  Bytes v(24);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<unsigned char>((40 * (i / 8) + 17 * (i % 8)) % 256);
  v[5] = 0;
  v[6] = 255;
  return v;
}

/// Sets an environment variable for the lifetime of the object, then restores it.
class ScopedEnv {
public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) setenv(name_, old_->c_str(), 1);
    else unsetenv(name_);
  }

private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("IDX images and labels round-trip from plain and gzip files, scaled to [0, 1]") {
  TempDir dir;
  const Bytes v = pixels();
  const Bytes labels{7, 0, 9};
  for (const bool gz : {false, true}) {
    const fs::path images_file = dir.path / (gz ? "i.idx.gz" : "i.idx"), labels_file = dir.path / (gz ? "l.idx.gz" : "l.idx");
    (gz ? write_gzip : write_plain)(images_file, idx_bytes({3, 2, 4}, v));
    (gz ? write_gzip : write_plain)(labels_file, idx_bytes({3}, labels));
    const auto data = pn::io::read_idx<float>(images_file, labels_file);
    CHECK(data.images.shape == pn::Shape{1, 2, 4});
    REQUIRE(data.images.size() == 3);
    for (pn::Index n = 0; n < 3; ++n) {
      for (pn::Index k = 0; k < 8; ++k) {
        // p / 255 correctly rounded to float (one division): exact equality
        CHECK(data.images.data(k, n) == static_cast<float>(v[static_cast<std::size_t>(8 * n + k)]) / 255.0f);
      }
    }
    CHECK(data.images.data(5, 0) == 0.0f);
    CHECK(data.images.data(6, 0) == 1.0f);
    CHECK(data.labels == std::vector<pn::Index>{7, 0, 9});
    const auto d = pn::io::read_idx_images<double>(images_file);
    CHECK(d.data(1, 2) == static_cast<double>(v[17]) / 255.0);
  }
}

TEST_CASE("malformed IDX files throw FormatError naming the file and the problem") {
  TempDir dir;
  const Bytes good = idx_bytes({3, 2, 4}, pixels());
  auto expect = [&](const Bytes& b, bool gz, const std::string& message) {
    const fs::path p = dir.path / (gz ? "bad.gz" : "bad.idx");
    (gz ? write_gzip : write_plain)(p, b);
    CHECK_THROWS_AS(pn::io::read_idx_images<float>(p), pn::FormatError);
    CHECK_THROWS_WITH(pn::io::read_idx_images<float>(p), Contains(p.string()) && Contains(message));
  };
  for (const bool gz : {false, true}) {
    SECTION(gz ? "gzip" : "plain") {
      auto b = good;
      b[0] = 1;
      expect(b, gz, "byte 0: bad magic 01 00 08 03: expected 00 00 08 03");
      b = good;
      b[2] = 0x0D;
      expect(b, gz, "value type 0x0d is not supported");
      expect(idx_bytes({3}, {1, 2, 3}), gz, "images have 3 dimension(s), the file has 1");
      expect(idx_bytes({3, 0, 4}, {}), gz, "byte 8: dimension 1 is 0");
      expect({good.begin(), good.end() - 4}, gz, "byte 16: truncated: the header announces 24 values, the file holds 20");
      expect({good.begin(), good.begin() + 10}, gz, "truncated while reading the dimensions");
      auto longer = good;
      longer.push_back(0);
      expect(longer, gz, "byte 40: unexpected bytes after the 24 values the header announces");
    }
  }
  SECTION("labels with the wrong number of dimensions") {
    write_plain(dir.path / "l.idx", good);
    CHECK_THROWS_WITH(pn::io::read_idx_labels(dir.path / "l.idx"), Contains("labels have 1 dimension(s), the file has 3"));
  }
  SECTION("a truncated or corrupt gzip stream") {
    write_gzip(dir.path / "ok.gz", good);
    const Bytes z = read_unsigned_bytes(dir.path / "ok.gz");
    write_plain(dir.path / "cut.gz", Bytes(z.begin(), z.end() - 3));  // inside the 8-byte trailer
    CHECK_THROWS_WITH(pn::io::read_idx_images<float>(dir.path / "cut.gz"), Contains("truncated"));
    Bytes crc = z;
    crc[crc.size() - 8] ^= 0xFF;  // the CRC-32 of the data
    write_plain(dir.path / "crc.gz", crc);
    CHECK_THROWS_WITH(pn::io::read_idx_images<float>(dir.path / "crc.gz"), Contains("corrupt data"));
  }
  SECTION("label count != image count") {
    write_plain(dir.path / "i.idx", good);
    write_plain(dir.path / "l.idx", idx_bytes({2}, {1, 2}));
    CHECK_THROWS_AS(pn::io::read_idx<float>(dir.path / "i.idx", dir.path / "l.idx"), pn::FormatError);
    CHECK_THROWS_WITH(pn::io::read_idx<float>(dir.path / "i.idx", dir.path / "l.idx"),
                      Contains("l.idx' has 2 labels, but IDX file") && Contains("i.idx' has 3 images"));
  }
  SECTION("a missing file") {
    CHECK_THROWS_WITH(pn::io::read_idx_labels(dir.path / "none.idx"), Contains("cannot open IDX file"));
    CHECK_THROWS_WITH(pn::io::read_idx_labels(dir.path), Contains("it is a directory"));
  }
}

TEST_CASE("Fashion-MNIST is read from the argument, the environment or the default directory, and a missing set names the package") {
  TempDir dir, other;
  // A 2-image stand-in for the test split, gzip for the images and plain for the labels.
  Bytes v(2 * 28 * 28);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<unsigned char>(i % 251);
  write_gzip(dir.path / "t10k-images-idx3-ubyte.gz", idx_bytes({2, 28, 28}, v));
  write_plain(dir.path / "t10k-labels-idx1-ubyte", idx_bytes({2}, {9, 3}));

  const auto data = pn::io::load_fashion_mnist<float>(pn::io::Split::test, dir.path);
  CHECK(data.images.shape == pn::Shape{1, 28, 28});
  CHECK(data.images.size() == 2);
  CHECK(data.labels == std::vector<pn::Index>{9, 3});
  CHECK(pn::io::kFashionMnistClasses[9] == "Ankle boot");

  {
    ScopedEnv env(pn::io::kFashionMnistEnvironment, dir.path.string());
    CHECK(pn::io::fashion_mnist_directory() == dir.path);
    CHECK(pn::io::fashion_mnist_directory(other.path) == other.path);  // the argument wins
    CHECK(pn::io::load_fashion_mnist<double>(pn::io::Split::test).labels.size() == 2);
  }
  {
    ScopedEnv env(pn::io::kFashionMnistEnvironment, "");
    CHECK(pn::io::fashion_mnist_directory() == fs::path("/usr/share/datasets/fashion-mnist"));
  }
  CHECK_THROWS_AS(pn::io::load_fashion_mnist<float>(pn::io::Split::train, dir.path), pn::Error);
  CHECK_THROWS_WITH(pn::io::load_fashion_mnist<float>(pn::io::Split::train, dir.path),
                    Contains("neither train-images-idx3-ubyte.gz nor train-images-idx3-ubyte") &&
                        Contains("apt-get install dataset-fashion-mnist") && Contains("PATTERNNET_FASHION_MNIST_DIR"));

  write_plain(other.path / "t10k-images-idx3-ubyte", idx_bytes({2, 28, 28}, v));
  write_plain(other.path / "t10k-labels-idx1-ubyte", idx_bytes({2}, {9, 10}));
  CHECK_THROWS_WITH(pn::io::load_fashion_mnist<float>(pn::io::Split::test, other.path),
                    Contains("has label 10 at position 1, expected 0..9"));
  write_plain(other.path / "t10k-images-idx3-ubyte", idx_bytes({2, 28, 27}, Bytes(v.begin(), v.begin() + 2 * 28 * 27)));
  CHECK_THROWS_WITH(pn::io::load_fashion_mnist<float>(pn::io::Split::test, other.path),
                    Contains("holds 28x27 images, expected 28x28"));
}
