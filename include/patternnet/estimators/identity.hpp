#pragma once
// S_x: the identity estimator s(x) = x (assumes there is no distractor).

#include <patternnet/estimators/estimator.hpp>

namespace patternnet::estimators {

/// S_x. No pattern: the signal is the data. With it, PatternAttribution is LRP-z
/// (ignoring the bias) and the quality criterion rho is undefined (d = 0).
struct Identity {
  static constexpr std::string_view name = "S_x";
  static constexpr bool needs_data = false;

  template <class DW>
  [[nodiscard]] LayerPatterns<double> layer_patterns(Index layer, const Eigen::MatrixBase<DW>& /*w*/,
                                                     const LayerMoments* /*m*/, FitReport& /*report*/) const {
    return {layer, PatternKind::identity, {}, {}};
  }
};

using S_x = Identity;

}  // namespace patternnet::estimators
