#pragma once
// The LRP rules, with Zennit's names and semantics (docs/methods.md), so that numbers
// can be compared with Zennit's: Epsilon, Gamma, ZPlus, AlphaBeta, ZBox, Flat, WSquare
// for linear layers (Dense and Conv2D through the apply_with / apply_transpose_with hooks),
// Pass for ReLU, winner-takes-all for max-pool (the gradient's routing).
//
// Every linear rule has Zennit's form: a modified forward z (bias included, unless the
// rule drops it), s = R / stab(z), and R_in = (modified input) .* (modified W)^T s,
// summed over the rule's terms. stab is the sign-aware stabiliser (core/stabilizer.hpp).
//
// Options, in any order after the rule's own parameters:
//   Seed::logit (default) starts from y_c so that relevance sums to y_c; Seed::one is
//     Zennit's convention (results then differ by the factor y_c only).
//   Bias{false} ignores the layer's bias everywhere in the rule (Zennit's
//     zero_params=['bias']). By default the bias is used as Zennit uses it: it enters the
//     denominator z and so absorbs its share of relevance; the rules list where.
//   Stabilizer{eps} (not for Epsilon, whose epsilon is its stabiliser): the eps of stab(z)
//     in the denominators, default 1e-6 as in Zennit.

#include <patternnet/core/stabilizer.hpp>
#include <patternnet/core/workspace.hpp>
#include <patternnet/layers/options.hpp>
#include <patternnet/rules/gradient.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <concepts>
#include <string_view>
#include <utility>
#include <vector>

namespace patternnet::rules {

/// The eps of stab(z) = z + eps * sign(z) in the denominators of the rules other than
/// Epsilon (Zennit's `stabilizer`). Must be >= 0.
struct Stabilizer {
  double epsilon = 1e-6;
  constexpr explicit Stabilizer(double eps) : epsilon(eps) {}
};

/// Relevance passes through ReLU unchanged (LRP does not gate by the ReLU: where the ReLU
/// output is 0, the rules above give it no relevance anyway); gradient elsewhere. Seed 1
/// when used on its own; inside a composite the composite's seed applies.
struct Pass : Gradient {
  template <class T>
  [[nodiscard]] Matrix<T> relu(const ReLU<T>& /*layer*/, const LayerContext<T>& /*ctx*/,
                               const Matrix<T>& r) const {
    return workspace::evaluate(r);
  }
};

namespace detail {

using patternnet::detail::fail;
using patternnet::detail::divide_stabilized;
using workspace::Scratch;

/// Zennit's Norm rule on average pooling: R_in = x .* P^T (R / stab(z)), z = P x (P: the
/// pooling, whose transpose spreads each output over its window).
template <class L, class T>
[[nodiscard]] Matrix<T> norm_avg_pool(const L& layer, const LayerContext<T>& ctx, const Matrix<T>& r, T eps) {
  const Scratch<T> s(divide_stabilized(r, ctx.output, eps));
  Matrix<T> out = layer.transpose(*s);
  out.array() *= ctx.input.array();
  return out;
}

/// Zennit's Norm rule on a sum z = x_1 + ... + x_k: R_k = x_k .* R / stab(z), each input's
/// share of the relevance is its share of the sum.
template <class T>
[[nodiscard]] std::vector<Matrix<T>> norm_add(const LayerContext<T>& ctx, const Matrix<T>& r, T eps) {
  const Scratch<T> s(divide_stabilized(r, ctx.output, eps));
  std::vector<Matrix<T>> out;
  out.reserve(ctx.inputs.size());
  for (const Matrix<T>* x : ctx.inputs) out.push_back(workspace::evaluate(x->cwiseProduct(*s)));
  return out;
}

}  // namespace detail

/// Zennit's Norm rule for layers without weights: average pooling and Add distribute
/// relevance in proportion to each input's contribution, R_in = x .* J^T (R / stab(z)), with
/// J the layer's (constant) Jacobian; conservative up to what the stabiliser absorbs.
/// Gradient elsewhere (max-pool: winner takes all; Concat: split). The default rule of
/// Zennit's composites for these layers (LAYER_MAP_BASE). Options: Stabilizer{eps}
/// (default 1e-6), Seed.
class Norm : public Gradient {
public:
  static constexpr std::string_view name = "Norm";

