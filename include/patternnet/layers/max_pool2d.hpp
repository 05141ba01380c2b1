#pragma once
// 2-D max pooling with a recorded argmax for gradient routing.

#include <patternnet/core/im2col.hpp>
#include <patternnet/core/parallel.hpp>
#include <patternnet/core/workspace.hpp>
#include <patternnet/layers/traits.hpp>
#include <patternnet/layers/options.hpp>

#include <string_view>

namespace patternnet {

/// Argmax of every output element: the flat input index (C, H, W order) it came from;
/// (out.size() x N).
using IndexMatrix = Eigen::Matrix<Index, Eigen::Dynamic, Eigen::Dynamic>;

/// Max pooling per channel over kernel windows (stride defaults to the kernel size).
/// Padding cells count as -infinity (PyTorch's semantics); padding must be at most half
/// the kernel so that every window holds an input cell. CeilMode adds a last, partial
/// window where PyTorch's ceil_mode does (as padding at the bottom and right). Ties go to the FIRST maximum in
/// row-major window order, as in PyTorch; the gradient (and every rule) routes the whole
/// quantity to that one input ("winner takes all").
template <class T>
class MaxPool2D {
public:
  using Scalar = T;
  static constexpr std::string_view name = "MaxPool2D";
  static constexpr LayerCategory category = LayerCategory::pooling;
  static constexpr std::uint32_t tag = 3;
  static constexpr Index arity = 1;
  using Cache = IndexMatrix;

  /// Rules see a max-pool layer through their max_pool() hook.
  template <class R, class Ctx>
  [[nodiscard]] static auto rule_hook(const R& rule, const MaxPool2D& layer, const Ctx& ctx, const Matrix<T>& r)
      -> decltype(rule.max_pool(layer, ctx, r)) {
    return rule.max_pool(layer, ctx, r);
  }

  explicit MaxPool2D(Kernel kernel) : MaxPool2D(kernel, Stride{kernel.h, kernel.w}) {}
  MaxPool2D(Kernel kernel, Stride stride, Padding padding = Padding{}, CeilMode ceil_mode = CeilMode{false})
      : kernel_(kernel), stride_(stride), padding_(padding), ceil_mode_(ceil_mode.enabled) {
    if (kernel.h < 1 || kernel.w < 1 || stride.h < 1 || stride.w < 1) {
      detail::fail<ConfigError>("MaxPool2D::MaxPool2D(): kernel {}x{} and stride {}x{} must be >= 1",
                                kernel.h, kernel.w, stride.h, stride.w);
    }
    // padding <= kernel / 2, written so that no padding overflows (2 * p could).
    if (padding.same_size || padding.h < 0 || padding.w < 0 || padding.h > kernel.h / 2 ||
        padding.w > kernel.w / 2) {
      detail::fail<ConfigError>(
          "MaxPool2D::MaxPool2D(): padding must be explicit, >= 0 and at most half the kernel "
          "({}x{}), got {}x{}",
          kernel.h, kernel.w, padding.h, padding.w);
    }
  }

  [[nodiscard]] Kernel kernel() const noexcept { return kernel_; }
  [[nodiscard]] Stride stride() const noexcept { return stride_; }
  [[nodiscard]] Padding padding() const noexcept { return padding_; }
  [[nodiscard]] bool ceil_mode() const noexcept { return ceil_mode_; }
  [[nodiscard]] const ConvGeometry& geometry() const noexcept { return geometry_; }

  Shape bind(Shape in, Index index) {
    ConvGeometry g{in, kernel_.h, kernel_.w, stride_.h, stride_.w, padding_.h,
                   padding_.h + ceil_extra(in.h, kernel_.h, stride_.h, padding_.h), padding_.w,
                   padding_.w + ceil_extra(in.w, kernel_.w, stride_.w, padding_.w)};
    if (!g.valid()) {
      detail::fail<ShapeError>("layer {} (MaxPool2D): input {}x{} with padding {}x{} is smaller than the kernel {}x{}",
                               index, in.h, in.w, padding_.h, padding_.w, kernel_.h, kernel_.w);
    }
    geometry_ = g;
    return Shape{in.c, g.out_h(), g.out_w()};
  }

