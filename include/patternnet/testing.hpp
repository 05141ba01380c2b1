#pragma once
// Checks for users' own unit tests: a finite-difference gradient check of a network
// (or of one layer, as a one-layer network), an adjointness check of a linear layer's
// two hooks, and a relevance conservation check of a rule or composite. Each returns the
// worst error and where it occurred.

#include <patternnet/network/explain.hpp>
#include <patternnet/rules/gradient.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

namespace patternnet::testing {

struct GradientCheck {
  /// max over (feature, sample) of |analytic - numeric| / max(1, |analytic|, |numeric|).
  double max_error = 0;
  Index feature = -1, sample = -1;  // where max_error occurred
  double analytic = 0, numeric = 0;  // the two values there
};

/// Compares the Gradient rule's backward pass with central differences of
/// f(x) = sum(S .* net(x)), S a random (seeded) matrix over all outputs of the network.
/// Use double; step h ~ 1e-6 gives errors ~ 1e-8 on smooth pieces. Kinks (ReLU at 0,
/// max-pool ties) within h of x give large errors: use random, untied inputs.
template <class T>
[[nodiscard]] GradientCheck check_gradient(const Graph<T>& net, const Batch<T>& x,
                                           T h = T(1e-6), unsigned seed = 1) {
  const ForwardRecord<T> rec = net.record(x);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  Matrix<T> s(rec.activations.back().rows(), x.size());
  for (Index i = 0; i < s.size(); ++i) s.data()[i] = static_cast<T>(normal(rng));
  const Matrix<T> analytic = backward(net, rules::Gradient{}, rec, net.size(), s);
  auto objective = [&](const Batch<T>& xp) {  // f per sample
    return Vector<T>((net.forward(xp).data.array() * s.array()).colwise().sum().transpose());
  };
  GradientCheck worst;
  Batch<T> xp = x;
  for (Index i = 0; i < x.data.rows(); ++i) {
    xp.data.row(i) = x.data.row(i).array() + h;
    const Vector<T> up = objective(xp);
    xp.data.row(i) = x.data.row(i).array() - h;
    const Vector<T> down = objective(xp);
    xp.data.row(i) = x.data.row(i);
    for (Index j = 0; j < x.size(); ++j) {
      const double numeric = (static_cast<double>(up(j)) - down(j)) / (2.0 * h);
      const double a = analytic(i, j);
      const double err = std::abs(a - numeric) / std::max({1.0, std::abs(a), std::abs(numeric)});
      if (worst.feature < 0 || err > worst.max_error) worst = {err, i, j, a, numeric};
    }
  }
  return worst;
}

struct AdjointCheck {
  /// max over samples of |<apply_with(M,0,x), r> - <x, apply_transpose_with(M,r)>| / scale,
  /// scale = max(1, sum of |terms| of both inner products).
  double max_error = 0;
  Index sample = -1;
};

/// Checks <apply_with(m, 0, x), r> = <x, apply_transpose_with(m, r)> per sample for a
/// linear layer bound to x's shape.
template <LinearLayer L, class T>
[[nodiscard]] AdjointCheck check_adjoint(const L& layer, const Matrix<T>& m, const Matrix<T>& x,
                                         const Matrix<T>& r) {
  const Matrix<double> lhs = (layer.apply_with(m, Vector<T>{}, x).template cast<double>().array() *
                              r.template cast<double>().array()).matrix();
  const Matrix<double> rhs = (x.template cast<double>().array() *
                              layer.apply_transpose_with(m, r).template cast<double>().array()).matrix();
  AdjointCheck worst;
  for (Index j = 0; j < x.cols(); ++j) {
    const double scale = std::max(1.0, lhs.col(j).cwiseAbs().sum() + rhs.col(j).cwiseAbs().sum());
    const double err = std::abs(lhs.col(j).sum() - rhs.col(j).sum()) / scale;
    if (worst.sample < 0 || err > worst.max_error) worst = {err, j};
  }
  return worst;
}

struct ConservationCheck {
  /// max over layers l and samples j of |S(l, j) - S(top, j)| / max(|S(top, j)|, DBL_MIN),
  /// S = Explanation::layer_sums: the relevance arriving at each layer's input against the
  /// seed (y_c with Seed::logit). 0 for a rule that conserves relevance exactly.
  double max_error = 0;
  Index layer = -1, sample = -1;  // where max_error occurred
  double expected = 0, actual = 0;  // S(top, j) and S(layer, j) there
};

/// Explains x with `rule` (a rule or a composite) and compares, per layer and sample, the
/// sum of the relevance at the layer's input with the seed. LRP rules conserve relevance
/// only where no bias and no stabiliser absorbs any: use a bias-free network (or
/// Bias{false}) and a small epsilon, and expect errors of order epsilon / |z|.
template <class T, class R>
[[nodiscard]] ConservationCheck check_conservation(const Graph<T>& net, const R& rule, const Batch<T>& x,
                                                   const Target& target = Target::argmax()) {
  ExplainOptions options;
  options.layer_sums = true;
  const Explanation<T> e = explain(net, rule, x, target, options);
  const Matrix<double>& sums = e.layer_sums;
  const Index top = sums.rows() - 1;
  ConservationCheck worst;
  for (Index j = 0; j < sums.cols(); ++j) {
    const double expected = sums(top, j);
    const double scale = std::max(std::abs(expected), std::numeric_limits<double>::min());
    for (Index l = 0; l < top; ++l) {
      const double err = std::abs(sums(l, j) - expected) / scale;
      if (worst.layer < 0 || err > worst.max_error) worst = {err, l, j, expected, sums(l, j)};
    }
  }
  return worst;
}

}  // namespace patternnet::testing