  template <class... Options>
    requires((std::same_as<Options, Stabilizer> || std::same_as<Options, Seed>) && ...)
  explicit Norm(Options... options) {
    (set(options), ...);
    if (!(stabilizer_ >= 0)) detail::fail<ConfigError>("Norm: the stabilizer must be >= 0, got {}", stabilizer_);
  }

  [[nodiscard]] Seed seed() const noexcept { return seed_; }
  [[nodiscard]] double stabilizer() const noexcept { return stabilizer_; }

  template <class L, class T>
  [[nodiscard]] Matrix<T> avg_pool(const L& layer, const LayerContext<T>& ctx, const Matrix<T>& r) const {
    return detail::norm_avg_pool(layer, ctx, r, T(stabilizer_));
  }
  template <class T>
  [[nodiscard]] std::vector<Matrix<T>> add(const Add<T>& /*layer*/, const LayerContext<T>& ctx, const Matrix<T>& r) const {
    return detail::norm_add(ctx, r, T(stabilizer_));
  }

private:
  void set(Stabilizer s) noexcept { stabilizer_ = s.epsilon; }
  void set(Seed s) noexcept { seed_ = s; }

  double stabilizer_ = 1e-6;
  Seed seed_ = Seed::logit;
};

namespace detail {

template <class O>
concept RuleOption = std::same_as<O, Seed> || std::same_as<O, Bias>;
template <class O>
concept StabilizedRuleOption = RuleOption<O> || std::same_as<O, Stabilizer>;

/// What every LRP rule shares: the seed (default y_c), the bias switch, ReLU = Pass,
/// average pooling and Add = Norm (stabiliser 1e-6), as in Zennit's composites.
class Relevance : public Pass {
public:
  template <class L, class T>
  [[nodiscard]] Matrix<T> avg_pool(const L& layer, const LayerContext<T>& ctx, const Matrix<T>& r) const {
    return norm_avg_pool(layer, ctx, r, T(1e-6));
  }
  template <class T>
  [[nodiscard]] std::vector<Matrix<T>> add(const Add<T>& /*layer*/, const LayerContext<T>& ctx, const Matrix<T>& r) const {
    return norm_add(ctx, r, T(1e-6));
  }

  [[nodiscard]] Seed seed() const noexcept { return seed_; }
  /// False if the rule was built with Bias{false}.
  [[nodiscard]] bool uses_bias() const noexcept { return bias_; }

protected:
  void set(Seed s) noexcept { seed_ = s; }
  void set(Bias b) noexcept { bias_ = b.enabled; }

