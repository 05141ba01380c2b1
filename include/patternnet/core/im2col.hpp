#pragma once
// im2col / col2im: the patch matrix on which Conv2D is one GEMM and on which the
// conv signal estimators accumulate their statistics (one code path for both).
//
// Layout of the patch matrix `cols` for a batch of N samples with P = out_h * out_w
// output positions and K = C * kh * kw kernel taps: (N * P) x K, column-major.
// Row n * P + (oy * out_w + ox) is the patch seen by output position (oy, ox) of
// sample n; column k = (c * kh + i) * kw + j is the tap (c, i, j), i.e. the flattening
// of a PyTorch weight [F, C, kh, kw] into F x K. Zero padding is included as zeros.

#include <patternnet/core/batch.hpp>

#include <algorithm>

namespace patternnet {

/// Geometry of a 2-D convolution or pooling window on one input shape.
struct ConvGeometry {
  Shape in;
  Index kernel_h = 1, kernel_w = 1;
  Index stride_h = 1, stride_w = 1;
  Index pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  Index dilation_h = 1, dilation_w = 1;

  [[nodiscard]] constexpr Index out_h() const noexcept {
    return (in.h + pad_top + pad_bottom - dilation_h * (kernel_h - 1) - 1) / stride_h + 1;
  }
  [[nodiscard]] constexpr Index out_w() const noexcept {
    return (in.w + pad_left + pad_right - dilation_w * (kernel_w - 1) - 1) / stride_w + 1;
  }
  /// Output positions per sample.
  [[nodiscard]] constexpr Index positions() const noexcept { return out_h() * out_w(); }
  /// Kernel taps per output position: C * kh * kw.
  [[nodiscard]] constexpr Index taps() const noexcept { return in.c * kernel_h * kernel_w; }
  /// True if the padded input holds at least one full (dilated) window.
  [[nodiscard]] constexpr bool valid() const noexcept {
    return in.h + pad_top + pad_bottom >= dilation_h * (kernel_h - 1) + 1 &&
           in.w + pad_left + pad_right >= dilation_w * (kernel_w - 1) + 1;
  }
};

namespace detail {

/// The output columns ox in [lo, hi) whose tap ix = ox * stride + dx lies inside [0, width).
struct TapRange {
  Index lo, hi;
};
[[nodiscard]] constexpr TapRange tap_range(Index dx, Index stride, Index width, Index out_w) noexcept {
  const Index lo = dx >= 0 ? 0 : (-dx + stride - 1) / stride;
  const Index hi = width - dx <= 0 ? 0 : std::min(out_w, (width - dx + stride - 1) / stride);
  return {std::min(lo, hi), hi};
}

}  // namespace detail

/// Fills the patch matrix of output rows [oy0, oy1) of one sample x (in.size() values,
/// C, H, W order) into cols, column-major with leading dimension ld >= (oy1 - oy0) * out_w:
/// cols[k * ld + p] = tap k of position oy0 * out_w + p.
template <class T>
void im2col(const ConvGeometry& g, const T* x, T* cols, Index ld, Index oy0, Index oy1) {
  const Index ow = g.out_w();
  for (Index c = 0; c < g.in.c; ++c) {
    const T* src = x + c * g.in.h * g.in.w;
    for (Index i = 0; i < g.kernel_h; ++i) {
      for (Index j = 0; j < g.kernel_w; ++j) {
        T* dst = cols + ((c * g.kernel_h + i) * g.kernel_w + j) * ld;
        const Index dy = i * g.dilation_h - g.pad_top, dx = j * g.dilation_w - g.pad_left;
        const auto [lo, hi] = detail::tap_range(dx, g.stride_w, g.in.w, ow);
        for (Index oy = oy0; oy < oy1; ++oy, dst += ow) {
          const Index iy = oy * g.stride_h + dy;
          if (iy < 0 || iy >= g.in.h) {
            std::fill_n(dst, ow, T(0));
            continue;
          }
          const T* row = src + iy * g.in.w;
          std::fill_n(dst, lo, T(0));
          if (g.stride_w == 1) {
            std::copy(row + lo + dx, row + hi + dx, dst + lo);
          } else {
            for (Index ox = lo; ox < hi; ++ox) dst[ox] = row[ox * g.stride_w + dx];
          }
          std::fill(dst + hi, dst + ow, T(0));
        }
      }
    }
  }
}

/// The exact adjoint of im2col for output rows [oy0, oy1) of one sample: adds every patch
/// in cols (leading dimension ld) to the pixels of x it was read from (padding taps are
/// dropped).
template <class T>
void col2im_add(const ConvGeometry& g, const T* cols, Index ld, Index oy0, Index oy1, T* x) {
  const Index ow = g.out_w();
  for (Index c = 0; c < g.in.c; ++c) {
    T* img = x + c * g.in.h * g.in.w;
    for (Index i = 0; i < g.kernel_h; ++i) {
      for (Index j = 0; j < g.kernel_w; ++j) {
        const T* src = cols + ((c * g.kernel_h + i) * g.kernel_w + j) * ld;
        const Index dy = i * g.dilation_h - g.pad_top, dx = j * g.dilation_w - g.pad_left;
        const auto [lo, hi] = detail::tap_range(dx, g.stride_w, g.in.w, ow);
        for (Index oy = oy0; oy < oy1; ++oy, src += ow) {
          const Index iy = oy * g.stride_h + dy;
          if (iy < 0 || iy >= g.in.h) continue;
          T* row = img + iy * g.in.w;
          for (Index ox = lo; ox < hi; ++ox) row[ox * g.stride_w + dx] += src[ox];
        }
      }
    }
  }
}

/// Fills cols ((N*P) x K) with the patches of every sample of x (in.size() x N).
template <class T>
void im2col(const ConvGeometry& g, const Matrix<T>& x, Matrix<T>& cols) {
  const Index P = g.positions();
  cols.resize(x.cols() * P, g.taps());
  for (Index n = 0; n < x.cols(); ++n) im2col(g, x.col(n).data(), cols.data() + n * P, cols.rows(), 0, g.out_h());
}

/// The exact adjoint of im2col: x (in.size() x N) = sum of the patches in cols
/// scattered back to the pixels they were read from (padding taps are dropped).
template <class T>
void col2im(const ConvGeometry& g, const Matrix<T>& cols, Index n_samples, Matrix<T>& x) {
  const Index P = g.positions();
  x.setZero(g.in.size(), n_samples);
  for (Index n = 0; n < n_samples; ++n) col2im_add(g, cols.data() + n * P, cols.rows(), 0, g.out_h(), x.col(n).data());
}

/// Rearranges a batch r ((F*P) x N in C, H, W order) into one row per output position:
/// z(n*P + p, f) = r(f*P + p, n).
template <class T>
void batch_to_positions(const Matrix<T>& r, Index positions, Matrix<T>& z) {
  const Index n_samples = r.cols(), F = r.rows() / positions;
  z.resize(n_samples * positions, F);
  for (Index n = 0; n < n_samples; ++n) {
    for (Index f = 0; f < F; ++f) {
      z.col(f).segment(n * positions, positions) = r.col(n).segment(f * positions, positions);
    }
  }
}

}  // namespace patternnet
