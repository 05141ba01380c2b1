#pragma once
// Flatten: C x H x W -> (C*H*W) x 1 x 1. Samples are already stored flat in C, H, W
// order, so the data passes unchanged; only the shape changes.

#include <patternnet/core/batch.hpp>

#include <string_view>

namespace patternnet {

template <class T>
class Flatten {
public:
  using Scalar = T;
  static constexpr std::string_view name = "Flatten";

  Shape bind(Shape in, Index /*index*/) const noexcept { return Shape{in.size(), 1, 1}; }
  [[nodiscard]] Matrix<T> forward(const Matrix<T>& x) const { return x; }
};

}  // namespace patternnet