  /// The layer's bias as this rule sees it (empty if ignored or absent).
  template <LinearLayer L>
  [[nodiscard]] Vector<typename L::Scalar> bias_of(const L& layer) const {
    return bias_ ? layer.bias() : Vector<typename L::Scalar>{};
  }

private:
  Seed seed_ = Seed::logit;
  bool bias_ = true;
};

/// An LRP rule whose denominators use stab(z) with a fixed small eps.
class Stabilized : public Relevance {
public:
  [[nodiscard]] double stabilizer() const noexcept { return stabilizer_; }

protected:
  using Relevance::set;
  void set(Stabilizer s) noexcept { stabilizer_ = s.epsilon; }
  void validate_stabilizer(std::string_view rule) const {
    if (!(stabilizer_ >= 0)) {
      fail<ConfigError>("{}: the stabilizer must be >= 0, got {}", rule, stabilizer_);
    }
  }

private:
  double stabilizer_ = 1e-6;
};

/// x split into x+ = max(x, 0) and x- = min(x, 0); when x >= 0 (the usual case after a
/// ReLU) x+ is x itself and x- is skipped, its terms being exactly zero.
template <class T>
class SignSplit {
public:
  explicit SignSplit(const Matrix<T>& x) : x_(x), has_neg_((x.array() < T(0)).any()) {
    if (has_neg_) {
      pos_ = workspace::evaluate(x.cwiseMax(T(0)));
      neg_ = workspace::evaluate(x.cwiseMin(T(0)));
    }
  }
  SignSplit(const SignSplit&) = delete;
  SignSplit& operator=(const SignSplit&) = delete;
  ~SignSplit() {
    workspace::recycle(pos_);
    workspace::recycle(neg_);
  }
  [[nodiscard]] const Matrix<T>& pos() const noexcept { return has_neg_ ? pos_ : x_; }
  [[nodiscard]] const Matrix<T>& neg() const noexcept { return neg_; }
  [[nodiscard]] bool has_neg() const noexcept { return has_neg_; }

private:
  const Matrix<T>& x_;
  bool has_neg_;
  Matrix<T> pos_, neg_;
};

/// The term shared by ZPlus, AlphaBeta and Gamma: z = A x+ + c + B x- (one denominator),
/// s = r / stab(z), returns x+ .* A^T s + x- .* B^T s.
template <LinearLayer L, class T>
[[nodiscard]] Matrix<T> split_term(const L& layer, const Matrix<T>& a, const Matrix<T>& b,
                                   const Vector<T>& c, const SignSplit<T>& x, const Matrix<T>& r,
                                   T eps) {
  Matrix<T> z = layer.apply_with(a, c, x.pos());
  if (x.has_neg()) z += *Scratch<T>(layer.apply_with(b, Vector<T>{}, x.neg()));
  const Scratch<T> s(divide_stabilized(r, z, eps));
  workspace::recycle(z);
  Matrix<T> out = layer.apply_transpose_with(a, *s);
  out.array() *= x.pos().array();
  if (x.has_neg()) out.array() += x.neg().array() * Scratch<T>(layer.apply_transpose_with(b, *s))->array();
  return out;
}

/// The term shared by Flat and WSquare, whose input is all ones: z = M 1 + c (one column,
/// the same for every sample), returns M^T (r / stab(z)).
template <LinearLayer L, class T>
[[nodiscard]] Matrix<T> spread_term(const L& layer, const Matrix<T>& m, const Vector<T>& c, Index inputs,
                                    const Matrix<T>& r, T eps) {
  const Matrix<T> z = stabilize(layer.apply_with(m, c, Matrix<T>::Ones(inputs, 1)), eps);
  const Scratch<T> s(workspace::evaluate((r.array().colwise() / z.col(0).array()).matrix()));
  return layer.apply_transpose_with(m, *s);
}

}  // namespace detail

/// LRP-epsilon: z = W x + b, R_in = x .* W^T (R / stab_eps(z)) with
/// stab_eps(z) = z + eps * sign(z), sign(0) = +1. eps = 0 is LRP-0 (LRP-z). Relevance is
/// conserved up to what eps and the bias absorb. Default eps = 1e-6 (Zennit's).
class Epsilon : public detail::Relevance {
public:
  static constexpr std::string_view name = "Epsilon";

  template <detail::RuleOption... Options>
  explicit Epsilon(double epsilon = 1e-6, Options... options) : epsilon_(epsilon) {
    (set(options), ...);
    if (!(epsilon_ >= 0)) detail::fail<ConfigError>("Epsilon: epsilon must be >= 0, got {}", epsilon_);
  }

  [[nodiscard]] double epsilon() const noexcept { return epsilon_; }

  /// Reads z = W x + b from ctx.output (the recorded forward output of the layer).
  template <LinearLayer L, class T>
  [[nodiscard]] Matrix<T> linear(const L& layer, const LayerContext<T>& ctx, const Matrix<T>& r) const {
    const bool drop_bias = !uses_bias() && layer.bias().size() != 0;
    const T eps(epsilon_);
    const detail::Scratch<T> s(
        drop_bias ? detail::divide_stabilized(r, *detail::Scratch<T>(layer.apply_with(layer.weight(), Vector<T>{}, ctx.input)), eps)
                  : detail::divide_stabilized(r, ctx.output, eps));
    Matrix<T> out = layer.apply_transpose_with(layer.weight(), *s);
    out.array() *= ctx.input.array();
    return out;
  }

private:
  double epsilon_;
};

/// LRP-z+ with Zennit's handling of negative inputs (= AlphaBeta(1, 0)):
/// z = W+ x+ + b+ + W- x- (one shared denominator), R_in = x+ .* W+^T s + x- .* W-^T s,
/// s = R / stab(z). Only the positive bias part b+ enters z.
class ZPlus : public detail::Stabilized {
public:
  static constexpr std::string_view name = "ZPlus";

