#pragma once
// NumPy .npy arrays (format versions 1.0, 2.0 and 3.0) as batches: an array of shape
// (N, C, H, W), (N, H, W) or (N, F) is N samples of shape C x H x W, 1 x H x W or F x 1 x 1.
// Reads little-endian float32 ('<f4') and float64 ('<f8') in C order, converted to T;
// writes '<f4' / '<f8' as T is, atomically (binary.hpp). docs/file-formats.md has the
// layout and the checks.

#include <patternnet/core/batch.hpp>
#include <patternnet/io/binary.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace patternnet::io {

/// What a .npy header declares.
struct NpyHeader {
  std::string descr;         // the dtype, e.g. "<f4"
  bool fortran_order = false;
  std::vector<Index> shape;  // the array's dimensions
  std::size_t data_offset = 0;
};

}  // namespace patternnet::io

namespace patternnet::detail::npy {

inline constexpr char kMagic[] = "\x93NUMPY";

/// The value that follows 'key': in a header dictionary (the text after the colon).
[[nodiscard]] inline std::string_view value_of(std::string_view header, std::string_view key) {
  const std::string quoted = fmt::format("'{}'", key);
  const auto at = header.find(quoted);
  if (at == std::string_view::npos) return {};
  auto rest = header.substr(at + quoted.size());
  const auto colon = rest.find_first_not_of(' ');
  if (colon == std::string_view::npos || rest[colon] != ':') return {};
  rest = rest.substr(colon + 1);
  return rest.substr(std::min(rest.find_first_not_of(' '), rest.size()));
}

}  // namespace patternnet::detail::npy

