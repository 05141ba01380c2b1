#pragma once
// Parameter gradients of Dense, Conv2D and BatchNorm2D layers, on the backward machinery
// that the explanation rules use: backward() with the Gradient rule carries r = dL/dz from
// layer to layer, and a recording rule turns the r arriving at each such layer into the
// gradients of its weight and bias.

#include <patternnet/network/explain.hpp>
#include <patternnet/rules/gradient.hpp>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

namespace patternnet::training {

/// dL/dW (the weight's shape; C x 1 for a BatchNorm2D's gamma) and dL/db (empty if the
/// layer has no bias) of layer `layer`.
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

/// How a BatchNorm2D is differentiated. inference: its statistics are constants (z =
/// scale x + shift). batch: they are the mean and population variance of x over the batch
/// (and positions), as in PyTorch's training mode; the layer must hold exactly those
/// (update_batch_norm(net, x, x.size()) sets them), as train() does for every mini-batch part.
enum class BatchNormMode { inference, batch };

/// BatchNorm2D, z = gamma x^ + beta with x^ = (x - mean) / sqrt(var + eps) per channel:
/// dgamma = sum r x^ and dbeta = sum r over samples and positions, and dL/dx: scale r
/// (inference), or gamma / sigma (r - E[r] - x^ E[r x^]) with E over the channel's samples
/// and positions (batch: the statistics depend on x).
template <class T>
[[nodiscard]] std::pair<ParameterGradient<T>, Matrix<T>> batch_norm_gradients(const BatchNorm2D<T>& layer, const Matrix<T>& x,
                                                                             const Matrix<T>& r, BatchNormMode mode) {
  const Index c_count = layer.channels(), plane = x.rows() / c_count;
  ParameterGradient<T> g;
  g.weight.resize(c_count, 1);
  g.bias.resize(c_count);
  Matrix<T> dx(x.rows(), x.cols());
  for (Index c = 0; c < c_count; ++c) {
    const T sigma = std::sqrt(layer.running_var()(c) + static_cast<T>(layer.eps()));
    const auto rc = r.middleRows(c * plane, plane).array();
    const auto xhat = (x.middleRows(c * plane, plane).array() - layer.running_mean()(c)) / sigma;
    g.weight(c, 0) = (rc * xhat).sum();
    g.bias(c) = rc.sum();
    const T gamma = layer.weight()(c);
    if (mode == BatchNormMode::inference) {
      dx.middleRows(c * plane, plane) = (rc * (gamma / sigma)).matrix();
    } else {
      const auto n = static_cast<T>(rc.size());
      dx.middleRows(c * plane, plane) = ((rc - g.bias(c) / n - xhat * (g.weight(c, 0) / n)) * (gamma / sigma)).matrix();
    }
  }
  return {std::move(g), std::move(dx)};
}

namespace detail {

/// The Gradient rule, recording the parameter gradients of every layer with parameters it passes.
template <class T>
struct RecordingGradient : rules::Gradient {
  std::vector<ParameterGradient<T>>* out;
  BatchNormMode mode = BatchNormMode::inference;

  template <LinearLayer L>
  [[nodiscard]] Matrix<T> linear(const L& layer, const LayerContext<T>& ctx, const Matrix<T>& r) const {
    out->push_back(parameter_gradient(layer, ctx.input, r));
    out->back().layer = ctx.index;
    return rules::Gradient::linear(layer, ctx, r);
  }
  [[nodiscard]] Matrix<T> batch_norm(const BatchNorm2D<T>& layer, const LayerContext<T>& ctx, const Matrix<T>& r) const {
    auto [g, dx] = batch_norm_gradients(layer, ctx.input, r, mode);
    out->push_back(std::move(g));
    out->back().layer = ctx.index;
    return std::move(dx);
  }
};

}  // namespace detail

/// The gradients of a loss L with respect to the weights and biases of every Dense,
/// Conv2D and BatchNorm2D layer below `top`, in layer order, from a recorded forward pass
/// (rec, at least `top` layers) and dL/d(output of layer top-1) (`r`, e.g.
/// softmax_cross_entropy's gradient at the logits with top = net.logits_end()), with
/// BatchNorm2D differentiated as `mode` says. Throws NumericError naming the layer if the
/// backward pass produces NaN or Inf.
template <class T>
[[nodiscard]] std::vector<ParameterGradient<T>> parameter_gradients(const Graph<T>& net, const ForwardRecord<T>& rec,
                                                                    Index top, Matrix<T> r,
                                                                    BatchNormMode mode = BatchNormMode::inference) {
  std::vector<ParameterGradient<T>> out;
  detail::RecordingGradient<T> rule;
  rule.out = &out;
  rule.mode = mode;
  (void)backward(net, rule, rec, top, std::move(r));
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace patternnet::training