  template <detail::StabilizedRuleOption... Options>
  explicit ZPlus(Options... options) {
    (set(options), ...);
    validate_stabilizer(name);
  }

  template <LinearLayer L, class T>
  [[nodiscard]] Matrix<T> linear(const L& layer, const LayerContext<T>& ctx, const Matrix<T>& r) const {
    const Matrix<T>& w = layer.weight();
    return detail::split_term(layer, Matrix<T>(w.cwiseMax(T(0))), Matrix<T>(w.cwiseMin(T(0))),
                              Vector<T>(bias_of(layer).cwiseMax(T(0))),
                              detail::SignSplit<T>(ctx.input), r, T(stabilizer()));
  }
};

/// LRP-alpha-beta (Zennit): R_in = alpha * P - beta * N with
///   P: z+ = W+ x+ + b+ + W- x-,  P = x+ .* W+^T s+ + x- .* W-^T s+,  s+ = R / stab(z+)
///   N: z- = W- x+ + b- + W+ x-,  N = x+ .* W-^T s- + x- .* W+^T s-,  s- = R / stab(z-)
/// Requires alpha, beta >= 0 and alpha - beta = 1 (to within 1e-12 * max(1, alpha), so that
/// decimal inputs such as (1.1, 0.1) are accepted). Default (2, 1). With beta = 0 the
/// negative term is skipped (it is multiplied by 0), so AlphaBeta(1, 0) = ZPlus.
class AlphaBeta : public detail::Stabilized {
public:
  static constexpr std::string_view name = "AlphaBeta";

  template <detail::StabilizedRuleOption... Options>
  explicit AlphaBeta(double alpha = 2, double beta = 1, Options... options) : alpha_(alpha), beta_(beta) {
    (set(options), ...);
    validate_stabilizer(name);
    if (!(alpha_ >= 0) || !(beta_ >= 0)) {
      detail::fail<ConfigError>("AlphaBeta: alpha and beta must be >= 0, got alpha = {}, beta = {}",
                                            alpha_, beta_);
    }
    if (!(std::abs(alpha_ - beta_ - 1) <= 1e-12 * std::max(1.0, alpha_))) {
      detail::fail<ConfigError>(
          "AlphaBeta: alpha - beta must equal 1, got alpha = {}, beta = {} (alpha - beta = {})", alpha_, beta_,
          alpha_ - beta_);
    }
  }

  [[nodiscard]] double alpha() const noexcept { return alpha_; }
  [[nodiscard]] double beta() const noexcept { return beta_; }

  template <LinearLayer L, class T>
  [[nodiscard]] Matrix<T> linear(const L& layer, const LayerContext<T>& ctx, const Matrix<T>& r) const {
    const Matrix<T>& w = layer.weight();
    const Matrix<T> wp = w.cwiseMax(T(0)), wn = w.cwiseMin(T(0));
    const Vector<T> b = bias_of(layer);
    const detail::SignSplit<T> x(ctx.input);
    const T eps(stabilizer());
    Matrix<T> out = detail::split_term(layer, wp, wn, Vector<T>(b.cwiseMax(T(0))), x, r, eps);
    if (alpha_ != 1) out *= T(alpha_);
    if (beta_ != 0) {
      out -= T(beta_) * *detail::Scratch<T>(detail::split_term(layer, wn, wp, Vector<T>(b.cwiseMin(T(0))), x, r, eps));
    }
    return out;
  }

private:
  double alpha_, beta_;
};

/// LRP-gamma, Zennit's generalised form (Andeol et al. 2021), split by the sign of the
/// layer's actual output z = W x + b (ctx.output, bias always included, as in Zennit):
///   z > 0:  z' = (W + g W+) x+ + (b + g b+) + (W + g W-) x-,
///           R_in = x+ .* (W + g W+)^T s + x- .* (W + g W-)^T s,  s = R / stab(z')
///   z < 0:  z' = (W + g W-) x+ + (b + g b-) + (W + g W+) x-, the same with + and - swapped
///   z = 0:  no relevance flows.
/// For x >= 0 and z > 0 this is the classic gamma rule, W + g W+ and b + g b+ on x
/// (docs/methods.md). gamma >= 0, default 0.25 (Zennit's).
class Gamma : public detail::Stabilized {
public:
  static constexpr std::string_view name = "Gamma";