namespace patternnet::io {

/// Reads and checks the header of the .npy file `path`; throws Error if it cannot be read
/// and FormatError naming the file, the byte offset and the field otherwise (bad magic or
/// version, a header longer than the file, a dictionary without 'descr', 'fortran_order'
/// or 'shape', a dimension < 0, a product of dimensions over 2^62).
[[nodiscard]] inline NpyHeader read_npy_header(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  const std::string name = path.string();
  auto fail = [&](std::size_t offset, const std::string& what) {
    detail::fail<FormatError>(".npy file '{}', byte {}: {}", name, offset, what);
  };
  std::error_code ec;
  if (fs::is_directory(path, ec)) detail::fail<Error>("cannot read .npy file '{}': it is a directory", name);
  std::ifstream in(path, std::ios::binary);
  if (!in) detail::fail<Error>("cannot open .npy file '{}'", name);
  const auto file_size = static_cast<std::size_t>(fs::file_size(path, ec));
  if (ec) detail::fail<Error>("cannot read .npy file '{}': {}", name, ec.message());
  unsigned char lead[10] = {};
  in.read(reinterpret_cast<char*>(lead), 8);
  if (in.gcount() != 8 || std::memcmp(lead, patternnet::detail::npy::kMagic, 6) != 0) fail(0, "not a .npy file (bad magic)");
  const unsigned major = lead[6];
  if (major < 1 || major > 3) fail(6, fmt::format("format version {}.{} is not supported (1.0 to 3.0 are)", major, lead[7]));
  std::size_t header_len = 0, offset = 0;
  if (major == 1) {
    in.read(reinterpret_cast<char*>(lead + 8), 2);
    header_len = static_cast<std::size_t>(lead[8]) | static_cast<std::size_t>(lead[9]) << 8;
    offset = 10;
  } else {
    unsigned char len[4] = {};
    in.read(reinterpret_cast<char*>(len), 4);
    for (int i = 3; i >= 0; --i) header_len = header_len << 8 | len[i];
    offset = 12;
  }
  if (!in || header_len > file_size - std::min(offset, file_size)) {
    fail(8, fmt::format("truncated: the header has {} bytes, the file {} in all", header_len, file_size));
  }
  std::string header(header_len, '\0');
  in.read(header.data(), static_cast<std::streamsize>(header_len));
  NpyHeader h;
  h.data_offset = offset + header_len;
  const std::string_view dict = header;

  const std::string_view descr = patternnet::detail::npy::value_of(dict, "descr");
  const auto close = descr.find('\'', 1);
  if (descr.empty() || descr[0] != '\'' || close == std::string_view::npos) fail(offset, "the header has no 'descr'");
  h.descr = std::string(descr.substr(1, close - 1));

  const std::string_view fortran = patternnet::detail::npy::value_of(dict, "fortran_order");
  if (fortran.starts_with("True")) h.fortran_order = true;
  else if (!fortran.starts_with("False")) fail(offset, "the header has no 'fortran_order' (True or False)");

  std::string_view shape = patternnet::detail::npy::value_of(dict, "shape");
  if (shape.empty() || shape[0] != '(') fail(offset, "the header has no 'shape' tuple");
  shape.remove_prefix(1);
  Index total = 1;
  while (true) {
    shape.remove_prefix(std::min(shape.find_first_not_of(" ,\n\r\t"), shape.size()));
    if (shape.empty()) fail(offset, "the 'shape' tuple is not closed");
    if (shape[0] == ')') break;
    Index d = -1;
    const auto [end, err] = std::from_chars(shape.data(), shape.data() + shape.size(), d);
    if (err != std::errc{} || d < 0) fail(offset, fmt::format("the 'shape' holds an invalid dimension '{}'", shape.substr(0, 20)));
    if (d != 0 && total > (Index{1} << 62) / d) fail(offset, "the 'shape' has more than 2^62 elements");
    total *= d;
    h.shape.push_back(d);
    if (h.shape.size() > 32) fail(offset, "the 'shape' has more than 32 dimensions");
    shape.remove_prefix(static_cast<std::size_t>(end - shape.data()));
  }
  return h;
}

/// Reads the .npy file `path` as a batch (file comment), converting to T. Throws Error if
/// the file cannot be read, FormatError naming the file and the byte offset for a bad
/// header (read_npy_header), a dtype other than '<f4' / '<f8', Fortran order, a rank other
/// than 2 to 4, an empty axis, data that is shorter or longer than the shape says, or a
/// value that is NaN or Inf as T (naming the sample and the value); the size is checked
/// against the file before anything is allocated.
template <class T>
[[nodiscard]] Batch<T> load_npy(const std::filesystem::path& path) {
  const NpyHeader h = read_npy_header(path);
  const std::string name = path.string();
  auto fail = [&](const std::string& what) {
    detail::fail<FormatError>(".npy file '{}', byte {}: {}", name, h.data_offset, what);
  };
  const std::size_t item = h.descr == "<f4" ? 4 : h.descr == "<f8" ? 8 : 0;
  if (item == 0) fail(fmt::format("dtype '{}' is not supported (float32 '<f4' and float64 '<f8' are)", h.descr));
  if (h.fortran_order) fail("Fortran-order arrays are not supported (save with numpy.ascontiguousarray)");
  const auto rank = h.shape.size();
  if (rank < 2 || rank > 4) fail(fmt::format("the array has {} dimensions; a batch has 2 (N, F), 3 (N, H, W) or 4 (N, C, H, W)", rank));
  for (const Index d : h.shape) {
    if (d < 1) fail(fmt::format("the array has an empty axis (shape {})", fmt::join(h.shape, " x ")));
  }
  const Shape sample = rank == 2 ? Shape{h.shape[1], 1, 1}
                       : rank == 3 ? Shape{1, h.shape[1], h.shape[2]}
                                   : Shape{h.shape[1], h.shape[2], h.shape[3]};
  const Index n = h.shape[0], count = sample.size() * n;  // read_npy_header bounded the product
  std::error_code ec;
  const auto file_size = static_cast<std::size_t>(std::filesystem::file_size(path, ec));
  const std::size_t data_bytes = file_size - h.data_offset;
  if (static_cast<std::size_t>(count) > data_bytes / item || data_bytes != static_cast<std::size_t>(count) * item) {
    fail(fmt::format("the shape {} needs {} bytes of data, the file has {}", fmt::join(h.shape, " x "),
                     static_cast<unsigned long long>(count) * item, data_bytes));
  }
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(h.data_offset));
  Matrix<T> data(sample.size(), n);
  auto read_as = [&](auto tag) {
    using S = decltype(tag);
    std::vector<S> chunk(static_cast<std::size_t>(sample.size()));
    for (Index j = 0; j < n; ++j) {
      in.read(reinterpret_cast<char*>(chunk.data()), static_cast<std::streamsize>(chunk.size() * sizeof(S)));
      for (Index i = 0; i < sample.size(); ++i) data(i, j) = static_cast<T>(chunk[static_cast<std::size_t>(i)]);
    }
  };
  if (item == 4) read_as(float{});
  else read_as(double{});
  if (!in) detail::fail<Error>("cannot read .npy file '{}': read error", name);
  if (!data.allFinite()) {  // NaN / Inf in the file, or a float64 too large for T
    Index i = 0, j = 0;  // the first one in the file's order
    while (std::isfinite(static_cast<double>(data(i, j)))) {
      if (++i == sample.size()) i = 0, ++j;
    }
    const std::size_t at = h.data_offset + static_cast<std::size_t>(j * sample.size() + i) * item;
    detail::fail<FormatError>(".npy file '{}', byte {}: value {} of sample {} is {} as {}", name, at, i, j,
                              static_cast<double>(data(i, j)), sizeof(T) == 4 ? "float32" : "float64");
  }
  return Batch<T>(sample, std::move(data));
}

/// Writes x as a .npy array of shape (N, F) if its samples are F x 1 x 1 and (N, C, H, W)
/// otherwise, as '<f4' for float and '<f8' for double, atomically (binary.hpp).
template <class T>
void save_npy(const Batch<T>& x, const std::filesystem::path& path) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "save_npy(): float or double");
  const Shape s = x.shape;
  const std::string dims = s.h == 1 && s.w == 1 ? fmt::format("({}, {})", x.size(), s.c)
                                                : fmt::format("({}, {}, {}, {})", x.size(), s.c, s.h, s.w);
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
                                   sizeof(T) == 4 ? "<f4" : "<f8", dims);
  // Version 1.0: magic, 2 version bytes, u16 length; header padded with spaces and ended by
  // '\n' so that the data starts at a multiple of 64 bytes.
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  std::vector<unsigned char> bytes(patternnet::detail::npy::kMagic, patternnet::detail::npy::kMagic + 6);
  bytes.push_back(1);
  bytes.push_back(0);
  bytes.push_back(static_cast<unsigned char>(header.size() & 0xff));
  bytes.push_back(static_cast<unsigned char>(header.size() >> 8));
  bytes.insert(bytes.end(), header.begin(), header.end());
  const auto* p = reinterpret_cast<const unsigned char*>(x.data.data());
  bytes.insert(bytes.end(), p, p + static_cast<std::size_t>(x.data.size()) * sizeof(T));
  write_file_atomically(bytes, path);
}

}  // namespace patternnet::io
