#pragma once
// The one entry point: explain(net, rule, x, target) = one recorded forward pass and
// one modified backward pass of the whole batch.

#include <patternnet/network/target.hpp>
#include <patternnet/rules/rule.hpp>

#include <cmath>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace patternnet {

struct ExplainOptions {
  /// Explain the softmax probability instead of the logit below a final Softmax
  /// (the backward pass then goes through the softmax Jacobian). Off by default.
  bool through_softmax = false;
  /// Fill Explanation::layer_sums (a conservation check). Off by default.
  bool layer_sums = false;
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
  /// With ExplainOptions::layer_sums: (top + 1) x N, top = the number of layers explained.
  /// Row l < top is the sum over features of the backward quantity arriving at the input of
  /// layer l (row 0: at the network input, before the rule's finish()); row top is the
  /// sum of the seed (y_c or 1). Summed in double. For a conservative rule every row equals
  /// row top. Empty otherwise.
  Matrix<double> layer_sums;
};

/// A policy that picks a rule per layer of a given network (e.g. composites::Composite):
/// c.resolve(net) returns a Rule for that network. backward() and explain() accept one
/// wherever they accept a rule.
template <class C, class T>
concept CompositeRule = requires(const C& c, const Sequential<T>& net) {
  { c.resolve(net) } -> Rule<T>;
};

namespace detail {

/// Throws NumericError naming the layer whose backward hook first produced NaN or Inf.
template <class T>
void require_finite_backward(const Sequential<T>& net, Index l, const Matrix<T>& r, const char* what) {
  if (r.allFinite()) return;
  for (Index j = 0; j < r.cols(); ++j) {
    for (Index i = 0; i < r.rows(); ++i) {
      const T v = r(i, j);
      if (!std::isfinite(v)) {
        fail<NumericError>("backward pass: {} of layer {} ({}) is {} at feature {} of sample {} "
                           "(everything above it was finite)",
                           what, l, layer_name(net.layer(l)), std::isnan(v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf"), i, j);
      }
    }
  }
}

template <class T>
void store_sums(Matrix<double>* sums, Index row, const Matrix<T>& r) {
  if (sums != nullptr) sums->row(row) = r.template cast<double>().colwise().sum();
}

}  // namespace detail

/// Runs `rule` backwards from `r` (the quantity at the output of layer top-1) down to
/// the input, through the layers of a recorded forward pass. A composite is resolved on
/// `net` first. Throws NumericError naming the layer if a hook produces NaN or Inf (or if
/// r itself is not finite). If layer_sums is given it is filled as Explanation::layer_sums.
template <class T, class R>
  requires Rule<R, T> || CompositeRule<R, T>
[[nodiscard]] Matrix<T> backward(const Sequential<T>& net, const R& rule, const ForwardRecord<T>& rec,
                                 Index top, Matrix<T> r, Matrix<double>* layer_sums = nullptr) {
  if constexpr (!Rule<R, T>) {
    return backward(net, rule.resolve(net), rec, top, std::move(r), layer_sums);
  } else {
    if (top > 0) detail::require_finite_backward(net, top - 1, r, "the seed at the output");
    if (layer_sums != nullptr) layer_sums->resize(top + 1, r.cols());
    detail::store_sums(layer_sums, top, r);
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
      detail::require_finite_backward(net, l, r, "the backward quantity at the input");
      detail::store_sums(layer_sums, l, r);
    }
    Matrix<T> out = rule.finish(rec.activations.front(), r);
    if (top > 0) detail::require_finite_backward(net, 0, out, "the rule's finish() at the input");
    return out;
  }
}

/// Explains the selected output neuron of every sample of x with `rule` (or a composite,
/// resolved on `net`).
///
/// The backward pass starts at the logits below a final Softmax (unless
/// options.through_softmax) with seed 1 or y_c, as the rule's seed() says, at the
/// selected neuron and 0 elsewhere. Throws ShapeError / NumericError for a bad input
/// batch, ShapeError for a target out of range, and NumericError naming the layer where
/// a NaN or Inf first appears in the backward pass.
template <class T, class R>
  requires Rule<R, T> || CompositeRule<R, T>
[[nodiscard]] Explanation<T> explain(const Sequential<T>& net, const R& rule, const Batch<T>& x,
                                     const Target& target = Target::argmax(),
                                     const ExplainOptions& options = {}) {
  if constexpr (!Rule<R, T>) {
    return explain(net, rule.resolve(net), x, target, options);
  } else {
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
    result.attribution = Batch<T>(x.shape, backward(net, rule, rec, top, std::move(seed),
                                                    options.layer_sums ? &result.layer_sums : nullptr));
    return result;
  }
}

}  // namespace patternnet
