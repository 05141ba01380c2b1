#pragma once
// PatternNet and PatternAttribution (Kindermans et al. 2018; docs/concepts.md): the gradient's backward pass
// with the weights replaced by what a signal estimator learned.
//
// For a linear layer with signal estimate s_i(x) of neuron i and y_i = w_i^T x:
//   PatternNet:          r_in = sum_i s_i(x) / y_i * r_i
//   PatternAttribution:  r_in = sum_i w_i .* s_i(x) / y_i * r_i
// With a pattern (s_i = a_i y_i) these are A^T r and (W .* A)^T r; for the two-component
// estimator A = A+ (as in the authors' code: wherever a ReLU follows, the mask already
// zeroes neurons in the negative regime). With S_x (s_i = x) they are x .* J^T (r / y) and
// x .* W^T (r / y), J = all-ones: PatternAttribution<S_x> is LRP-z ignoring the bias and
// PatternAttribution<S_w> the w^2-rule, by the same code. ReLU gates by its forward mask,
// max-pool routes to the argmax. Seed: the selected logit y_c (Seed::logit), or 1.

#include <patternnet/core/workspace.hpp>
#include <patternnet/estimators/patterns.hpp>
#include <patternnet/rules/gradient.hpp>

#include <utility>

namespace patternnet::rules {

namespace detail {

/// |y| below this is replaced by +-kSignalGuard (sign(0) = +1) before dividing r by y
/// (S_x only); elsewhere the division is exact.
inline constexpr double kSignalGuard = 1e-6;

/// r / y with y = z - b the pre-activation without bias (in batch layout), guarded.
template <LinearLayer L, class T>
Matrix<T> divide_by_output(const L& layer, const Matrix<T>& z, const Matrix<T>& r) {
  Matrix<T> y = z;
  const Index p = layer.positions();
  for (Index f = 0; f < layer.bias().size(); ++f) y.middleRows(f * p, p).array() -= layer.bias()(f);
  const T guard = static_cast<T>(kSignalGuard);
  return r.cwiseQuotient(y.unaryExpr([guard](T v) { return std::abs(v) < guard ? (v < 0 ? -guard : guard) : v; }));
}

/// Shared by both rules: back-projection through the estimator's signal, with the
/// weights (attribution) or without (signal).
template <class T>
class PatternRule : public Gradient {
public:
  Seed seed_mode = Seed::logit;

  explicit PatternRule(Patterns<T> patterns) : patterns_(std::move(patterns)) {}
  [[nodiscard]] Seed seed() const noexcept { return seed_mode; }
  [[nodiscard]] const Patterns<T>& patterns() const noexcept { return patterns_; }

protected:
  template <LinearLayer L>
  [[nodiscard]] Matrix<T> back_project(const L& layer, const LayerContext<T>& ctx, const Matrix<T>& r,
                                       bool with_weights, const char* where) const {
    const auto& w = layer.weight();
    const LayerPatterns<T>& p = patterns_.at(ctx.index, w.rows(), w.cols(), where);
    if (p.kind == PatternKind::identity) {  // s_i(x) = x
      const Matrix<T> s = divide_by_output(layer, ctx.output, r);
      const Matrix<T> back = with_weights ? layer.apply_transpose_with(w, s)
                                          : layer.apply_transpose_with(Matrix<T>::Ones(w.rows(), w.cols()), s);
      return ctx.input.cwiseProduct(back);
    }
    if (!with_weights) return layer.apply_transpose_with(p.a, r);
    const workspace::Scratch<T> wa(w.cwiseProduct(p.a));  // W .* A, in reused memory
    return layer.apply_transpose_with(*wa, r);
  }

private:
  Patterns<T> patterns_;
};

}  // namespace detail

/// PatternNet: back-projects the signal (A^T r per linear layer).
template <class T>
class PatternNet : public detail::PatternRule<T> {
public:
  using detail::PatternRule<T>::PatternRule;
  template <LinearLayer L>
  [[nodiscard]] Matrix<T> linear(const L& layer, const LayerContext<T>& ctx, const Matrix<T>& r) const {
    return this->back_project(layer, ctx, r, false, "PatternNet");
  }
};

/// PatternAttribution: back-projects the contributions ((W .* A)^T r per linear layer).
template <class T>
class PatternAttribution : public detail::PatternRule<T> {
public:
  using detail::PatternRule<T>::PatternRule;
  template <LinearLayer L>
  [[nodiscard]] Matrix<T> linear(const L& layer, const LayerContext<T>& ctx, const Matrix<T>& r) const {
    return this->back_project(layer, ctx, r, true, "PatternAttribution");
  }
};

template <class T>
PatternNet(Patterns<T>) -> PatternNet<T>;
template <class T>
PatternAttribution(Patterns<T>) -> PatternAttribution<T>;

}  // namespace patternnet::rules
