#pragma once
// Rectified linear unit, element-wise.

#include <patternnet/core/batch.hpp>
#include <patternnet/core/workspace.hpp>
#include <patternnet/layers/traits.hpp>

#include <string_view>

namespace patternnet {

/// max(z, 0) element-wise. Its gradient routing is the mask 1[z > 0] of its input z
/// (the gradient at z = 0 is taken as 0, as PyTorch does).
template <class T>
class ReLU {
public:
  using Scalar = T;
  static constexpr std::string_view name = "ReLU";
  static constexpr LayerCategory category = LayerCategory::activation;
  static constexpr std::uint32_t tag = 2;
  static constexpr Index arity = 1;
  using Cache = NoCache;

  /// Rules see a ReLU through their relu() hook.
  template <class R, class Ctx>
  [[nodiscard]] static auto rule_hook(const R& rule, const ReLU& layer, const Ctx& ctx, const Matrix<T>& r)
      -> decltype(rule.relu(layer, ctx, r)) {
    return rule.relu(layer, ctx, r);
  }

  Shape bind(Shape in, Index /*index*/) const noexcept { return in; }
  [[nodiscard]] Matrix<T> forward(const Matrix<T>& z) const { return workspace::evaluate(z.cwiseMax(T(0))); }
  /// r * 1[z > 0], where z is this layer's recorded input.
  [[nodiscard]] Matrix<T> gradient(const Matrix<T>& z, const Matrix<T>& r) const {
    return workspace::evaluate((z.array() > T(0)).select(r, T(0)));
  }
};

}  // namespace patternnet
