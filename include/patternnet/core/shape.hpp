#pragma once
// Shape of one sample: channels x height x width. A flat feature vector of n values
// is Shape{n, 1, 1}. Samples are always flattened in C, H, W (row-major) order, so a
// Flatten followed by Dense matches PyTorch weights without reshuffling.

#include <Eigen/Core>
#include <fmt/format.h>

namespace patternnet {

using Index = Eigen::Index;

struct Shape {
  Index c = 0;
  Index h = 1;
  Index w = 1;

  /// Number of scalars in one sample.
  [[nodiscard]] constexpr Index size() const noexcept { return c * h * w; }
  /// size(), or -1 if c * h * w overflows Index (Graph::set_input_shape() rejects such shapes,
  /// so size() never overflows on a bound network).
  [[nodiscard]] constexpr Index checked_size() const noexcept {
    Index ch = 0, chw = 0;
    if (__builtin_mul_overflow(c, h, &ch) || __builtin_mul_overflow(ch, w, &chw)) return -1;
    return chw;
  }
  /// Flat index of (channel, row, column) in C, H, W order.
  [[nodiscard]] constexpr Index at(Index ch, Index row, Index col) const noexcept {
    return (ch * h + row) * w + col;
  }
  [[nodiscard]] constexpr bool is_flat() const noexcept { return h == 1 && w == 1; }
  friend constexpr bool operator==(const Shape&, const Shape&) = default;
};

}  // namespace patternnet

template <>
struct fmt::formatter<patternnet::Shape> : fmt::formatter<fmt::string_view> {
  template <class Context>
  auto format(const patternnet::Shape& s, Context& ctx) const {
    return fmt::format_to(ctx.out(), "[{}, {}, {}]", s.c, s.h, s.w);
  }
};
