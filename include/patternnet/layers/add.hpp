#pragma once
// Element-wise sum of two or more inputs of one shape (a residual connection).

#include <patternnet/core/batch.hpp>
#include <patternnet/layers/traits.hpp>

#include <span>
#include <string_view>
#include <vector>

namespace patternnet {

/// z = x_1 + ... + x_k (k >= 2 inputs of equal shape). Rules see it through add(), which
/// returns one backward quantity per input: the gradient gives every input r; LRP rules
/// split r in proportion to each input's contribution (Zennit's Norm rule).
template <class T>
class Add {
public:
  using Scalar = T;
  static constexpr std::string_view name = "Add";
  static constexpr LayerCategory category = LayerCategory::merge;
  static constexpr std::uint32_t tag = 9;
  static constexpr Index arity = kAnyArity;
  using Cache = NoCache;

  /// Rules see a sum through their add() hook.
  template <class R, class Ctx>
  [[nodiscard]] static auto rule_hook(const R& rule, const Add& layer, const Ctx& ctx,
                                                        const Matrix<T>& r)
      -> decltype(rule.add(layer, ctx, r)) {
    return rule.add(layer, ctx, r);
  }

  Shape bind(std::span<const Shape> in, Index index) const {
    for (std::size_t k = 1; k < in.size(); ++k) {
      if (!(in[k] == in[0])) {
        detail::fail<ShapeError>("layer {} (Add): input {} has shape {}, input 0 has shape {}", index, k, in[k], in[0]);
      }
    }
    return in[0];
  }

  [[nodiscard]] Matrix<T> forward(std::span<const Matrix<T>* const> x) const {
    Matrix<T> z = *x[0];
    for (std::size_t k = 1; k < x.size(); ++k) z += *x[k];
    return z;
  }
};

}  // namespace patternnet
