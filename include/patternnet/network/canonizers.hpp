#pragma once
// Canonizers: rewrite a network into an equivalent one that the rules treat better, as
// Zennit's canonizers do. canonize() folds every BatchNorm2D into the Dense or Conv2D
// that feeds it, by data flow: only where that linear node's output is read by the
// BatchNorm2D alone (Zennit's SequentialMergeBatchNorm goes by module order and, in a
// DenseNet block, also folds into a conv whose output feeds a Concat, which changes the
// network). A BatchNorm2D that cannot be folded (after an Add, a Concat, a pooling or a
// ReLU) stays; rules then see it through their batch_norm() hook.

#include <patternnet/network/graph.hpp>

#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace patternnet {

/// What canonize() did.
struct CanonizeReport {
  /// The BatchNorm2D nodes folded (indices in the original network) and the node each was
  /// folded into.
  std::vector<std::pair<Index, Index>> folded;
  /// The BatchNorm2D nodes left as they are (their input is not a linear node read by them
  /// alone).
  std::vector<Index> kept;
  /// new_index[n]: the node of the result that computes original node n's output (a folded
  /// BatchNorm2D maps to the node it was folded into).
  std::vector<Index> new_index;
};

namespace detail {

/// z = s .* (W x + b) + t = (diag(s) W) x + (s .* b + t), per output channel.
template <class L, class T>
[[nodiscard]] L fold_batch_norm(const L& linear, const BatchNorm2D<T>& bn) {
  const Vector<T> s = bn.scale(), t = bn.shift();
  const Matrix<T> w = s.asDiagonal() * linear.weight();
  const Vector<T> b = linear.has_bias() ? Vector<T>((s.array() * linear.bias().array() + t.array()).matrix()) : t;
  if constexpr (std::is_same_v<L, Dense<T>>) {
    return Dense<T>(w, b);
  } else {
    return Conv2D<T>(w, b, linear.in_channels(), linear.kernel(), linear.stride(), linear.dilation(), linear.padding());
  }
}

}  // namespace detail

/// The network with every foldable BatchNorm2D folded into the Dense or Conv2D before it:
/// the same function up to rounding (exact in exact arithmetic), one node fewer per fold.
/// Node names and the input shape (if bound) are kept; the folded linear node keeps its
/// name. `report`, if given, says what was folded and where every node went.
template <class T>
[[nodiscard]] Graph<T> canonize(const Graph<T>& net, CanonizeReport* report = nullptr) {
  const Index n_nodes = net.size();
  std::vector<Index> readers(static_cast<std::size_t>(n_nodes), 0);
  for (Index n = 0; n < n_nodes; ++n) {
    for (const Index i : net.inputs(n)) {
      if (i >= 0) ++readers[static_cast<std::size_t>(i)];
    }
  }
  // folded_by[linear] = the BatchNorm2D folded into it (-1: none).
  std::vector<Index> folded_by(static_cast<std::size_t>(n_nodes), -1);
  CanonizeReport rep;
  for (Index n = 0; n < n_nodes; ++n) {
    if (!std::holds_alternative<BatchNorm2D<T>>(net.layer(n))) continue;
    const Index src = net.inputs(n)[0];
    const bool foldable = src >= 0 && layer_category<T>(net.layer(src)) == LayerCategory::linear &&
                          readers[static_cast<std::size_t>(src)] == 1;
    if (foldable) {
      folded_by[static_cast<std::size_t>(src)] = n;
      rep.folded.emplace_back(n, src);
    } else {
      rep.kept.push_back(n);
    }
  }
  Graph<T> out;
  rep.new_index.assign(static_cast<std::size_t>(n_nodes), -1);
  auto mapped = [&](Index i) { return i < 0 ? i : rep.new_index[static_cast<std::size_t>(i)]; };
  for (Index n = 0; n < n_nodes; ++n) {
    const auto un = static_cast<std::size_t>(n);
    if (std::holds_alternative<BatchNorm2D<T>>(net.layer(n)) && rep.new_index[un] >= 0) continue;
    std::vector<Index> inputs;
    for (const Index i : net.inputs(n)) inputs.push_back(mapped(i));
    Layer<T> layer = net.layer(n);
    if (const Index bn = folded_by[un]; bn >= 0) {
      const auto& norm = std::get<BatchNorm2D<T>>(net.layer(bn));
      std::visit(
          [&](const auto& l) {
            using L = std::decay_t<decltype(l)>;
            if constexpr (L::category == LayerCategory::linear) layer = detail::fold_batch_norm(l, norm);
          },
          net.layer(n));
      rep.new_index[static_cast<std::size_t>(bn)] = out.size();
    }
    rep.new_index[un] = out.add(std::move(layer), std::move(inputs), net.name(n));
  }
  if (net.ready()) out.set_input_shape(net.input_shape());
  if (report != nullptr) *report = std::move(rep);
  return out;
}

}  // namespace patternnet
