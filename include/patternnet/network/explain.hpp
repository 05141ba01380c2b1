#pragma once
// The one entry point: explain(net, rule, x, target) = one recorded forward pass and
// one modified backward pass of the whole batch.

#include <patternnet/network/target.hpp>
#include <patternnet/rules/rule.hpp>

#include <cmath>
#include <type_traits>
#include <span>
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
  /// With ExplainOptions::layer_sums: (top + 1) x N, top = the number of nodes explained.
  /// Row v < top is the sum over features of the backward quantity received by value v:
  /// row 0 the network input (before the rule's finish()), row n + 1 the output of node n
  /// (in a chain: row l is the input of layer l); row top is the sum of the seed (y_c or 1).
  /// Summed in double. For a conservative rule on a chain every row equals row top (on a
  /// graph, the rows of the values on one cut through it add up to it). Empty otherwise.
  Matrix<double> layer_sums;
};

/// A policy that picks a rule per node of a given network (e.g. composites::Composite):
/// c.resolve(net) returns a Rule for that network. backward() and explain() accept one
/// wherever they accept a rule.
template <class C, class T>
concept CompositeRule = requires(const C& c, const Graph<T>& net) {
  { c.resolve(net) } -> Rule<T>;
};

namespace detail {

/// Throws NumericError naming the node whose backward hook first produced NaN or Inf.
template <class T>
void require_finite_backward(const Graph<T>& net, Index n, const Matrix<T>& r, const char* what) {
  if (r.allFinite()) return;
  for (Index j = 0; j < r.cols(); ++j) {
    for (Index i = 0; i < r.rows(); ++i) {
      const T v = r(i, j);
      if (!std::isfinite(v)) {
        fail<NumericError>("backward pass: {} of {} ({}) is {} at feature {} of sample {} "
                           "(everything above it was finite)",
                           what, net.label(n), layer_name<T>(net.layer(n)), std::isnan(v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf"),
                           i, j);
      }
    }
  }
}

template <class T>
void store_sums(Matrix<double>* sums, Index row, const Matrix<T>& r) {
  if (sums == nullptr) return;
  if (r.size() == 0) sums->row(row).setZero();
  else sums->row(row) = r.template cast<double>().colwise().sum();
}

/// Adds a node's backward quantity for one of its inputs to what that input has received
/// (fan-out: a value read by k nodes receives the sum of their k quantities).
template <class T>
void accumulate(Matrix<T>& into, Matrix<T>&& r) {
  if (into.size() == 0) {
    into = std::move(r);
  } else {
    into += r;
    workspace::recycle(r);
  }
}

}  // namespace detail

/// Runs `rule` backwards from `r` (the quantity at the output of node top-1) down to the
/// input, through the nodes of a recorded forward pass in reverse node order; a node read
/// by several nodes receives the sum of what they send back. Nodes that do not lead to
/// node top-1 are skipped. A composite is resolved on `net` first. Throws NumericError
/// naming the node if a hook produces NaN or Inf (or if r itself is not finite). If
/// layer_sums is given it is filled as Explanation::layer_sums.
template <class T, class R>
  requires Rule<R, T> || CompositeRule<R, T>
[[nodiscard]] Matrix<T> backward(const Graph<T>& net, const R& rule, const ForwardRecord<T>& rec, Index top,
                                 Matrix<T> r, Matrix<double>* layer_sums = nullptr) {
  if constexpr (!Rule<R, T>) {
    return backward(net, rule.resolve(net), rec, top, std::move(r), layer_sums);
  } else {
    if (top > 0) detail::require_finite_backward(net, top - 1, r, "the seed at the output");
    if (layer_sums != nullptr) layer_sums->resize(top + 1, r.cols());
    detail::store_sums(layer_sums, top, r);
    // pending[v]: the backward quantity received so far by value v (0 = the input,
    // n + 1 = the output of node n); empty = nothing yet.
    std::vector<Matrix<T>> pending(static_cast<std::size_t>(top + 1));
    pending[static_cast<std::size_t>(top)] = std::move(r);
    std::vector<const Matrix<T>*> inputs;
    for (Index n = top - 1; n >= 0; --n) {
      Matrix<T> out = std::move(pending[static_cast<std::size_t>(n + 1)]);
      if (out.size() != 0) {
        const std::vector<Index>& in = net.inputs(n);
        inputs.clear();
        for (const Index i : in) inputs.push_back(&rec.activations[static_cast<std::size_t>(i + 1)]);
        const LayerContext<T> ctx{n, *inputs[0], rec.activations[static_cast<std::size_t>(n + 1)],
                                  std::span<const Matrix<T>* const>(inputs), rec.caches[static_cast<std::size_t>(n)]};
        std::visit(
            [&](const auto& layer) {
              using L = std::decay_t<decltype(layer)>;
              if constexpr (L::arity == 1) {
                Matrix<T> back = detail::run_hook(rule, layer, ctx, out);
                detail::require_finite_backward(net, n, back, "the backward quantity at the input");
                detail::accumulate(pending[static_cast<std::size_t>(in[0] + 1)], std::move(back));
              } else {
                std::vector<Matrix<T>> back = detail::run_hook(rule, layer, ctx, out);
                if (back.size() != in.size()) {
                  detail::fail<ConfigError>("backward pass: the rule's hook for {} ({}) returned {} quantities for {} inputs",
                                            net.label(n), L::name, back.size(), in.size());
                }
                for (std::size_t k = 0; k < in.size(); ++k) {
                  detail::require_finite_backward(net, n, back[k], "a backward quantity at an input");
                  detail::accumulate(pending[static_cast<std::size_t>(in[k] + 1)], std::move(back[k]));
                }
              }
            },
            net.layer(n));
        workspace::recycle(out);
      }
      detail::store_sums(layer_sums, n, pending[static_cast<std::size_t>(n)]);
    }
    Matrix<T> out = rule.finish(rec.activations.front(), pending[0]);
    workspace::recycle(pending[0]);
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
[[nodiscard]] Explanation<T> explain(const Graph<T>& net, const R& rule, const Batch<T>& x,
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
