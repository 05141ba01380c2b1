#pragma once
// S_a: the linear estimator s(x) = a y with a = cov[x, y] / (w^T cov[x, y]).

#include <patternnet/estimators/estimator.hpp>

namespace patternnet::estimators {

/// S_a (Kindermans et al. 2018): a = cov[x, y] / (w^T cov[x, y]) = cov[x, y] / var(y).
struct Linear {
  static constexpr std::string_view name = "S_a";
  static constexpr bool needs_data = true;

  template <class DW>
  [[nodiscard]] LayerPatterns<double> layer_patterns(Index layer, const Eigen::MatrixBase<DW>& w, const LayerMoments* m,
                                                     FitReport& report) const {
    return {layer, PatternKind::single, detail::normalise(layer, w, m->cov_xy(), nullptr, true, report), {}};
  }
};

using S_a = Linear;

}  // namespace patternnet::estimators
