#pragma once
// IDX files (LeCun's MNIST format, also used by Fashion-MNIST), plain or gzip-compressed.
// Optional component: link patternnet::idx (zlib).
//
// Layout, big-endian: u8 0, u8 0, u8 type, u8 ndims, then ndims u32 dimensions, then the
// values in row-major order. Only type 0x08 (unsigned byte) is read: images have 3
// dimensions (count, rows, cols), labels 1 (count). zlib reads plain and .gz files alike.
//
// Every malformation throws FormatError naming the file and the byte offset (in the
// uncompressed data) of the field at fault: bad magic, another value type, the
// wrong number of dimensions, an empty dimension, truncated data, bytes after the data, a
// corrupt gzip stream, and label count != image count. A missing or unreadable file throws
// Error.

#include <patternnet/core/batch.hpp>

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace patternnet::io {

/// Images with one label each.
template <class T>
struct LabelledImages {
  Batch<T> images;            // shape {1, rows, cols}, one image per column, values in [0, 1]
  std::vector<Index> labels;  // labels[j] belongs to column j
};

}  // namespace patternnet::io

namespace patternnet::detail::idx {

/// An open IDX file: reads and checks the header, then hands out the values.
class IdxFile {
public:
  static constexpr unsigned char kUnsignedByte = 0x08;

  IdxFile(const std::filesystem::path& path, unsigned char expected_dims, const char* what)
      : path_(path.string()), file_(gzopen(path_.c_str(), "rb"), &gzclose) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) patternnet::detail::fail<Error>("cannot read IDX file '{}': it is a directory", path_);
    if (file_ == nullptr) patternnet::detail::fail<Error>("cannot open IDX file '{}'", path_);
    gzbuffer(file_.get(), 1U << 17);
    std::array<unsigned char, 4> magic{};
    read(magic.data(), magic.size(), "the magic number");
    if (magic[0] != 0 || magic[1] != 0) {
      fail("bad magic {:02x} {:02x} {:02x} {:02x}: expected 00 00 08 {:02x} (not an IDX file?)", magic[0], magic[1],
           magic[2], magic[3], expected_dims);
    }
    if (magic[2] != kUnsignedByte) {
      fail("value type 0x{:02x} is not supported: only 0x08 (unsigned byte) is read", magic[2]);
    }
    if (magic[3] != expected_dims) {
      fail("{} have {} dimension(s), the file has {}", what, expected_dims, magic[3]);
    }
    for (unsigned char d = 0; d < expected_dims; ++d) {
      std::array<unsigned char, 4> b{};
      read(b.data(), b.size(), "the dimensions");
      const std::uint32_t v = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
      if (v == 0) fail("dimension {} is 0", d);
      dims_.push_back(static_cast<Index>(v));
    }
  }
  IdxFile(const IdxFile&) = delete;
  IdxFile& operator=(const IdxFile&) = delete;

  [[nodiscard]] const std::vector<Index>& dims() const noexcept { return dims_; }
  /// The product of the dimensions; throws FormatError if it overflows Index (each
  /// dimension is a u32, so three can).
  [[nodiscard]] Index value_count() const {
    Index n = 1;
    for (const Index d : dims_) {
      if (__builtin_mul_overflow(n, d, &n)) fail("the {} dimensions announce more than 2^63 values", dims_.size());
    }
    return n;
  }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

  /// Reads the n values the header announces and checks that nothing follows them.
  /// Reads in chunks that start at 64 KiB and double up to 16 MiB, so a truncated file
  /// fails before a header's claim is allocated: at most twice the bytes the file holds,
  /// plus 64 KiB, are ever allocated.
  [[nodiscard]] std::vector<unsigned char> values(Index n) {
    std::vector<unsigned char> out;
    field_ = offset_;
    Index chunk = Index{1} << 16;
    for (Index done = 0; done < n; chunk = std::min(2 * chunk, Index{1} << 24)) {
      const Index m = std::min(chunk, n - done);
      out.resize(static_cast<std::size_t>(done + m));
      const Index got = read_some(out.data() + done, m);
      if (got < m) fail("truncated: the header announces {} values, the file holds {}", n, done + got);
      done += m;
    }
    unsigned char extra = 0;
    field_ = offset_;
    if (read_some(&extra, 1) != 0) fail("unexpected bytes after the {} values the header announces", n);
    int code = Z_OK;
    gzerror(file_.get(), &code);
    if (code == Z_BUF_ERROR) fail("truncated: the gzip stream ends before its trailer");
    return out;
  }

  template <class... Args>
  [[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) const {
    detail::fail<FormatError>("IDX file '{}', byte {}: {}", path_, field_, fmt::format(format, std::forward<Args>(args)...));
  }

private:
  void read(unsigned char* dst, Index n, const char* what) {
    field_ = offset_;
    if (read_some(dst, n) != n) fail("truncated while reading {}", what);
  }
  // Up to n bytes; fewer only at the end of the data (or of a truncated gzip stream,
  // which zlib reports as Z_BUF_ERROR, not as a failed read). A corrupt stream throws.
  Index read_some(unsigned char* dst, Index n) {
    const int got = gzread(file_.get(), dst, static_cast<unsigned>(n));
    if (got < 0) {
      int code = 0;
      const char* message = gzerror(file_.get(), &code);
      fail("corrupt data ({})", message != nullptr ? message : "zlib error");
    }
    offset_ += got;
    return got;
  }

  std::string path_;
  // Owned from the member initialiser on, so a constructor that throws still closes it.
  std::unique_ptr<std::remove_pointer_t<gzFile>, decltype(&gzclose)> file_;
  std::vector<Index> dims_;
  Index offset_ = 0, field_ = 0;  // bytes read; where the field read last starts
};

}  // namespace patternnet::detail::idx

