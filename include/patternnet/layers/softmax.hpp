#pragma once
// Softmax over all features of each sample, computed stably (max subtracted).

#include <patternnet/core/batch.hpp>
#include <patternnet/layers/traits.hpp>

#include <string_view>

namespace patternnet {

/// p_i = exp(z_i - max z) / sum_j exp(z_j - max z) per sample column. Finite for any
/// finite logits (|z| ~ 1e3 included). Explanations are of the logits below a final
/// Softmax (see explain()).
template <class T>
class Softmax {
public:
  using Scalar = T;
  static constexpr std::string_view name = "Softmax";
  static constexpr LayerCategory category = LayerCategory::activation;
  static constexpr std::uint32_t tag = 4;
  static constexpr Index arity = 1;
  using Cache = NoCache;

  /// Rules see a Softmax through their softmax() hook.
  template <class R, class Ctx>
  [[nodiscard]] static auto rule_hook(const R& rule, const Softmax& layer, const Ctx& ctx, const Matrix<T>& r)
      -> decltype(rule.softmax(layer, ctx, r)) {
    return rule.softmax(layer, ctx, r);
  }

  Shape bind(Shape in, Index /*index*/) const noexcept { return in; }
  [[nodiscard]] Matrix<T> forward(const Matrix<T>& z) const {
    Matrix<T> p = (z.rowwise() - z.colwise().maxCoeff()).array().exp().matrix();
    p.array().rowwise() /= p.colwise().sum().array();
    return p;
  }
  /// Vector-Jacobian product: p * (r - p^T r) per sample, p = this layer's output.
  [[nodiscard]] Matrix<T> gradient(const Matrix<T>& p, const Matrix<T>& r) const {
    const Eigen::Matrix<T, 1, Eigen::Dynamic> dot = (p.array() * r.array()).colwise().sum();
    return (p.array() * (r.rowwise() - dot).array()).matrix();
  }
};

}  // namespace patternnet
