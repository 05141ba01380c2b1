#pragma once
// What each fuzz target does with one input file; shared by the libFuzzer targets
// (fuzz_*.cpp) and by the replay of tests/fuzz/regressions/ in the test suite.

#include <patternnet/io/idx.hpp>
#include <patternnet/io/model_file.hpp>
#include <patternnet/io/moments_file.hpp>
#include <patternnet/io/pattern_file.hpp>
#include <patternnet/network/sequential.hpp>

#include <filesystem>

namespace fuzz {

/// io::load_model, then a forward pass of whatever loaded if every value it computes is
/// small (a valid file may describe a network too big to run; that is not the reader's fault).
inline void model_file(const std::filesystem::path& path) {
  auto net = patternnet::io::load_model<float>(path);
  bool small = net.ready();
  for (patternnet::Index v = 0; small && v <= net.size(); ++v) small = net.shape_at(v).size() <= 4096;
  if (small) {
    patternnet::Batch<float> x(net.input_shape(), 1);
    x.data.setOnes();
    (void)net.forward(x);
  }
}

/// The network pattern_file() loads patterns into: conv 1->2 3x3 on 1x4x4, flatten, dense 8->3.
inline const patternnet::Sequential<float>& pattern_network() {
  static const patternnet::Sequential<float> net = [] {
    patternnet::Sequential<float> n{patternnet::Conv2D<float>{1, 2, 3}, patternnet::ReLU<float>{},
                                    patternnet::Flatten<float>{}, patternnet::Dense<float>{8, 3}};
    n.set_input_shape({1, 4, 4});
    return n;
  }();
  return net;
}

/// io::load_patterns into pattern_network().
inline void pattern_file(const std::filesystem::path& path) { (void)patternnet::io::load_patterns(path, pattern_network()); }

/// io::load_moments for pattern_network().
inline void moments_file(const std::filesystem::path& path) { (void)patternnet::io::load_moments(path, pattern_network()); }

/// IDX images, then IDX labels, of the same bytes.
inline void idx_images(const std::filesystem::path& path) { (void)patternnet::io::read_idx_images<float>(path); }
inline void idx_labels(const std::filesystem::path& path) { (void)patternnet::io::read_idx_labels(path); }

}  // namespace fuzz
