#pragma once
// DeConvNet (Zeiler & Fergus 2014): the gradient, except that ReLU back-propagates the
// positive part of what arrives, ignoring the forward mask.

#include <patternnet/rules/gradient.hpp>

namespace patternnet::rules {

/// ReLU backward = max(r, 0) (docs/concepts.md, rule table); linear layers W^T r, max-pool to
/// the argmax, as the gradient. Seed 1. Equals the gradient on a model without ReLUs.
struct DeConvNet : Gradient {
  template <class T>
  [[nodiscard]] Matrix<T> relu(const ReLU<T>& /*layer*/, const LayerContext<T>& /*ctx*/,
                               const Matrix<T>& r) const {
    return r.cwiseMax(T(0));
  }
};

}  // namespace patternnet::rules
