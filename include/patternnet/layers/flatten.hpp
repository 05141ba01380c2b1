#pragma once
// Flatten: C x H x W -> (C*H*W) x 1 x 1. Samples are already stored flat in C, H, W
// order, so the data passes unchanged; only the shape changes.

#include <patternnet/core/batch.hpp>
#include <patternnet/core/workspace.hpp>
#include <patternnet/layers/traits.hpp>

#include <string_view>

namespace patternnet {

template <class T>
class Flatten {
public:
  using Scalar = T;
  static constexpr std::string_view name = "Flatten";
  static constexpr LayerCategory category = LayerCategory::shape;
  static constexpr std::uint32_t tag = 5;
  static constexpr Index arity = 1;
  using Cache = NoCache;

  /// Only the shape changes: every rule passes r through unchanged.
  template <class R, class Ctx>
  [[nodiscard]] static Matrix<T> rule_hook(const R& /*rule*/, const Flatten& /*layer*/, const Ctx& /*ctx*/, const Matrix<T>& r) {
    return workspace::evaluate(r);
  }

  Shape bind(Shape in, Index /*index*/) const noexcept { return Shape{in.size(), 1, 1}; }
  [[nodiscard]] Matrix<T> forward(const Matrix<T>& x) const { return workspace::evaluate(x); }
};

}  // namespace patternnet
