#pragma once
// The random-direction baseline of the paper's Fig. 3: a = u / (w^T u), u random.

#include <patternnet/estimators/estimator.hpp>

#include <cstdint>
#include <random>

namespace patternnet::estimators {

/// A seeded random direction u ~ N(0, I) per neuron, normalised so that w^T a = 1.
/// The same seed gives the same patterns (independent of the data).
struct Random {
  static constexpr std::string_view name = "random";
  static constexpr bool needs_data = false;
  std::uint64_t seed = 0;

  template <class DW>
  [[nodiscard]] LayerPatterns<double> layer_patterns(Index layer, const Eigen::MatrixBase<DW>& w,
                                                     const LayerMoments* /*m*/, FitReport& report) const {
    std::mt19937_64 rng(seed + 0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(layer + 1));
    std::normal_distribution<double> normal;
    Eigen::MatrixXd u(w.cols(), w.rows());
    for (Index i = 0; i < u.size(); ++i) u.data()[i] = normal(rng);
    return {layer, PatternKind::single, detail::normalise(layer, w, u, nullptr, true, report), {}};
  }
};

}  // namespace patternnet::estimators