namespace patternnet::io {

/// Reads an IDX image file (3 dimensions: count, rows, cols; unsigned bytes) into a
/// batch of shape {1, rows, cols}, one image per column (row-major pixels = C, H, W
/// order). A byte p becomes T(p) / T(255): 0 -> 0, 255 -> 1, each value correctly
/// rounded. Throws FormatError (see the file comment) or Error (cannot open).
template <class T>
[[nodiscard]] Batch<T> read_idx_images(const std::filesystem::path& file) {
  detail::idx::IdxFile idx(file, 3, "images");
  const Index count = idx.dims()[0], rows = idx.dims()[1], cols = idx.dims()[2];
  const std::vector<unsigned char> bytes = idx.values(idx.value_count());
  const Eigen::Map<const Eigen::Matrix<unsigned char, Eigen::Dynamic, Eigen::Dynamic>> raw(bytes.data(), rows * cols,
                                                                                          count);
  return Batch<T>(Shape{1, rows, cols}, Matrix<T>(raw.template cast<T>() / T(255)));
}

/// Reads an IDX label file (1 dimension: count; unsigned bytes). Throws like
/// read_idx_images.
[[nodiscard]] inline std::vector<Index> read_idx_labels(const std::filesystem::path& file) {
  detail::idx::IdxFile idx(file, 1, "labels");
  const std::vector<unsigned char> bytes = idx.values(idx.value_count());
  return {bytes.begin(), bytes.end()};
}

/// Reads an image file and its label file; throws FormatError naming both files if the
/// label count differs from the image count.
template <class T>
[[nodiscard]] LabelledImages<T> read_idx(const std::filesystem::path& images, const std::filesystem::path& labels) {
  LabelledImages<T> out{read_idx_images<T>(images), read_idx_labels(labels)};
  if (static_cast<Index>(out.labels.size()) != out.images.size()) {
    detail::fail<FormatError>("read_idx(): IDX file '{}' has {} labels, but IDX file '{}' has {} images",
                                          labels.string(), out.labels.size(), images.string(), out.images.size());
  }
  return out;
}

}  // namespace patternnet::io
