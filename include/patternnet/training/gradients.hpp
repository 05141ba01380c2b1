#pragma once
// Parameter gradients of Dense and Conv2D layers, on the backward machinery that the
// explanation rules use: backward() with the Gradient rule carries r = dL/dz from layer
// to layer, and a recording rule turns the r arriving at each linear layer into the
// gradients of its weight and bias.

#include <patternnet/network/explain.hpp>
#include <patternnet/rules/gradient.hpp>

#include <algorithm>
#include <utility>
#include <vector>

namespace patternnet::training {

/// dL/dW (the weight's shape) and dL/db (empty if the layer has no bias) of layer `layer`.
template <class T>
struct ParameterGradient {
  Index layer = -1;
  Matrix<T> weight;
  Vector<T> bias;
};

/// Dense, z = W x + b: dW = r x^T and db = sum over samples of r, from the layer's input
/// x (in x N) and r = dL/dz (out x N). One GEMM.
template <class T>
[[nodiscard]] ParameterGradient<T> parameter_gradient(const Dense<T>& layer, const Matrix<T>& x, const Matrix<T>& r) {
  ParameterGradient<T> g;
  g.weight.noalias() = r * x.transpose();
  if (layer.has_bias()) g.bias = r.rowwise().sum();
  return g;
}

/// Conv2D (bound to x's shape): with the patch matrix X = im2col(x) ((N*P) x K) and R = r
/// with one row per output position ((N*P) x F), z = X W^T + b per row, so dW = R^T X
/// and db = the column sums of R. One GEMM.
template <class T>
[[nodiscard]] ParameterGradient<T> parameter_gradient(const Conv2D<T>& layer, const Matrix<T>& x, const Matrix<T>& r) {
  Matrix<T> rz;
  batch_to_positions(r, layer.positions(), rz);
  const Matrix<T> cols = layer.samples(x);
  ParameterGradient<T> g;
  g.weight.noalias() = rz.transpose() * cols;
  if (layer.has_bias()) g.bias = rz.colwise().sum().transpose();
  return g;
}

namespace detail {

/// The Gradient rule, recording the parameter gradients of every linear layer it passes.
template <class T>
struct RecordingGradient : rules::Gradient {
  std::vector<ParameterGradient<T>>* out;

  template <LinearLayer L>
  [[nodiscard]] Matrix<T> linear(const L& layer, const LayerContext<T>& ctx, const Matrix<T>& r) const {
    out->push_back(parameter_gradient(layer, ctx.input, r));
    out->back().layer = ctx.index;
    return rules::Gradient::linear(layer, ctx, r);
  }
};

}  // namespace detail

/// The gradients of a loss L with respect to the weights and biases of every Dense and
/// Conv2D layer below `top`, in layer order, from a recorded forward pass (rec, at least
/// `top` layers) and dL/d(output of layer top-1) (`r`, e.g. softmax_cross_entropy's
/// gradient at the logits with top = net.logits_end()). Throws NumericError naming the
/// layer if the backward pass produces NaN or Inf.
template <class T>
[[nodiscard]] std::vector<ParameterGradient<T>> parameter_gradients(const Graph<T>& net, const ForwardRecord<T>& rec,
                                                                    Index top, Matrix<T> r) {
  std::vector<ParameterGradient<T>> out;
  detail::RecordingGradient<T> rule;
  rule.out = &out;
  (void)backward(net, rule, rec, top, std::move(r));
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace patternnet::training