  template <detail::StabilizedRuleOption... Options>
  explicit Gamma(double gamma = 0.25, Options... options) : gamma_(gamma) {
    (set(options), ...);
    validate_stabilizer(name);
    if (!(gamma_ >= 0)) detail::fail<ConfigError>("Gamma: gamma must be >= 0, got {}", gamma_);
  }

  [[nodiscard]] double gamma() const noexcept { return gamma_; }

  template <LinearLayer L, class T>
  [[nodiscard]] Matrix<T> linear(const L& layer, const LayerContext<T>& ctx, const Matrix<T>& r) const {
    const Matrix<T>& w = layer.weight();
    const T g(gamma_);
    const Matrix<T> up = w + g * w.cwiseMax(T(0)), down = w + g * w.cwiseMin(T(0));
    const Vector<T> b = bias_of(layer);
    const Vector<T> b_up = b + g * b.cwiseMax(T(0)), b_down = b + g * b.cwiseMin(T(0));
    const detail::SignSplit<T> x(ctx.input);
    const T eps(stabilizer());
    Matrix<T> out =
        detail::split_term(layer, up, down, b_up, x, *detail::Scratch<T>((ctx.output.array() > T(0)).select(r, T(0))), eps);
    out += *detail::Scratch<T>(detail::split_term(
        layer, down, up, b_down, x, *detail::Scratch<T>((ctx.output.array() < T(0)).select(r, T(0))), eps));
    return out;
  }

private:
  double gamma_;
};

/// LRP-z^B for inputs bounded in the box [low, high] (the pixel layer):
///   z = W x - W+ l - W- h,  R_in = x .* W^T s - l .* W+^T s - h .* W-^T s,  s = R / stab(z).
/// Zennit adds b, b+ and b- to the three terms; since b - b+ - b- = 0 exactly, the bias has
/// no effect and is not used. low and high are scalars, or one value per input feature of
/// the layer (C, H, W order; expand per-channel bounds to per-input); low <= high
/// everywhere, else ConfigError.
class ZBox : public detail::Stabilized {
public:
  static constexpr std::string_view name = "ZBox";

  template <detail::StabilizedRuleOption... Options>
  ZBox(double low, double high, Options... options)
      : ZBox(Eigen::VectorXd::Constant(1, low), Eigen::VectorXd::Constant(1, high), options...) {}

  /// Per-input bounds (any Eigen vectors of any scalar type); a vector of size 1 is a scalar.
  template <class DL, class DH, detail::StabilizedRuleOption... Options>
  ZBox(const Eigen::MatrixBase<DL>& low, const Eigen::MatrixBase<DH>& high, Options... options)
      : low_(low.template cast<double>()), high_(high.template cast<double>()) {
    (set(options), ...);
    validate_stabilizer(name);
    if (low_.size() < 1 || high_.size() < 1 ||
        (low_.size() != high_.size() && low_.size() != 1 && high_.size() != 1)) {
      detail::fail<ConfigError>("ZBox: low has {} entries and high has {}; expected equal sizes or a scalar",
                                            low_.size(), high_.size());
    }
    const Index n = std::max(low_.size(), high_.size());
    for (Index i = 0; i < n; ++i) {
      const double l = low_(low_.size() == 1 ? 0 : i), h = high_(high_.size() == 1 ? 0 : i);
      if (!(l <= h)) {
        if (n == 1) detail::fail<ConfigError>("ZBox: low must be <= high, got low = {} > high = {}", l, h);
        detail::fail<ConfigError>("ZBox: low must be <= high, got low = {} > high = {} at input {}", l, h, i);
      }
    }
  }

