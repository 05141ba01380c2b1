#pragma once
// The rule mechanism: what a backward pass hands a rule at each layer, and what a
// rule must provide (the concept Rule). A rule is a policy class with one hook per
// layer category; rules inherit Gradient's hooks and override what differs.

#include <patternnet/network/sequential.hpp>

#include <concepts>

namespace patternnet {

/// What the backward pass starts from at the selected output neuron c:
/// one = 1 (gradient-type methods), logit = the value y_c (relevance methods, so that the
/// relevance sums to y_c; docs/methods.md, Seeds).
enum class Seed { one, logit };

/// The forward quantities of layer `index` that a rule may read.
template <class T>
struct LayerContext {
  Index index;                // position of the layer in the network
  const Matrix<T>& input;     // the layer's input x (recorded forward pass)
  const Matrix<T>& output;    // the layer's output z
  const IndexMatrix& argmax;  // max-pool winners (empty for other layers)
};

/// A backward rule for networks of scalar T.
template <class R, class T>
concept Rule = requires(const R& rule, const LayerContext<T>& ctx, const Matrix<T>& r,
                        const Dense<T>& dense, const Conv2D<T>& conv, const ReLU<T>& relu,
                        const MaxPool2D<T>& pool, const Softmax<T>& softmax) {
  { rule.seed() } -> std::convertible_to<Seed>;
  { rule.linear(dense, ctx, r) } -> std::same_as<Matrix<T>>;
  { rule.linear(conv, ctx, r) } -> std::same_as<Matrix<T>>;
  { rule.relu(relu, ctx, r) } -> std::same_as<Matrix<T>>;
  { rule.max_pool(pool, ctx, r) } -> std::same_as<Matrix<T>>;
  { rule.softmax(softmax, ctx, r) } -> std::same_as<Matrix<T>>;
  { rule.finish(ctx.input, r) } -> std::same_as<Matrix<T>>;
};

}  // namespace patternnet
