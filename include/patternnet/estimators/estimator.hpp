#pragma once
// What a signal estimator provides, and the shared normalisation a = v / (w^T v).

#include <patternnet/estimators/moments.hpp>
#include <patternnet/estimators/patterns.hpp>

#include <cmath>
#include <concepts>
#include <string_view>

namespace patternnet {

/// A signal estimator: turns a layer's weights (F x K, double) and, if it needs data,
/// the layer's moments into that layer's patterns (in double), reporting degenerate
/// neurons. `moments` is null for estimators with needs_data == false.
template <class E>
concept Estimator = requires(const E& e, const Eigen::MatrixXd& w, const LayerMoments* m, FitReport& report) {
  { E::name } -> std::convertible_to<std::string_view>;
  { E::needs_data } -> std::convertible_to<bool>;
  { e.layer_patterns(Index{}, w, m, report) } -> std::same_as<LayerPatterns<double>>;
};

namespace detail {

/// Relative tolerance below which a denominator w^T v counts as degenerate:
/// |w^T v| <= kDenominatorTolerance * |w| |v| (a cosine of 1e-6 between w and v).
inline constexpr double kDenominatorTolerance = 1e-6;

/// Sequential sum of x_k y_k, k = 0..n-1 (the order Eigen uses for strided vectors, so
/// that the patterns do not depend on the memory layout they are computed in).
inline double sequential_dot(const double* x, const double* y, Index n) {
  double s = 0;
  for (Index k = 0; k < n; ++k) s += x[k] * y[k];
  return s;
}

/// Rows a_i = v_i / (w_i^T v_i) (w^T a = 1 by construction) of the
/// F x K pattern, from V (K x F, column i = v_i) and W (F x K). A neuron whose regime is
/// empty (count 0) or whose denominator is degenerate gets a zero row and a report entry.
/// Works on the contiguous columns of V and W^T and transposes once.
/// (Templates here and in the estimators only so that including them costs nothing.)
template <class DW, class DV>
Eigen::MatrixXd normalise(Index layer, const Eigen::MatrixBase<DW>& w, const Eigen::MatrixBase<DV>& v,
                          const Eigen::RowVectorXd* counts, bool positive_regime, FitReport& report) {
  workspace::Scratch<double> a_buffer(v);
  const workspace::Scratch<double> wt_buffer(w.transpose());
  Eigen::MatrixXd& a = *a_buffer;
  const Eigen::MatrixXd& wt = *wt_buffer;
  const Index k = a.rows();
  for (Index i = 0; i < a.cols(); ++i) {
    if (counts != nullptr && (*counts)(i) == 0) {
      a.col(i).setZero();
      report.degenerate.push_back({layer, i,
                                   positive_regime ? DegenerateNeuron::Reason::never_positive
                                                   : DegenerateNeuron::Reason::never_negative,
                                   positive_regime});
      continue;
    }
    const double* wi = wt.col(i).data();
    const double* ai = a.col(i).data();
    const double denom = sequential_dot(wi, ai, k);
    const double w_norm = std::sqrt(sequential_dot(wi, wi, k)), a_norm = std::sqrt(sequential_dot(ai, ai, k));
    if (!(std::abs(denom) > kDenominatorTolerance * w_norm * a_norm)) {
      a.col(i).setZero();
      report.degenerate.push_back({layer, i, DegenerateNeuron::Reason::tiny_denominator, positive_regime});
      continue;
    }
    a.col(i) /= denom;
  }
  return a.transpose();
}

}  // namespace detail
}  // namespace patternnet
