#pragma once
// The one entry point: explain(net, rule, x, target) = one recorded forward pass and
// one modified backward pass of the whole batch.

#include <patternnet/network/target.hpp>
#include <patternnet/rules/rule.hpp>

#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace patternnet {

struct ExplainOptions {
  /// Explain the softmax probability instead of the logit below a final Softmax
  /// (the backward pass then goes through the softmax Jacobian). Off by default.
  bool through_softmax = false;
};

/// The result of explain().
template <class T>
struct Explanation {
  /// The back-projected quantity at the input, shaped like the input batch: a
  /// relevance / attribution map, or a signal for PatternNet-type methods.
  Batch<T> attribution;
  /// The explained output neuron of every sample.
  std::vector<Index> targets;
  /// The explained output's value (logit, or probability with through_softmax) per sample.
  Vector<T> target_values;
};

/// Runs `rule` backwards from `r` (the quantity at the output of layer top-1) down to
/// the input, through the layers of a recorded forward pass.
template <class T, Rule<T> R>
[[nodiscard]] Matrix<T> backward(const Sequential<T>& net, const R& rule,
                                 const ForwardRecord<T>& rec, Index top, Matrix<T> r) {
  for (Index l = top - 1; l >= 0; --l) {
    const auto i = static_cast<std::size_t>(l);
    const LayerContext<T> ctx{l, rec.activations[i], rec.activations[i + 1], rec.argmax[i]};
    r = std::visit(
        [&](const auto& layer) -> Matrix<T> {
          using L = std::decay_t<decltype(layer)>;
          if constexpr (LinearLayer<L>) return rule.linear(layer, ctx, r);
          else if constexpr (std::is_same_v<L, ReLU<T>>) return rule.relu(layer, ctx, r);
          else if constexpr (std::is_same_v<L, MaxPool2D<T>>) return rule.max_pool(layer, ctx, r);
          else if constexpr (std::is_same_v<L, Softmax<T>>) return rule.softmax(layer, ctx, r);
          else return std::move(r);  // Flatten: only the shape changes
        },
        net.layer(l));
  }
  return rule.finish(rec.activations.front(), r);
}

/// Explains the selected output neuron of every sample of x with `rule`.
///
/// The backward pass starts at the logits below a final Softmax (unless
/// options.through_softmax) with seed 1 or y_c, as the rule's seed() says, at the
/// selected neuron and 0 elsewhere. Throws ShapeError / NumericError for a bad input
/// batch and ShapeError for a target out of range.
template <class T, Rule<T> R>
[[nodiscard]] Explanation<T> explain(const Sequential<T>& net, const R& rule, const Batch<T>& x,
                                     const Target& target = Target::argmax(),
                                     const ExplainOptions& options = {}) {
  const Index top = options.through_softmax ? net.size() : net.logits_end();
  const ForwardRecord<T> rec = net.record(x, top);
  const Matrix<T>& out = rec.activations.back();
  Explanation<T> result;
  result.targets = target.resolve(out, "explain()");
  result.target_values.resize(x.size());
  Matrix<T> seed = Matrix<T>::Zero(out.rows(), out.cols());
  for (Index j = 0; j < x.size(); ++j) {
    const Index c = result.targets[static_cast<std::size_t>(j)];
    result.target_values(j) = out(c, j);
    seed(c, j) = rule.seed() == Seed::one ? T(1) : out(c, j);
  }
  result.attribution = Batch<T>(x.shape, backward(net, rule, rec, top, std::move(seed)));
  return result;
}

}  // namespace patternnet
