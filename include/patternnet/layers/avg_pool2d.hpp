#pragma once
// 2-D average pooling with PyTorch's semantics (torch.nn.AvgPool2d): kernel, stride,
// zero padding, count_include_pad and ceil_mode.

#include <patternnet/core/batch.hpp>
#include <patternnet/layers/options.hpp>
#include <patternnet/layers/traits.hpp>

#include <algorithm>
#include <string_view>
#include <vector>

namespace patternnet {

/// Whether AvgPool2D divides by the window including its padding cells (PyTorch's
/// default) or by the input cells it covers only.
struct CountIncludePad {
  bool enabled = true;
  constexpr explicit CountIncludePad(bool on) : enabled(on) {}
};

/// Average pooling per channel over kernel windows: z[c, oy, ox] = (1 / d) * sum of
/// x[c, iy, ix] over the window's input cells, d = the window's size clipped to the padded
/// input (count_include_pad, the default) or the number of its input cells. Stride
/// defaults to the kernel size; padding must be at most half the kernel (as in PyTorch).
/// A linear map without weights: rules see it through avg_pool() with forward() and its
/// exact adjoint transpose().
template <class T>
class AvgPool2D {
public:
  using Scalar = T;
  static constexpr std::string_view name = "AvgPool2D";
  static constexpr LayerCategory category = LayerCategory::pooling;
  static constexpr std::uint32_t tag = 6;
  static constexpr Index arity = 1;
  using Cache = NoCache;

  /// Rules see an average-pooling layer through their avg_pool() hook.
  template <class R, class Ctx>
  [[nodiscard]] static auto rule_hook(const R& rule, const AvgPool2D& layer, const Ctx& ctx, const Matrix<T>& r)
      -> decltype(rule.avg_pool(layer, ctx, r)) {
    return rule.avg_pool(layer, ctx, r);
  }

  /// Options in any order: Stride (default: the kernel), Padding, CountIncludePad, CeilMode.
  template <class... Options>
  explicit AvgPool2D(Kernel kernel, Options... options) : kernel_(kernel), stride_(kernel.h, kernel.w) {
    (set(options), ...);
    if (kernel_.h < 1 || kernel_.w < 1 || stride_.h < 1 || stride_.w < 1) {
      detail::fail<ConfigError>("AvgPool2D::AvgPool2D(): kernel {}x{} and stride {}x{} must be >= 1", kernel_.h,
                                kernel_.w, stride_.h, stride_.w);
    }
    // padding <= kernel / 2, written so that no padding overflows (2 * p could).
    if (padding_.same_size || padding_.h < 0 || padding_.w < 0 || padding_.h > kernel_.h / 2 ||
        padding_.w > kernel_.w / 2) {
      detail::fail<ConfigError>(
          "AvgPool2D::AvgPool2D(): padding must be explicit, >= 0 and at most half the kernel ({}x{}), got {}x{}",
          kernel_.h, kernel_.w, padding_.h, padding_.w);
    }
  }

  [[nodiscard]] Kernel kernel() const noexcept { return kernel_; }
  [[nodiscard]] Stride stride() const noexcept { return stride_; }
  [[nodiscard]] Padding padding() const noexcept { return padding_; }
  [[nodiscard]] bool count_include_pad() const noexcept { return count_include_pad_; }
  [[nodiscard]] bool ceil_mode() const noexcept { return ceil_mode_; }

  Shape bind(Shape in, Index index) {
    const Index oh = out_size(in.h, kernel_.h, stride_.h, padding_.h);
    const Index ow = out_size(in.w, kernel_.w, stride_.w, padding_.w);
    if (oh < 1 || ow < 1) {
      detail::fail<ShapeError>("layer {} (AvgPool2D): input {}x{} with padding {}x{} is smaller than the kernel {}x{}",
                               index, in.h, in.w, padding_.h, padding_.w, kernel_.h, kernel_.w);
    }
    in_ = in;
    rows_ = windows(in.h, oh, kernel_.h, stride_.h, padding_.h);
    cols_ = windows(in.w, ow, kernel_.w, stride_.w, padding_.w);
    return Shape{in.c, oh, ow};
  }

