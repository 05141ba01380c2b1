#pragma once
// S_a+-: the two-component estimator, one pattern per ReLU regime.

#include <patternnet/estimators/estimator.hpp>

namespace patternnet::estimators {

/// S_a+- (Kindermans et al. 2018; docs/concepts.md), with E+ / E- the means over the
/// samples in the positive (w^T x + b > 0) / negative regime and E the mean over all samples:
///   a+ = (E+[x y] - E+[x] E[y]) / w^T(E+[x y] - E+[x] E[y]),  a- likewise with E-.
/// A neuron never in a regime gets a zero pattern for it (reported).
struct TwoComponent {
  static constexpr std::string_view name = "S_a+-";
  static constexpr bool needs_data = true;

  template <class DW>
  [[nodiscard]] LayerPatterns<double> layer_patterns(Index layer, const Eigen::MatrixBase<DW>& w, const LayerMoments* m,
                                                     FitReport& report) const {
    return {layer, PatternKind::two_component,
            detail::normalise(layer, w, m->regime_cross(m->positive), &m->positive.n, true, report),
            detail::normalise(layer, w, m->regime_cross(m->negative), &m->negative.n, false, report)};
  }
};

using S_a_pm = TwoComponent;

}  // namespace patternnet::estimators