  [[nodiscard]] Matrix<T> forward(const Matrix<T>& x) const {
    workspace::Scratch<Index> argmax(0, 0);
    return forward(x, *argmax);
  }

  /// Forward that also records the argmax of every output element.
  Matrix<T> forward(const Matrix<T>& x, IndexMatrix& argmax) const {
    const ConvGeometry& g = geometry_;
    const Index oh = g.out_h(), ow = g.out_w(), P = oh * ow, plane = g.in.h * g.in.w;
    Matrix<T> out = workspace::matrix<T>(g.in.c * P, x.cols());
    argmax = workspace::matrix<Index>(out.rows(), out.cols());
    [[maybe_unused]] const Index threads = detail::threads_for(x.cols());
    PATTERNNET_PARALLEL_FOR_SAMPLES
    for (Index n = 0; n < x.cols(); ++n) {
      for (Index c = 0; c < g.in.c; ++c) {
        const T* src = x.col(n).data() + c * plane;
        T* dst = out.col(n).data() + c * P;
        Index* arg = argmax.col(n).data() + c * P;
        for (Index oy = 0; oy < oh; ++oy) {
          const Index y0 = std::max<Index>(oy * g.stride_h - g.pad_top, 0);
          const Index y1 = std::min(oy * g.stride_h - g.pad_top + g.kernel_h, g.in.h);
          for (Index ox = 0; ox < ow; ++ox) {
            const Index x0 = std::max<Index>(ox * g.stride_w - g.pad_left, 0);
            const Index x1 = std::min(ox * g.stride_w - g.pad_left + g.kernel_w, g.in.w);
            Index where = y0 * g.in.w + x0;  // windows always hold an input cell (padding <= kernel / 2)
            T best = src[where];
            for (Index iy = y0; iy < y1; ++iy) {
              for (Index ix = x0; ix < x1; ++ix) {
                if (src[iy * g.in.w + ix] > best) best = src[iy * g.in.w + ix], where = iy * g.in.w + ix;
              }
            }
            dst[oy * ow + ox] = best;
            arg[oy * ow + ox] = c * plane + where;
          }
        }
      }
    }
    return out;
  }

  /// Routes r (out.size() x N) to the recorded argmax positions (winner takes all).
  [[nodiscard]] Matrix<T> gradient(const IndexMatrix& argmax, const Matrix<T>& r) const {
    Matrix<T> x = workspace::matrix<T>(geometry_.in.size(), r.cols());
    [[maybe_unused]] const Index threads = detail::threads_for(r.cols());
    PATTERNNET_PARALLEL_FOR_SAMPLES
    for (Index n = 0; n < r.cols(); ++n) {
      x.col(n).setZero();
      for (Index o = 0; o < r.rows(); ++o) x(argmax(o, n), n) += r(o, n);
    }
    return x;
  }

private:
  /// The bottom (right) padding that ceil_mode adds along one axis: enough for PyTorch's
  /// ceil((in + 2p - k) / s) + 1 windows, less the last one if it would start in the
  /// bottom padding (so every window still holds an input cell).
  [[nodiscard]] Index ceil_extra(Index in, Index k, Index s, Index p) const {
    const Index span = in + 2 * p - k;  // p <= k / 2 and in <= 2^16 from files: no overflow
    if (!ceil_mode_ || span < 0 || span % s == 0) return 0;
    Index out = span / s + 2;
    if ((out - 1) * s >= in + p) --out;
    return (out - 1) * s + k - (in + 2 * p);
  }

  Kernel kernel_;
  Stride stride_;
  Padding padding_;
  bool ceil_mode_ = false;
  ConvGeometry geometry_{};
};

}  // namespace patternnet
