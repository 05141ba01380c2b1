#pragma once
// Global average pooling: the mean of every channel (torch.nn.AdaptiveAvgPool2d(1)).

#include <patternnet/core/batch.hpp>
#include <patternnet/layers/traits.hpp>

#include <string_view>

namespace patternnet {

/// z[c] = (1 / (H W)) * sum over the H x W plane of channel c; output shape C x 1 x 1.
/// A linear map without weights: rules see it through avg_pool() with forward() and its
/// exact adjoint transpose().
template <class T>
class GlobalAvgPool2D {
public:
  using Scalar = T;
  static constexpr std::string_view name = "GlobalAvgPool2D";
  static constexpr LayerCategory category = LayerCategory::pooling;
  static constexpr std::uint32_t tag = 7;
  static constexpr Index arity = 1;
  using Cache = NoCache;

  /// Rules see a global average pooling through their avg_pool() hook.
  template <class R, class Ctx>
  [[nodiscard]] static auto rule_hook(const R& rule, const GlobalAvgPool2D& layer, const Ctx& ctx,
                                           const Matrix<T>& r)
      -> decltype(rule.avg_pool(layer, ctx, r)) {
    return rule.avg_pool(layer, ctx, r);
  }

  Shape bind(Shape in, Index /*index*/) {
    in_ = in;
    return Shape{in.c, 1, 1};
  }

  [[nodiscard]] Matrix<T> forward(const Matrix<T>& x) const {
    const Index plane = in_.h * in_.w;
    Matrix<T> out(in_.c, x.cols());
    for (Index n = 0; n < x.cols(); ++n) {
      for (Index c = 0; c < in_.c; ++c) out(c, n) = x.col(n).segment(c * plane, plane).sum() / static_cast<T>(plane);
    }
    return out;
  }

  /// The exact adjoint of forward(): r[c] / (H W) on every cell of channel c.
  [[nodiscard]] Matrix<T> transpose(const Matrix<T>& r) const {
    const Index plane = in_.h * in_.w;
    Matrix<T> x(in_.size(), r.cols());
    for (Index n = 0; n < r.cols(); ++n) {
      for (Index c = 0; c < in_.c; ++c) x.col(n).segment(c * plane, plane).setConstant(r(c, n) / static_cast<T>(plane));
    }
    return x;
  }

private:
  Shape in_{};
};

}  // namespace patternnet
