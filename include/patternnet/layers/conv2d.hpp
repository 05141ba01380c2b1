#pragma once
// 2-D convolution (cross-correlation, as in PyTorch): per sample, im2col + one GEMM.

#include <patternnet/core/allocation.hpp>
#include <patternnet/core/im2col.hpp>
#include <patternnet/core/parallel.hpp>
#include <patternnet/core/workspace.hpp>
#include <patternnet/layers/traits.hpp>
#include <patternnet/layers/options.hpp>

#include <algorithm>
#include <string_view>
#include <utility>

namespace patternnet {

/// A 2-D convolution layer.
///
/// Represents z[f, oy, ox] = b[f] + sum_{c,i,j} W[f, c, i, j] * x[c, oy*s + i*d - p, ox*s + j*d - p]
/// with zero padding. The weight is stored as PyTorch's [F, C, kh, kw] flattened to an
/// F x (C*kh*kw) matrix (weight()), so one neuron = one output channel = one row.
/// Options (any order): Padding, Stride, Dilation, Bias. Weights are zero after the
/// size constructor.
template <class T>
class Conv2D {
public:
  using Scalar = T;
  static constexpr std::string_view name = "Conv2D";
  static constexpr LayerCategory category = LayerCategory::linear;
  static constexpr std::uint32_t tag = 1;
  static constexpr Index arity = 1;
  using Cache = NoCache;

  /// Rules see a Conv2D layer through their linear() hook.
  template <class R, class Ctx>
  [[nodiscard]] static auto rule_hook(const R& rule, const Conv2D& layer, const Ctx& ctx, const Matrix<T>& r)
      -> decltype(rule.linear(layer, ctx, r)) {
    return rule.linear(layer, ctx, r);
  }

  /// Throws ConfigError for sizes < 1, a negative padding or a weight of more than 2^32
  /// values (detail::kMaxLayerParameters), before anything is allocated.
  template <class... Options>
  Conv2D(Index in_channels, Index out_channels, Kernel kernel, Options... options)
      : in_channels_(in_channels), kernel_(kernel) {
    (set(options), ...);
    constexpr const char* where = "Conv2D::Conv2D()";
    validate(where, out_channels);
    const Index taps = detail::checked_count(where, "the weight", {in_channels, kernel.h, kernel.w});
    (void)detail::checked_count(where, "the weight", {out_channels, taps});
    weight_ = detail::zeros<Matrix<T>>(where, "the weight", out_channels, taps);
    if (with_bias_) bias_ = detail::zeros<Vector<T>>(where, "the bias", out_channels);
  }
  /// Takes the weight as F x (C*kh*kw) and the bias (size F, or empty for no bias).
  template <class... Options>
  Conv2D(Matrix<T> weight, Vector<T> bias, Index in_channels, Kernel kernel, Options... options)
      : in_channels_(in_channels), kernel_(kernel), weight_(std::move(weight)),
        bias_(std::move(bias)) {
    (set(options), ...);
    validate("Conv2D::Conv2D()", weight_.rows());
    if (weight_.cols() != detail::checked_count("Conv2D::Conv2D()", "the weight", {in_channels, kernel.h, kernel.w})) {
      detail::fail<ShapeError>(
          "Conv2D::Conv2D(): weight has {} columns, expected C*kh*kw = {}*{}*{} = {}",
          weight_.cols(), in_channels, kernel.h, kernel.w, in_channels * kernel.h * kernel.w);
    }
    if (bias_.size() != 0 && bias_.size() != weight_.rows()) {
      detail::fail<ShapeError>("Conv2D::Conv2D(): weight has {} output channels but bias has {} entries",
                               weight_.rows(), bias_.size());
    }
  }

