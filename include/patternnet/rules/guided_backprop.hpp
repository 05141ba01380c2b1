#pragma once
// Guided Backprop (Springenberg et al. 2015): the gradient, except that ReLU also drops
// the negative part of what arrives.

#include <patternnet/rules/gradient.hpp>

namespace patternnet::rules {

/// ReLU backward = max(r, 0) * 1[z > 0], z the ReLU's recorded input (docs/concepts.md
/// table); linear layers W^T r, max-pool to the argmax, as the gradient. Seed 1. Equals the
/// gradient on a model without ReLUs.
struct GuidedBackprop : Gradient {
  template <class T>
  [[nodiscard]] Matrix<T> relu(const ReLU<T>& /*layer*/, const LayerContext<T>& ctx,
                               const Matrix<T>& r) const {
    return (ctx.input.array() > T(0) && r.array() > T(0)).select(r, T(0));
  }
};

}  // namespace patternnet::rules
