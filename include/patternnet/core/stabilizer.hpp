#pragma once
// The sign-aware stabiliser of the LRP rules (Zennit's `stabilize`): every division by a
// data-dependent LRP denominator z goes through it.

#include <patternnet/core/batch.hpp>

namespace patternnet {

/// stab(z) = z + eps * sign(z) element-wise, with sign(0) = +1 (Zennit's convention; docs/methods.md).
/// |stab(z)| >= eps, so for eps > 0 the quotient r / stab(z) is finite for finite r.
/// eps = 0 leaves z unchanged (a zero denominator then gives Inf/NaN, which explain()
/// reports with the layer where it appeared).
template <class Derived>
[[nodiscard]] Matrix<typename Derived::Scalar> stabilize(const Eigen::MatrixBase<Derived>& z,
                                                         typename Derived::Scalar eps) {
  using T = typename Derived::Scalar;
  return (z.array() >= T(0)).select(z.array() + eps, z.array() - eps).matrix();
}

}  // namespace patternnet
