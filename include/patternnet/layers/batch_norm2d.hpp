#pragma once
// Batch normalisation in its inference form (torch.nn.BatchNorm2d in eval mode): a fixed
// affine map per channel.

#include <patternnet/core/allocation.hpp>
#include <patternnet/core/batch.hpp>
#include <patternnet/layers/traits.hpp>

#include <cmath>
#include <string_view>
#include <utility>

namespace patternnet {

/// z[c, y, x] = (x[c, y, x] - mean[c]) / sqrt(var[c] + eps) * weight[c] + bias[c], with
/// the running mean and variance (PyTorch's running_mean, running_var, weight = gamma,
/// bias = beta, eps; default eps 1e-5, weight 1, bias 0, mean 0, var 1 after the size
/// constructor). That is z = scale[c] * x + shift[c]: scale() and shift() give the map.
/// Works on any C x H x W input (C x 1 x 1 after a Dense layer: BatchNorm1d).
/// canonize() (network/canonizers.hpp) folds it into a preceding Dense or Conv2D; where it
/// stays, rules see it through batch_norm() (the gradient multiplies by scale[c]).
template <class T>
class BatchNorm2D {
public:
  using Scalar = T;
  static constexpr std::string_view name = "BatchNorm2D";
  static constexpr LayerCategory category = LayerCategory::normalization;
  static constexpr std::uint32_t tag = 8;
  static constexpr Index arity = 1;
  using Cache = NoCache;

  /// Rules see a batch normalisation through their batch_norm() hook.
  template <class R, class Ctx>
  [[nodiscard]] static auto rule_hook(const R& rule, const BatchNorm2D& layer, const Ctx& ctx, const Matrix<T>& r)
      -> decltype(rule.batch_norm(layer, ctx, r)) {
    return rule.batch_norm(layer, ctx, r);
  }

  explicit BatchNorm2D(Index channels, double eps = 1e-5)
      : BatchNorm2D(filled(channels, 0), filled(channels, 1), filled(channels, 1), filled(channels, 0), eps) {}
  /// Takes the running mean and variance, the weight (gamma) and the bias (beta), one
  /// value per channel each.
  BatchNorm2D(Vector<T> running_mean, Vector<T> running_var, Vector<T> weight, Vector<T> bias, double eps = 1e-5)
      : mean_(std::move(running_mean)), var_(std::move(running_var)), weight_(std::move(weight)),
        bias_(std::move(bias)), eps_(eps) {
    const Index c = mean_.size();
    if (c < 1 || var_.size() != c || weight_.size() != c || bias_.size() != c) {
      detail::fail<ShapeError>("BatchNorm2D::BatchNorm2D(): mean, var, weight and bias need one value per channel "
                               "(>= 1), got {}, {}, {} and {}", mean_.size(), var_.size(), weight_.size(), bias_.size());
    }
    if (!(eps_ > 0) || !std::isfinite(eps_)) {
      detail::fail<ConfigError>("BatchNorm2D::BatchNorm2D(): eps must be finite and > 0, got {}", eps_);
    }
    if ((var_.array() < T(0)).any()) {
      detail::fail<ConfigError>("BatchNorm2D::BatchNorm2D(): the running variance must be >= 0");
    }
  }

  [[nodiscard]] Index channels() const noexcept { return mean_.size(); }
  [[nodiscard]] const Vector<T>& running_mean() const noexcept { return mean_; }
  [[nodiscard]] const Vector<T>& running_var() const noexcept { return var_; }
  [[nodiscard]] const Vector<T>& weight() const noexcept { return weight_; }
  [[nodiscard]] const Vector<T>& bias() const noexcept { return bias_; }
  /// Mutable access (e.g. to copy PyTorch's values); keep one value per channel.
  [[nodiscard]] Vector<T>& running_mean() noexcept { return mean_; }
  [[nodiscard]] Vector<T>& running_var() noexcept { return var_; }
  [[nodiscard]] Vector<T>& weight() noexcept { return weight_; }
  [[nodiscard]] Vector<T>& bias() noexcept { return bias_; }
  [[nodiscard]] double eps() const noexcept { return eps_; }
  /// scale[c] = weight[c] / sqrt(var[c] + eps).
  [[nodiscard]] Vector<T> scale() const {
    return (weight_.array() / (var_.array() + static_cast<T>(eps_)).sqrt()).matrix();
  }
  /// shift[c] = bias[c] - mean[c] * scale[c].
  [[nodiscard]] Vector<T> shift() const { return (bias_.array() - mean_.array() * scale().array()).matrix(); }

  Shape bind(Shape in, Index index) {
    if (in.c != channels()) {
      detail::fail<ShapeError>("layer {} (BatchNorm2D) expects {} channels, got {} (shape {})", index, channels(),
                               in.c, in);
    }
    plane_ = in.h * in.w;
    return in;
  }

  /// z = scale[c] * x + shift[c].
  [[nodiscard]] Matrix<T> forward(const Matrix<T>& x) const {
    const Vector<T> s = scale();
    const Vector<T> t = (bias_.array() - mean_.array() * s.array()).matrix();  // shift(), from s
    Matrix<T> z(x.rows(), x.cols());
    for (Index c = 0; c < channels(); ++c) {
      z.middleRows(c * plane_, plane_) = (x.middleRows(c * plane_, plane_).array() * s(c) + t(c)).matrix();
    }
    return z;
  }

  /// The exact adjoint of the linear part: scale[c] * r.
  [[nodiscard]] Matrix<T> transpose(const Matrix<T>& r) const {
    const Vector<T> s = scale();
    Matrix<T> x(r.rows(), r.cols());
    for (Index c = 0; c < channels(); ++c) x.middleRows(c * plane_, plane_) = r.middleRows(c * plane_, plane_) * s(c);
    return x;
  }

private:
  /// A vector of `channels` copies of `value`; ConfigError for channels < 1 or > 2^32.
  static Vector<T> filled(Index channels, T value) {
    constexpr const char* where = "BatchNorm2D::BatchNorm2D()";
    if (channels < 1) detail::fail<ConfigError>("{}: channels must be >= 1, got {}", where, channels);
    (void)detail::checked_count(where, "the channel statistics", {channels});
    Vector<T> v = detail::zeros<Vector<T>>(where, "the channel statistics", channels);
    v.setConstant(value);
    return v;
  }

  Vector<T> mean_, var_, weight_, bias_;
  double eps_;
  Index plane_ = 1;
};

}  // namespace patternnet