  /// z = the window averages of x.
  [[nodiscard]] Matrix<T> forward(const Matrix<T>& x) const {
    const Index oh = static_cast<Index>(rows_.size()), ow = static_cast<Index>(cols_.size());
    Matrix<T> out(in_.c * oh * ow, x.cols());
    for (Index n = 0; n < x.cols(); ++n) {
      for (Index c = 0; c < in_.c; ++c) {
        const T* src = x.col(n).data() + c * in_.h * in_.w;
        T* dst = out.col(n).data() + c * oh * ow;
        for (Index oy = 0; oy < oh; ++oy) {
          const Window& wy = rows_[static_cast<std::size_t>(oy)];
          for (Index ox = 0; ox < ow; ++ox) {
            const Window& wx = cols_[static_cast<std::size_t>(ox)];
            T sum(0);
            for (Index iy = wy.begin; iy < wy.end; ++iy) {
              for (Index ix = wx.begin; ix < wx.end; ++ix) sum += src[iy * in_.w + ix];
            }
            dst[oy * ow + ox] = sum / divisor(wy, wx);
          }
        }
      }
    }
    return out;
  }

  /// The exact adjoint of forward(): every output's r spread over its window, divided by d.
  [[nodiscard]] Matrix<T> transpose(const Matrix<T>& r) const {
    const Index oh = static_cast<Index>(rows_.size()), ow = static_cast<Index>(cols_.size());
    Matrix<T> x = Matrix<T>::Zero(in_.size(), r.cols());
    for (Index n = 0; n < r.cols(); ++n) {
      for (Index c = 0; c < in_.c; ++c) {
        const T* src = r.col(n).data() + c * oh * ow;
        T* dst = x.col(n).data() + c * in_.h * in_.w;
        for (Index oy = 0; oy < oh; ++oy) {
          const Window& wy = rows_[static_cast<std::size_t>(oy)];
          for (Index ox = 0; ox < ow; ++ox) {
            const Window& wx = cols_[static_cast<std::size_t>(ox)];
            const T share = src[oy * ow + ox] / divisor(wy, wx);
            for (Index iy = wy.begin; iy < wy.end; ++iy) {
              for (Index ix = wx.begin; ix < wx.end; ++ix) dst[iy * in_.w + ix] += share;
            }
          }
        }
      }
    }
    return x;
  }

private:
  /// One window along one axis: its input cells [begin, end) and its size in the padded input.
  struct Window {
    Index begin, end, padded;
  };

  void set(Stride s) { stride_ = s; }
  void set(Padding p) { padding_ = p; }
  void set(CountIncludePad c) { count_include_pad_ = c.enabled; }
  void set(CeilMode c) { ceil_mode_ = c.enabled; }

  /// PyTorch's pooling output size; with ceil_mode a last window must start inside the
  /// input or its left padding.
  [[nodiscard]] Index out_size(Index in, Index k, Index s, Index p) const {
    const Index span = in + 2 * p - k;
    if (span < 0) return 0;
    Index out = (ceil_mode_ ? (span + s - 1) / s : span / s) + 1;
    if (ceil_mode_ && (out - 1) * s >= in + p) --out;
    return out;
  }

  static std::vector<Window> windows(Index in, Index out, Index k, Index s, Index p) {
    std::vector<Window> w;
    w.reserve(static_cast<std::size_t>(out));
    for (Index o = 0; o < out; ++o) {
      const Index start = o * s - p, stop = std::min(start + k, in + p);
      w.push_back({std::max<Index>(start, 0), std::min(stop, in), stop - start});
    }
    return w;
  }

  [[nodiscard]] T divisor(const Window& y, const Window& x) const {
    return count_include_pad_ ? static_cast<T>(y.padded * x.padded)
                              : static_cast<T>((y.end - y.begin) * (x.end - x.begin));
  }

  Kernel kernel_;
  Stride stride_;
  Padding padding_{};
  bool count_include_pad_ = true;
  bool ceil_mode_ = false;
  Shape in_{};
  std::vector<Window> rows_, cols_;
};

}  // namespace patternnet
