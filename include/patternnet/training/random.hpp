#pragma once
// The seeded random source of training (initialisation, shuffling): std::mt19937_64,
// whose output the C++ standard fixes, with the transformations to uniform, normal and
// permutations written out here, because the std distributions are implementation-defined.
// The same seed therefore gives the same stream with any standard library.

#include <patternnet/core/shape.hpp>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <numeric>
#include <random>
#include <vector>

namespace patternnet::training {

class Random {
public:
  explicit Random(std::uint64_t seed) : engine_(seed) {}

  /// Uniform in [0, 1), 53 random bits.
  [[nodiscard]] double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

  /// Standard normal, by the Box-Muller transform (one deviate per two uniforms).
  [[nodiscard]] double normal() {
    const double u1 = 1.0 - uniform();  // (0, 1]: log is finite
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }

  /// Uniform integer in [0, n), n >= 1, without modulo bias (rejection sampling).
  [[nodiscard]] Index below(Index n) {
    const auto range = static_cast<std::uint64_t>(n);
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % range;  // a multiple of range
    std::uint64_t v = engine_();
    while (v >= limit) v = engine_();
    return static_cast<Index>(v % range);
  }

  /// A uniformly random permutation of 0..n-1 (Fisher-Yates).
  [[nodiscard]] std::vector<Index> permutation(Index n) {
    std::vector<Index> p(static_cast<std::size_t>(n));
    std::iota(p.begin(), p.end(), Index{0});
    for (Index i = n - 1; i > 0; --i) std::swap(p[static_cast<std::size_t>(i)], p[static_cast<std::size_t>(below(i + 1))]);
    return p;
  }

private:
  std::mt19937_64 engine_;
};

}  // namespace patternnet::training
