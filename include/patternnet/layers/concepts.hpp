#pragma once
// What a linear layer (Dense, Conv2D) provides: the two hooks every rule is written on.

#include <patternnet/core/batch.hpp>

#include <concepts>

namespace patternnet {

/// A layer z = W x + b whose rules substitute another matrix of W's shape for W:
/// apply_with(M, bias, x) is the forward with M, apply_transpose_with(M, r) its exact
/// transpose, samples(x) the neuron inputs one per row (what the estimators accumulate).
template <class L>
concept LinearLayer = requires(const L& layer, const Matrix<typename L::Scalar>& m,
                               const Vector<typename L::Scalar>& b) {
  { layer.weight() } -> std::convertible_to<const Matrix<typename L::Scalar>&>;
  { layer.bias() } -> std::convertible_to<const Vector<typename L::Scalar>&>;
  { layer.apply_with(m, b, m) } -> std::same_as<Matrix<typename L::Scalar>>;
  { layer.apply_transpose_with(m, m) } -> std::same_as<Matrix<typename L::Scalar>>;
  { layer.samples(m) } -> std::same_as<Matrix<typename L::Scalar>>;
  { layer.positions() } -> std::convertible_to<Index>;
};

}  // namespace patternnet