  [[nodiscard]] const Eigen::VectorXd& low() const noexcept { return low_; }
  [[nodiscard]] const Eigen::VectorXd& high() const noexcept { return high_; }

  template <LinearLayer L, class T>
  [[nodiscard]] Matrix<T> linear(const L& layer, const LayerContext<T>& ctx, const Matrix<T>& r) const {
    const Matrix<T>& w = layer.weight();
    const Matrix<T>& x = ctx.input;
    const Matrix<T> l = bound<L, T>(low_, x.rows(), ctx), h = bound<L, T>(high_, x.rows(), ctx);
    const Matrix<T> wp = w.cwiseMax(T(0)), wn = w.cwiseMin(T(0));
    // W+ l + W- h is the same for every sample: one column, broadcast.
    const Matrix<T> box = layer.apply_with(wp, Vector<T>{}, l) + layer.apply_with(wn, Vector<T>{}, h);
    Matrix<T> z = layer.apply_with(w, Vector<T>{}, x);
    z.colwise() -= box.col(0);
    const detail::Scratch<T> s(detail::divide_stabilized(r, z, T(stabilizer())));
    workspace::recycle(z);
    Matrix<T> out = layer.apply_transpose_with(w, *s);
    out.array() *= x.array();
    out.array() -= detail::Scratch<T>(layer.apply_transpose_with(wp, *s))->array().colwise() * l.col(0).array();
    out.array() -= detail::Scratch<T>(layer.apply_transpose_with(wn, *s))->array().colwise() * h.col(0).array();
    return out;
  }

private:
  template <class L, class T>
  static Matrix<T> bound(const Eigen::VectorXd& v, Index inputs, const LayerContext<T>& ctx) {
    if (v.size() == 1) return Matrix<T>::Constant(inputs, 1, T(v(0)));
    if (v.size() != inputs) {
      detail::fail<ShapeError>("ZBox: layer {} ({}) has {} input features but the bounds have {} entries",
                                           ctx.index, L::name, inputs, v.size());
    }
    return v.cast<T>();
  }

  Eigen::VectorXd low_, high_;
};

/// LRP-flat: all-ones weights, no bias, ones as input: z_i = number of inputs of neuron i
/// (on a padded conv only the in-image taps count: the hooks skip the padding),
/// R_in = 1^T (R / stab(z)): each output's relevance is spread evenly over its inputs.
class Flat : public detail::Stabilized {
public:
  static constexpr std::string_view name = "Flat";

  template <detail::StabilizedRuleOption... Options>
  explicit Flat(Options... options) {
    (set(options), ...);
    validate_stabilizer(name);
  }

  template <LinearLayer L, class T>
  [[nodiscard]] Matrix<T> linear(const L& layer, const LayerContext<T>& ctx, const Matrix<T>& r) const {
    return detail::spread_term(layer, Matrix<T>(Matrix<T>::Ones(layer.weight().rows(), layer.weight().cols())),
                               Vector<T>{}, ctx.input.rows(), r, T(stabilizer()));
  }
};

/// LRP-w^2: squared weights and squared bias, ones as input: z = W.^2 1 + b.^2,
/// R_in = (W.^2)^T (R / stab(z)). The bias stays in the denominator (Zennit), so it absorbs
/// relevance; Bias{false} drops it. On a padded conv only the in-image taps count.
class WSquare : public detail::Stabilized {
public:
  static constexpr std::string_view name = "WSquare";

  template <detail::StabilizedRuleOption... Options>
  explicit WSquare(Options... options) {
    (set(options), ...);
    validate_stabilizer(name);
  }

  template <LinearLayer L, class T>
  [[nodiscard]] Matrix<T> linear(const L& layer, const LayerContext<T>& ctx, const Matrix<T>& r) const {
    return detail::spread_term(layer, Matrix<T>(layer.weight().cwiseAbs2()), Vector<T>(bias_of(layer).cwiseAbs2()),
                               ctx.input.rows(), r, T(stabilizer()));
  }
};

}  // namespace patternnet::rules