  [[nodiscard]] Index in_channels() const noexcept { return in_channels_; }
  [[nodiscard]] Index out_channels() const noexcept { return weight_.rows(); }
  [[nodiscard]] Kernel kernel() const noexcept { return kernel_; }
  [[nodiscard]] Stride stride() const noexcept { return stride_; }
  [[nodiscard]] Dilation dilation() const noexcept { return dilation_; }
  [[nodiscard]] Padding padding() const noexcept { return padding_; }
  [[nodiscard]] const Matrix<T>& weight() const noexcept { return weight_; }
  [[nodiscard]] Matrix<T>& weight() noexcept { return weight_; }
  [[nodiscard]] const Vector<T>& bias() const noexcept { return bias_; }
  [[nodiscard]] Vector<T>& bias() noexcept { return bias_; }
  [[nodiscard]] bool has_bias() const noexcept { return bias_.size() != 0; }
  /// The geometry on the bound input shape (valid after bind()).
  [[nodiscard]] const ConvGeometry& geometry() const noexcept { return geometry_; }
  /// Output positions per sample (valid after bind()).
  [[nodiscard]] Index positions() const noexcept { return geometry_.positions(); }

  /// Checks the input shape (layer `index` of a network), fixes the geometry and
  /// returns the output shape.
  Shape bind(Shape in, Index index) {
    if (in.c != in_channels_) {
      detail::fail<ShapeError>("layer {} (Conv2D) expects {} input channels, got {} (shape {})",
                               index, in_channels_, in.c, in);
    }
    ConvGeometry g{in, kernel_.h, kernel_.w, stride_.h, stride_.w};
    g.dilation_h = dilation_.h;
    g.dilation_w = dilation_.w;
    if (padding_.same_size) {
      if (stride_.h != 1 || stride_.w != 1) {
        detail::fail<ConfigError>("layer {} (Conv2D): Padding::same() requires stride 1, got {}x{}",
                                  index, stride_.h, stride_.w);
      }
      const Index th = dilation_.h * (kernel_.h - 1), tw = dilation_.w * (kernel_.w - 1);
      g.pad_top = th / 2, g.pad_bottom = th - th / 2, g.pad_left = tw / 2, g.pad_right = tw - tw / 2;
    } else {
      g.pad_top = g.pad_bottom = padding_.h;
      g.pad_left = g.pad_right = padding_.w;
    }
    if (!g.valid()) {
      detail::fail<ShapeError>(
          "layer {} (Conv2D): input {}x{} with padding {}x{} is smaller than the dilated kernel {}x{}",
          index, in.h, in.w, padding_.h, padding_.w, dilation_.h * (kernel_.h - 1) + 1,
          dilation_.w * (kernel_.w - 1) + 1);
    }
    geometry_ = g;
    return Shape{out_channels(), g.out_h(), g.out_w()};
  }

  /// z = conv(x) + b.
  [[nodiscard]] Matrix<T> forward(const Matrix<T>& x) const { return apply_with(weight_, bias_, x); }

  /// Forward hook: the convolution with any kernel matrix m of W's shape (bias may be empty).
  /// Sample by sample (on several threads: core/parallel.hpp), in blocks of output rows
  /// (block_rows()): the block's patch matrix times m^T is written straight into the
  /// sample's output column, seen as P x F (the C, H, W order), so the patches stay in
  /// cache and no batch-sized temporary is made.
  template <class M>
  [[nodiscard]] Matrix<T> apply_with(const Eigen::MatrixBase<M>& m, const Vector<T>& bias,
                                     const Matrix<T>& x) const {
    const Eigen::Ref<const Matrix<T>> w(m);  // an expression m is evaluated once
    const Index P = geometry_.positions(), F = w.rows(), ow = geometry_.out_w(), rows = block_rows(w.cols());
    const Index N = x.cols(), threads = detail::threads_for(N);
    Matrix<T> out = workspace::matrix<T>(F * P, N);
    workspace::Scratch<T> cols(rows * ow * w.cols(), threads);  // one patch block per thread
    PATTERNNET_PARALLEL_FOR_SAMPLES
    for (Index n = 0; n < N; ++n) {
      T* patches = cols->col(detail::thread_index()).data();
      Eigen::Map<Matrix<T>> z(out.col(n).data(), P, F);
      for (Index oy = 0; oy < geometry_.out_h(); oy += rows) {
        const Index end = std::min(oy + rows, geometry_.out_h()), np = (end - oy) * ow;
        im2col(geometry_, x.col(n).data(), patches, np, oy, end);
        const Eigen::Map<const Matrix<T>> block(patches, np, w.cols());
        z.middleRows(oy * ow, np).noalias() = block * w.transpose();
      }
      if (bias.size() != 0) z.rowwise() += bias.transpose();
    }
    return out;
  }

