#pragma once
// The gradient rule (the base every other rule inherits from) and input x gradient.

#include <patternnet/rules/rule.hpp>

namespace patternnet::rules {

/// d y_c / d x: linear layers back-project with W^T, ReLU gates by its forward mask,
/// max-pool routes to the argmax, average pooling and batch normalisation apply their
/// transposes, softmax its Jacobian; Add gives every input r, Concat splits r. Seed 1.
struct Gradient {
  [[nodiscard]] Seed seed() const noexcept { return Seed::one; }

  template <LinearLayer L, class T>
  [[nodiscard]] Matrix<T> linear(const L& layer, const LayerContext<T>& /*ctx*/,
                                 const Matrix<T>& r) const {
    return layer.apply_transpose_with(layer.weight(), r);
  }
  template <class T>
  [[nodiscard]] Matrix<T> relu(const ReLU<T>& layer, const LayerContext<T>& ctx,
                               const Matrix<T>& r) const {
    return layer.gradient(ctx.input, r);
  }
  template <class T>
  [[nodiscard]] Matrix<T> max_pool(const MaxPool2D<T>& layer, const LayerContext<T>& ctx,
                                   const Matrix<T>& r) const {
    return layer.gradient(cache_of(layer, ctx), r);
  }
  /// AvgPool2D and GlobalAvgPool2D.
  template <class L, class T>
  [[nodiscard]] Matrix<T> avg_pool(const L& layer, const LayerContext<T>& /*ctx*/, const Matrix<T>& r) const {
    return layer.transpose(r);
  }
  template <class T>
  [[nodiscard]] Matrix<T> batch_norm(const BatchNorm2D<T>& layer, const LayerContext<T>& /*ctx*/,
                                     const Matrix<T>& r) const {
    return layer.transpose(r);
  }
  /// One backward quantity per input.
  template <class T>
  [[nodiscard]] std::vector<Matrix<T>> add(const Add<T>& /*layer*/, const LayerContext<T>& ctx,
                                           const Matrix<T>& r) const {
    return std::vector<Matrix<T>>(ctx.inputs.size(), r);
  }
  template <class T>
  [[nodiscard]] std::vector<Matrix<T>> concat(const Concat<T>& layer, const LayerContext<T>& /*ctx*/,
                                              const Matrix<T>& r) const {
    return layer.split(r);
  }
  template <class T>
  [[nodiscard]] Matrix<T> softmax(const Softmax<T>& layer, const LayerContext<T>& ctx,
                                  const Matrix<T>& r) const {
    return layer.gradient(ctx.output, r);
  }
  /// Applied once to the quantity arriving at the input x.
  template <class T>
  [[nodiscard]] Matrix<T> finish(const Matrix<T>& /*x*/, const Matrix<T>& r) const {
    return workspace::evaluate(r);
  }
};

/// x * d y_c / d x (element-wise). Seed 1.
struct InputTimesGradient : Gradient {
  template <class T>
  [[nodiscard]] Matrix<T> finish(const Matrix<T>& x, const Matrix<T>& r) const {
    return x.cwiseProduct(r);
  }
};

}  // namespace patternnet::rules
