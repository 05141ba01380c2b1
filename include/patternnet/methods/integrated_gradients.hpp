#pragma once
// Integrated Gradients (Sundararajan et al. 2017): the path integral of the gradient of
// the selected logit from a baseline to the input, by a quadrature rule.

#include <patternnet/methods/gradient_batches.hpp>

#include <limits>

#include <cmath>
#include <vector>

namespace patternnet::methods {

/// The quadrature of the path integral with m steps, nodes alpha_k on [0, 1]:
/// riemann_middle: alpha_k = (k + 1/2) / m, k = 0..m-1, weights 1/m (m points);
/// trapezoid: alpha_k = k / m, k = 0..m, weights 1/(2m) at both ends, 1/m inside (m + 1 points).
enum class Quadrature { riemann_middle, trapezoid };

template <class T>
struct IntegratedGradientsOptions {
  /// m >= 1.
  Index steps = 64;
  Quadrature quadrature = Quadrature::riemann_middle;
  /// The baseline x-bar: empty = zeros (default); one column = the same baseline for every
  /// sample; or one column per sample. Rows = the input size.
  Matrix<T> baseline{};
  /// At most this many path points per forward + backward pass (>= 1): the memory bound,
  /// about chunk x (sum of all layer input and output sizes) x sizeof(T) for the recorded
  /// forward pass. The result does not depend on it beyond rounding. Small chunks are also
  /// faster: their temporaries stay in cache and are reused by malloc instead of being
  /// mapped afresh (docs/methods.md, "Chunk sizes").
  Index chunk = 32;
  /// User-given path points alpha_k and weights w_k (equal sizes >= 1, finite), used
  /// instead of steps and quadrature when not empty: the attribution is then
  /// (x - x-bar) .* sum_k w_k grad f(x-bar + alpha_k (x - x-bar)). Any of Captum's
  /// schedules (riemann_left, riemann_right, riemann_trapezoid, gausslegendre) is
  /// reproduced by passing its alphas and step sizes (docs/methods.md).
  std::vector<double> alphas{}, weights{};
};

template <class T>
struct IntegratedGradientsResult {
  /// (x - x-bar) .* sum_k w_k grad f(x-bar + alpha_k (x - x-bar)), shaped like x.
  Batch<T> attribution;
  /// The explained logit c of every sample (selected at x).
  std::vector<Index> targets;
  /// f(x) = logit c at x, and f(x-bar) = logit c at the baseline, per sample.
  Vector<T> target_values, baseline_values;
  /// sum(attribution) - (f(x) - f(x-bar)) per sample, computed in double: the quadrature
  /// error (zero for exact integration, by the completeness axiom).
  Vector<double> completeness_error;
};

/// Integrated Gradients of the selected logit (below a final Softmax) of every sample of x.
/// The gradients are accumulated in double. Throws ConfigError for steps or chunk < 1,
/// ShapeError for a baseline of the wrong size, NumericError for a non-finite baseline.
template <class T>
[[nodiscard]] IntegratedGradientsResult<T> integrated_gradients(const Graph<T>& net, const Batch<T>& x,
                                                                const Target& target = Target::argmax(),
                                                                const IntegratedGradientsOptions<T>& options = {}) {
  constexpr const char* where = "integrated_gradients()";
  if (options.steps < 1 || options.steps == std::numeric_limits<Index>::max()) {  // trapezoid: steps + 1 points
    patternnet::detail::fail<ConfigError>("{}: steps must be in [1, 2^63 - 2], got {}", where, options.steps);
  }
  if (options.alphas.size() != options.weights.size() || (!options.weights.empty() && options.alphas.empty())) {
    patternnet::detail::fail<ConfigError>("{}: {} path points (alphas) but {} weights; give both, of one size", where,
                                          options.alphas.size(), options.weights.size());
  }
  for (std::size_t k = 0; k < options.alphas.size(); ++k) {
    if (!std::isfinite(options.alphas[k]) || !std::isfinite(options.weights[k])) {
      patternnet::detail::fail<ConfigError>("{}: path point {} has alpha {} and weight {}; both must be finite", where, k,
                                            options.alphas[k], options.weights[k]);
    }
  }
  detail::require_chunk(options.chunk, where);
  net.check_input(x, where);
  const Index n = x.size(), d = x.data.rows(), m = options.steps;
  Matrix<T> baseline = options.baseline;
  if (baseline.size() == 0) baseline = Matrix<T>::Zero(d, 1);
  if (baseline.rows() != d || (baseline.cols() != 1 && baseline.cols() != n)) {
    patternnet::detail::fail<ShapeError>("{}: the baseline is {} x {}; expected {} rows and 1 or {} columns", where,
                                         baseline.rows(), baseline.cols(), d, n);
  }
  patternnet::detail::require_finite(baseline, where, "the baseline");
  if (baseline.cols() == 1 && n > 1) baseline = baseline.col(0).replicate(1, n).eval();  // eval: no aliasing

  IntegratedGradientsResult<T> result;
  auto [logits, targets] = detail::logits_and_targets(net, x, target, where);
  const Matrix<T> baseline_logits = net.record(Batch<T>(x.shape, baseline), net.logits_end()).activations.back();
  result.target_values.resize(n);
  result.baseline_values.resize(n);
  for (Index j = 0; j < n; ++j) {
    result.target_values(j) = logits(targets[static_cast<std::size_t>(j)], j);
    result.baseline_values(j) = baseline_logits(targets[static_cast<std::size_t>(j)], j);
  }

  const bool trapezoid = options.quadrature == Quadrature::trapezoid;
  const bool given = !options.alphas.empty();
  const Index points = given ? static_cast<Index>(options.alphas.size()) : trapezoid ? m + 1 : m;
  auto alpha = [&](Index k) {
    if (given) return options.alphas[static_cast<std::size_t>(k)];
    return trapezoid ? double(k) / double(m) : (double(k) + 0.5) / double(m);
  };
  auto weight = [&](Index k) {
    if (given) return options.weights[static_cast<std::size_t>(k)];
    return (trapezoid && (k == 0 || k == m)) ? 0.5 / double(m) : 1.0 / double(m);
  };
  const Matrix<T> delta = x.data - baseline;
  Matrix<double> integral = Matrix<double>::Zero(d, n);
  detail::chunked_gradients(
      where, net, n, points, targets, options.chunk,
      [&](Index j, Index k, auto column) { column = baseline.col(j) + T(alpha(k)) * delta.col(j); },
      [&](Index j, Index k, const auto& gradient) { integral.col(j) += weight(k) * gradient.template cast<double>(); });

  result.attribution = Batch<T>(x.shape, (delta.template cast<double>().cwiseProduct(integral)).template cast<T>());
  result.completeness_error =
      result.attribution.data.template cast<double>().colwise().sum().transpose() -
      (result.target_values.template cast<double>() - result.baseline_values.template cast<double>());
  result.targets = std::move(targets);
  return result;
}

}  // namespace patternnet::methods
