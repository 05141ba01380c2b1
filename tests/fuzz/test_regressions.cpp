// Every input under tests/fuzz/regressions/<target>/ (a crash, leak or sanitizer report a
// fuzz target once found) goes through the same code as its fuzz target: each must load or
// be rejected with the library's own error, never crash or escape as another exception
// (run under the sanitizers by the fuzz targets themselves: build/fuzz/fuzz_<target> FILE).
// The inputs with a known cause also assert the message.
#include "fuzz/fuzz_input.hpp"
#include "fuzz/targets.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

const fs::path kRegressions = fs::path(PATTERNNET_TEST_DATA).parent_path() / "fuzz" / "regressions";

std::vector<std::uint8_t> input(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// The message of the patternnet::Error the target throws on `bytes` ("" if it accepts them).
template <class F>
std::string rejection(const std::vector<std::uint8_t>& bytes, const F& target) {
  const fs::path path = fuzz::input_file(bytes.data(), bytes.size(), ".replay");
  std::string what;
  try {
    target(path);
  } catch (const patternnet::Error& e) {
    what = e.what();
  }
  fs::remove(path);
  return what;
}

std::vector<fs::path> inputs_of(const char* target) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(kRegressions / target)) out.push_back(e.path());
  return out;
}

}  // namespace

TEST_CASE("fuzz regressions: every model-file input loads or is rejected with a patternnet::Error") {
  const auto files = inputs_of("model_file");
  REQUIRE(!files.empty());
  for (const auto& f : files) {  // loads, or throws a patternnet::Error (anything else fails here)
    INFO(f.filename().string());
    CHECK_NOTHROW(rejection(fuzz::with_checksum(input(f).data(), input(f).size()), fuzz::model_file));
  }
  // A MaxPool2D padding of 5.7e18 overflowed 2 * padding in the constructor's check.
  const auto p = kRegressions / "model_file" / "maxpool-padding-overflow";
  CHECK_THAT(rejection(fuzz::with_checksum(input(p).data(), input(p).size()), fuzz::model_file),
             Contains("padding") && Contains("is invalid"));
  // An input 6 million pixels wide: binding an AvgPool2D allocated 73 MB of windows.
  const auto w = kRegressions / "model_file" / "avgpool-windows-oom";
  CHECK_THAT(rejection(fuzz::with_checksum(input(w).data(), input(w).size()), fuzz::model_file),
             Contains("invalid input shape [1, 4, 6119940] (channels must be in 1..16777216, height and width in 1..65536)"));
}

TEST_CASE("fuzz regressions: every IDX input loads or is rejected with a patternnet::Error") {
  const auto files = inputs_of("idx");
  REQUIRE(!files.empty());
  for (const auto& f : files) {  // loads, or throws a patternnet::Error (anything else fails here)
    INFO(f.filename().string());
    CHECK_NOTHROW(rejection(input(f), fuzz::idx_images));
    CHECK_NOTHROW(rejection(input(f), fuzz::idx_labels));
  }
  // Labels with one dimension read as images: the constructor threw and leaked the gzip handle.
  CHECK_THAT(rejection(input(kRegressions / "idx" / "truncated-header-leak"), fuzz::idx_images),
             Contains("images have 3 dimension(s), the file has 1"));
  CHECK(rejection(input(kRegressions / "idx" / "truncated-header-leak"), fuzz::idx_labels).empty());
  // 49152 x 50331648 x 67108864 images: the product of the dimensions overflowed int64.
  CHECK_THAT(rejection(input(kRegressions / "idx" / "dimension-product-overflow"), fuzz::idx_images),
             Contains("announce more than 2^63 values"));
}
