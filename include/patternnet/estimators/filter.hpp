#pragma once
// S_w: the filter-based estimator s(x) = w y / (w^T w).

#include <patternnet/estimators/estimator.hpp>

namespace patternnet::estimators {

/// S_w: a = w / (w^T w). What DeConvNet, Guided Backprop and the w^2-rule assume; needs
/// no data. With it, PatternAttribution is the w^2-rule and PatternNet a normalised
/// gradient back-projection.
struct Filter {
  static constexpr std::string_view name = "S_w";
  static constexpr bool needs_data = false;

  template <class DW>
  [[nodiscard]] LayerPatterns<double> layer_patterns(Index layer, const Eigen::MatrixBase<DW>& w,
                                                     const LayerMoments* /*m*/, FitReport& report) const {
    return {layer, PatternKind::single, detail::normalise(layer, w, w.transpose(), nullptr, true, report), {}};
  }
};

using S_w = Filter;

}  // namespace patternnet::estimators
