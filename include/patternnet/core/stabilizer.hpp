#pragma once
// The sign-aware stabiliser of the LRP rules (Zennit's `stabilize`): every division by a
// data-dependent LRP denominator z goes through it.

#include <patternnet/core/batch.hpp>
#include <patternnet/core/workspace.hpp>

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

namespace detail {

/// r / stab(z) element-wise in one pass, into a workspace buffer: the same numbers as
/// r.cwiseQuotient(stabilize(z, eps)) without the temporary stab(z).
template <class T, class Z>
[[nodiscard]] Matrix<T> divide_stabilized(const Matrix<T>& r, const Eigen::MatrixBase<Z>& z, T eps) {
  return workspace::evaluate(
      r.binaryExpr(z.derived(), [eps](T a, T b) { return a / (b >= T(0) ? b + eps : b - eps); }));
}

}  // namespace detail

}  // namespace patternnet