  /// Transpose hook: the exact adjoint of apply_with(m, 0, .) (the transposed convolution),
  /// in the same blocks: the patch gradients r_n (positions x F) * m, scattered back by col2im.
  template <class M>
  [[nodiscard]] Matrix<T> apply_transpose_with(const Eigen::MatrixBase<M>& m,
                                               const Matrix<T>& r) const {
    const Eigen::Ref<const Matrix<T>> w(m);
    const Index P = geometry_.positions(), ow = geometry_.out_w(), rows = block_rows(w.cols());
    const Index N = r.cols(), threads = detail::threads_for(N);
    Matrix<T> x = workspace::matrix<T>(geometry_.in.size(), N);
    workspace::Scratch<T> dcols(rows * ow * w.cols(), threads);
    PATTERNNET_PARALLEL_FOR_SAMPLES
    for (Index n = 0; n < N; ++n) {
      T* patches = dcols->col(detail::thread_index()).data();
      x.col(n).setZero();
      const Eigen::Map<const Matrix<T>> rz(r.col(n).data(), P, w.rows());
      for (Index oy = 0; oy < geometry_.out_h(); oy += rows) {
        const Index end = std::min(oy + rows, geometry_.out_h()), np = (end - oy) * ow;
        Eigen::Map<Matrix<T>> block(patches, np, w.cols());
        block.noalias() = rz.middleRows(oy * ow, np) * w;
        col2im_add(geometry_, patches, np, oy, end, x.col(n).data());
      }
    }
    return x;
  }

  /// The samples seen by the neurons: the patch matrix, one row per output position.
  [[nodiscard]] Matrix<T> samples(const Matrix<T>& x) const {
    Matrix<T> cols = workspace::matrix<T>(x.cols() * geometry_.positions(), geometry_.taps());
    im2col(geometry_, x, cols);
    return cols;
  }

private:
  /// Output rows per block: a patch block of about kBlockValues values (1 MiB of float),
  /// at least one row.
  [[nodiscard]] Index block_rows(Index taps) const noexcept {
    constexpr Index kBlockValues = Index{1} << 18;
    return std::clamp<Index>(kBlockValues / std::max<Index>(geometry_.out_w() * taps, 1), 1, geometry_.out_h());
  }

  void set(Padding p) { padding_ = p; }
  void set(Stride s) { stride_ = s; }
  void set(Dilation d) { dilation_ = d; }
  void set(Bias b) { with_bias_ = b.enabled; }

  void validate(const char* where, Index out_channels) const {
    if (in_channels_ < 1 || out_channels < 1) {
      detail::fail<ConfigError>("{}: channels must be >= 1, got in = {}, out = {}", where,
                                in_channels_, out_channels);
    }
    if (kernel_.h < 1 || kernel_.w < 1 || stride_.h < 1 || stride_.w < 1 || dilation_.h < 1 ||
        dilation_.w < 1) {
      detail::fail<ConfigError>("{}: kernel {}x{}, stride {}x{} and dilation {}x{} must be >= 1",
                                where, kernel_.h, kernel_.w, stride_.h, stride_.w, dilation_.h,
                                dilation_.w);
    }
    if (padding_.h < 0 || padding_.w < 0) {
      detail::fail<ConfigError>("{}: padding must be >= 0, got {}x{}", where, padding_.h, padding_.w);
    }
  }

  Index in_channels_;
  Kernel kernel_;
  Stride stride_{};
  Dilation dilation_{};
  Padding padding_{};
  bool with_bias_ = true;
  ConvGeometry geometry_{};
  Matrix<T> weight_;
  Vector<T> bias_;
};

}  // namespace patternnet
