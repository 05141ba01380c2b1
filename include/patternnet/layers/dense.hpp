#pragma once
// Dense (fully connected) layer: z = W x + b with W out x in (PyTorch's layout).

#include <patternnet/core/allocation.hpp>
#include <patternnet/core/batch.hpp>
#include <patternnet/core/workspace.hpp>
#include <patternnet/layers/traits.hpp>
#include <patternnet/layers/options.hpp>

#include <string_view>
#include <utility>

namespace patternnet {

/// A fully connected layer.
///
/// Represents z = W x + b for every sample column x. W has PyTorch's shape
/// (out_features x in_features); the bias is optional (an empty vector = no bias).
/// Weights are zero after the size constructor: set them with weight() or
/// initialise them (e.g. pn::training::initialize_he). The input may have any Shape whose size
/// is in_features (a C x H x W input is read in C, H, W order).
template <class T>
class Dense {
public:
  using Scalar = T;
  static constexpr std::string_view name = "Dense";
  static constexpr LayerCategory category = LayerCategory::linear;
  static constexpr std::uint32_t tag = 0;
  static constexpr Index arity = 1;
  using Cache = NoCache;

  /// Rules see a Dense layer through their linear() hook.
  template <class R, class Ctx>
  [[nodiscard]] static auto rule_hook(const R& rule, const Dense& layer, const Ctx& ctx, const Matrix<T>& r)
      -> decltype(rule.linear(layer, ctx, r)) {
    return rule.linear(layer, ctx, r);
  }

  /// Throws ConfigError for features < 1 or a weight of more than 2^32 values
  /// (detail::kMaxLayerParameters), before anything is allocated.
  Dense(Index in_features, Index out_features, Bias bias = Bias{true}) {
    constexpr const char* where = "Dense::Dense()";
    if (in_features < 1 || out_features < 1) {
      detail::fail<ConfigError>("{}: features must be >= 1, got in = {}, out = {}", where, in_features, out_features);
    }
    (void)detail::checked_count(where, "the weight", {out_features, in_features});
    weight_ = detail::zeros<Matrix<T>>(where, "the weight", out_features, in_features);
    if (bias.enabled) bias_ = detail::zeros<Vector<T>>(where, "the bias", out_features);
  }
  /// Takes W (out x in) and b (size out, or empty for no bias).
  explicit Dense(Matrix<T> weight, Vector<T> bias = {})
      : weight_(std::move(weight)), bias_(std::move(bias)) {
    if (weight_.size() == 0) detail::fail<ConfigError>("Dense::Dense(): empty weight matrix");
    if (bias_.size() != 0 && bias_.size() != weight_.rows()) {
      detail::fail<ShapeError>("Dense::Dense(): weight has {} rows but bias has {} entries",
                               weight_.rows(), bias_.size());
    }
  }

  [[nodiscard]] Index in_features() const noexcept { return weight_.cols(); }
  [[nodiscard]] Index out_features() const noexcept { return weight_.rows(); }
  [[nodiscard]] const Matrix<T>& weight() const noexcept { return weight_; }
  [[nodiscard]] Matrix<T>& weight() noexcept { return weight_; }
  [[nodiscard]] const Vector<T>& bias() const noexcept { return bias_; }
  [[nodiscard]] Vector<T>& bias() noexcept { return bias_; }
  [[nodiscard]] bool has_bias() const noexcept { return bias_.size() != 0; }

  /// Checks the input shape (layer `index` of a network) and returns the output shape.
  Shape bind(Shape in, Index index) {
    if (in.size() != in_features()) {
      detail::fail<ShapeError>("layer {} (Dense) expects {} input features, got {} (shape {})",
                               index, in_features(), in.size(), in);
    }
    return Shape{out_features(), 1, 1};
  }

  /// z = W x + b.
  [[nodiscard]] Matrix<T> forward(const Matrix<T>& x) const { return apply_with(weight_, bias_, x); }

  /// Forward hook: m x + bias for any m of W's shape (bias may be empty).
  template <class M>
  [[nodiscard]] Matrix<T> apply_with(const Eigen::MatrixBase<M>& m, const Vector<T>& bias,
                                     const Matrix<T>& x) const {
    Matrix<T> z = workspace::matrix<T>(m.rows(), x.cols());
    z.noalias() = m * x;
    if (bias.size() != 0) z.colwise() += bias;
    return z;
  }

  /// Transpose hook: the exact adjoint of apply_with(m, 0, .), i.e. m^T r.
  template <class M>
  [[nodiscard]] Matrix<T> apply_transpose_with(const Eigen::MatrixBase<M>& m,
                                               const Matrix<T>& r) const {
    Matrix<T> x = workspace::matrix<T>(m.cols(), r.cols());
    x.noalias() = m.transpose() * r;
    return x;
  }

  /// The samples seen by the neurons: one row per sample (x^T), as the statistics use them.
  [[nodiscard]] Matrix<T> samples(const Matrix<T>& x) const { return workspace::evaluate(x.transpose()); }
  /// Number of neuron samples per input sample (1 for Dense).
  [[nodiscard]] Index positions() const noexcept { return 1; }

private:
  Matrix<T> weight_;
  Vector<T> bias_;
};

}  // namespace patternnet
