#include "files.hpp"
#include "support.hpp"

#include <patternnet/io/npy.hpp>

#include <catch2/catch.hpp>

#include <cstring>
#include <limits>
#include <string>

namespace {

/// A version 1.0 .npy file with this header dictionary and `data_bytes` bytes of data.
std::vector<char> npy_bytes(const std::string& dict, std::size_t data_bytes, unsigned char major = 1) {
  std::vector<char> b{'\x93', 'N', 'U', 'M', 'P', 'Y', static_cast<char>(major), 0};
  const std::string header = dict + "\n";
  if (major == 1) {
    b.push_back(static_cast<char>(header.size() & 0xff));
    b.push_back(static_cast<char>(header.size() >> 8));
  } else {
    for (int i = 0; i < 4; ++i) b.push_back(static_cast<char>((header.size() >> (8 * i)) & 0xff));
  }
  b.insert(b.end(), header.begin(), header.end());
  b.insert(b.end(), data_bytes, '\0');
  return b;
}

/// The bytes with the value v written `from_end` bytes before their end (into the data).
template <class V>
std::vector<char> with_value(std::vector<char> bytes, std::size_t from_end, V v) {
  std::memcpy(bytes.data() + bytes.size() - from_end, &v, sizeof v);
  return bytes;
}

void expect_format_error(const std::vector<char>& bytes, const std::string& needle) {
  const support::TempDir dir;
  const auto p = dir.path / "a.npy";
  support::write_bytes(p, bytes, false);
  INFO(needle);
  try {
    (void)pn::io::load_npy<float>(p);
    FAIL("no exception");
  } catch (const pn::FormatError& e) {
    CHECK_THAT(e.what(), Catch::Contains(".npy file '" + p.string() + "', byte ") && Catch::Contains(needle));
  }
}

}  // namespace

TEST_CASE("npy: batches round-trip (float and double, (N, F) and (N, C, H, W)), and NumPy's own files load") {
  const support::TempDir dir;
  const pn::Batch<double> images({2, 3, 4}, support::random_matrix<double>(24, 5, 3));
  pn::io::save_npy(images, dir.path / "images.npy");
  const auto back = pn::io::load_npy<double>(dir.path / "images.npy");
  CHECK(back.shape == images.shape);
  CHECK(back.data == images.data);
  const auto header = pn::io::read_npy_header(dir.path / "images.npy");
  CHECK(header.descr == "<f8");
  CHECK(header.shape == std::vector<pn::Index>{5, 2, 3, 4});
  CHECK(header.data_offset % 64 == 0);

  const pn::Batch<float> logits({7, 1, 1}, support::random_matrix<float>(7, 3, 4));
  pn::io::save_npy(logits, dir.path / "logits.npy");
  CHECK(pn::io::read_npy_header(dir.path / "logits.npy").shape == std::vector<pn::Index>{3, 7});
  CHECK(pn::io::load_npy<float>(dir.path / "logits.npy").data == logits.data);
  CHECK(pn::io::load_npy<double>(dir.path / "logits.npy").data == logits.data.cast<double>());

  // written by numpy.save (tests/data/onnx/make_fixtures.py): float32, (3, 2, 12, 12)
  const auto np = pn::io::load_npy<float>(std::string(PATTERNNET_TEST_DATA) + "/onnx/chain_opset17.input.npy");
  CHECK(np.shape == pn::Shape{2, 12, 12});
  CHECK(np.size() == 3);
  CHECK(np.data.allFinite());
  CHECK(np.data.cwiseAbs().maxCoeff() > 0.5f);  // standard-normal values, not zeros
  // (N, H, W): one channel
  support::write_bytes(dir.path / "hw.npy",
                       npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 5), }", 2 * 15 * 4, 2), false);
  CHECK(pn::io::load_npy<float>(dir.path / "hw.npy").shape == pn::Shape{1, 3, 5});
}

TEST_CASE("npy: malformed files give a FormatError naming the file, the byte and the field; nothing huge is allocated") {
  const std::string ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  std::vector<char> bad_magic = npy_bytes(ok, 24);
  bad_magic[1] = 'X';
  expect_format_error(bad_magic, "byte 0: not a .npy file (bad magic)");
  expect_format_error(npy_bytes(ok, 24, 4), "byte 6: format version 4.0 is not supported");
  expect_format_error(npy_bytes(ok, 20), "the shape 2 x 3 needs 24 bytes of data, the file has 20");
  expect_format_error(npy_bytes(ok, 28), "the shape 2 x 3 needs 24 bytes of data, the file has 28");
  expect_format_error(npy_bytes("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", 24),
                      "dtype '<i4' is not supported");
  expect_format_error(npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24),
                      "Fortran-order arrays are not supported");
  expect_format_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", 24),
                      "the array has 1 dimensions");
  expect_format_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 0), }", 0),
                      "the array has an empty axis");
  expect_format_error(npy_bytes("{'descr': '<f4', 'shape': (2, 3), }", 24), "the header has no 'fortran_order'");
  expect_format_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", 24),
                      "invalid dimension '-3)");
  expect_format_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3", 24),
                      "the 'shape' tuple is not closed");
  // a shape of 2^61 floats in a file of a hundred bytes: rejected before any allocation
  expect_format_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1048576, 2199023255552), }", 0),
                      "needs 9223372036854775808 bytes of data, the file has 0");
  expect_format_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", 0),
                      "the 'shape' has more than 2^62 elements");
  // NaN or Inf in the data, or a float64 beyond float's range read as float
  expect_format_error(with_value(npy_bytes(ok, 24), 8, std::numeric_limits<float>::quiet_NaN()),  // value 1 of sample 1
                      "value 1 of sample 1 is nan as float32");
  expect_format_error(with_value(npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", 16), 16, 1e300),
                      "value 0 of sample 0 is inf as float32");
  // a header longer than the file
  std::vector<char> long_header = npy_bytes(ok, 0);
  long_header[8] = '\xff';
  long_header[9] = '\x7f';
  expect_format_error(long_header, "byte 8: truncated: the header has 32767 bytes");

  const support::TempDir dir;
  CHECK_THROWS_MATCHES(pn::io::load_npy<float>(dir.path), pn::Error,
                       Catch::Message("cannot read .npy file '" + dir.path.string() + "': it is a directory"));
  CHECK_THROWS_MATCHES(pn::io::load_npy<float>(dir.path / "missing.npy"), pn::Error,
                       Catch::Message("cannot open .npy file '" + (dir.path / "missing.npy").string() + "'"));
}
