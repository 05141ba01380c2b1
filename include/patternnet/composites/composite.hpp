#pragma once
// Composites: a rule per node, picked by first match (Zennit's LayerMapComposite and
// SpecialFirstLayerMapComposite). A composite is resolved on a network into a per-layer
// rule table, which is itself a Rule; explain() and backward() resolve a composite on the
// network they are given, so a composite is accepted wherever a rule is.

#include <patternnet/composites/any_rule.hpp>
#include <patternnet/network/graph.hpp>
#include <patternnet/rules/deconvnet.hpp>
#include <patternnet/rules/gradient.hpp>
#include <patternnet/rules/guided_backprop.hpp>
#include <patternnet/rules/lrp.hpp>

#include <fmt/ranges.h>

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace patternnet::composites {

/// The layer categories (layers/traits.hpp): linear, activation, pooling, normalization,
/// merge, shape.
using Category = LayerCategory;

/// Which nodes a mapping applies to: every node, one node index, one node name, one layer
/// type (by name, e.g. "Conv2D", or Match::type<Conv2D>()), or one category.
class Match {
public:
  [[nodiscard]] static Match any() { return Match{}; }
  [[nodiscard]] static Match index(Index l) { return Match{Kind::index, l, {}, {}}; }
  /// The layer type named `type` (layer_type_names); throws ConfigError for another name.
  [[nodiscard]] static Match type(std::string_view type) {
    if (!is_layer_type_name(type)) {
      patternnet::detail::fail<ConfigError>("Match::type(): '{}' is not a layer type; the layer types are {}", type,
                                            fmt::join(layer_type_names, ", "));
    }
    return Match{Kind::type, -1, std::string(type), {}};
  }
  template <template <class> class L>
  [[nodiscard]] static Match type() {
    return type(L<float>::name);
  }
  [[nodiscard]] static Match category(Category c) { return Match{Kind::category, -1, {}, c}; }
  /// The node added with this name (Graph::add).
  [[nodiscard]] static Match name(std::string node) { return Match{Kind::name, -1, std::move(node), {}}; }

  /// Whether node `l` of `net` matches.
  template <class T>
  [[nodiscard]] bool operator()(const Graph<T>& net, Index l) const {
    switch (kind_) {
      case Kind::index: return l == index_;
      case Kind::type: return layer_name<T>(net.layer(l)) == text_;
      case Kind::category: return layer_category<T>(net.layer(l)) == category_;
      case Kind::name: return net.name(l) == text_;
      default: return true;
    }
  }

private:
  enum class Kind { any, index, type, category, name };
  Match() = default;
  Match(Kind k, Index l, std::string text, Category c) : kind_(k), index_(l), text_(std::move(text)), category_(c) {}

  Kind kind_ = Kind::any;
  Index index_ = -1;
  std::string text_;
  Category category_{};
};

/// A rule for the nodes that `match` selects: any rule (AnyRule), built-in or not.
/// Mapping::type<L>(rule) and Mapping::category<C>(rule) match as Match::type<L>() and
/// Match::category(C) do and compile the rule only for those layer types (much less
/// compile time than Mapping{Match::..., rule}, which compiles it for every layer type).
struct Mapping {
  Match match;
  AnyRule rule;

  template <template <class> class L, class R>
  [[nodiscard]] static Mapping type(R rule);
  template <Category C, class R>
  [[nodiscard]] static Mapping category(R rule);
};

namespace detail {

/// Mapping::type<L>(rule) and Mapping::category<C>(rule), the rule compiled only for the
/// layer types that Scalars accepts as well (AllLayers: float and double; OfScalar<T>: one).
template <template <class> class L, class Scalars, class R>
[[nodiscard]] Mapping of_type(R rule) {
  return {Match::type<L>(), AnyRule(std::move(rule), CompiledFor<Both<Scalars, OfType<L>>>{})};
}
template <Category C, class Scalars, class R>
[[nodiscard]] Mapping of_category(R rule) {
  return {Match::category(C), AnyRule(std::move(rule), CompiledFor<Both<Scalars, InCategory<C>>>{})};
}

}  // namespace detail

template <template <class> class L, class R>
Mapping Mapping::type(R rule) {
  return detail::of_type<L, detail::AllLayers>(std::move(rule));
}
template <Category C, class R>
Mapping Mapping::category(R rule) {
  return detail::of_category<C, detail::AllLayers>(std::move(rule));
}

/// A composite resolved on one network: the rule of every node, and the seed. A Rule for
/// networks of any scalar type; use it only with the network it was resolved on (same node
/// count; hooks throw ConfigError for a node beyond it). The mapped rules' own seed() and
/// finish() are not used: the composite's seed starts the pass, and the quantity arriving
/// at the input is the result.
class Resolved {
public:
  Resolved(Seed seed, std::vector<AnyRule> rules) : seed_(seed), rules_(std::move(rules)) {}

  [[nodiscard]] Seed seed() const noexcept { return seed_; }
  [[nodiscard]] Index size() const noexcept { return static_cast<Index>(rules_.size()); }
  /// The rule of node l.
  [[nodiscard]] const AnyRule& rule(Index l) const { return at(l); }

  template <LinearLayer L, class T>
  [[nodiscard]] Matrix<T> linear(const L& layer, const LayerContext<T>& ctx, const Matrix<T>& r) const {
    return at(ctx.index).hook(layer, ctx, r);
  }
  template <class T>
  [[nodiscard]] Matrix<T> relu(const ReLU<T>& layer, const LayerContext<T>& ctx, const Matrix<T>& r) const {
    return at(ctx.index).hook(layer, ctx, r);
  }
  template <class T>
  [[nodiscard]] Matrix<T> max_pool(const MaxPool2D<T>& layer, const LayerContext<T>& ctx, const Matrix<T>& r) const {
    return at(ctx.index).hook(layer, ctx, r);
  }
  template <class T>
  [[nodiscard]] Matrix<T> softmax(const Softmax<T>& layer, const LayerContext<T>& ctx, const Matrix<T>& r) const {
    return at(ctx.index).hook(layer, ctx, r);
  }
  template <class L, class T>
  [[nodiscard]] Matrix<T> avg_pool(const L& layer, const LayerContext<T>& ctx, const Matrix<T>& r) const {
    return at(ctx.index).hook(layer, ctx, r);
  }
  template <class T>
  [[nodiscard]] Matrix<T> batch_norm(const BatchNorm2D<T>& layer, const LayerContext<T>& ctx, const Matrix<T>& r) const {
    return at(ctx.index).hook(layer, ctx, r);
  }
  template <class T>
  [[nodiscard]] std::vector<Matrix<T>> add(const Add<T>& layer, const LayerContext<T>& ctx, const Matrix<T>& r) const {
    return at(ctx.index).hook(layer, ctx, r);
  }
  template <class T>
  [[nodiscard]] std::vector<Matrix<T>> concat(const Concat<T>& layer, const LayerContext<T>& ctx,
                                              const Matrix<T>& r) const {
    return at(ctx.index).hook(layer, ctx, r);
  }
  template <class T>
  [[nodiscard]] Matrix<T> finish(const Matrix<T>& /*x*/, const Matrix<T>& r) const {
    return workspace::evaluate(r);
  }

private:
  [[nodiscard]] const AnyRule& at(Index l) const {
    if (l < 0 || l >= size()) {
      patternnet::detail::fail<ConfigError>("composite: node {} is beyond the {} nodes the composite was resolved on",
                                            l, size());
    }
    return rules_[static_cast<std::size_t>(l)];
  }

  Seed seed_;
  std::vector<AnyRule> rules_;
};

/// Maps each layer to a rule. For layer l (in network order): while no layer has matched
/// first_map yet, the first mapping of first_map that matches l wins (and l is "the first
/// layer"); otherwise the first mapping of layer_map that matches l; otherwise the
/// gradient (e.g. max-pool: winner takes all; softmax: its Jacobian). So a first_map of
/// Match::category(Category::linear) overrides the rule of the lowest linear layer, as in
/// Zennit's SpecialFirstLayerMapComposite. The seed (default y_c) applies to the whole
/// backward pass; the seeds of the mapped rules are not used.
class Composite {
public:
  explicit Composite(std::vector<Mapping> layer_map, std::vector<Mapping> first_map = {},
                     Seed seed = Seed::logit)
      : layer_map_(std::move(layer_map)), first_map_(std::move(first_map)), seed_(seed) {}

  [[nodiscard]] Seed seed() const noexcept { return seed_; }
  [[nodiscard]] const std::vector<Mapping>& layer_map() const noexcept { return layer_map_; }
  [[nodiscard]] const std::vector<Mapping>& first_map() const noexcept { return first_map_; }

  /// The rule of every layer of `net`.
  template <class T>
  [[nodiscard]] Resolved resolve(const Graph<T>& net) const;

private:
  template <class T>
  static const Mapping* find(const std::vector<Mapping>& map, const Graph<T>& net, Index l) {
    for (const Mapping& m : map) {
      if (m.match(net, l)) return &m;
    }
    return nullptr;
  }

  std::vector<Mapping> layer_map_, first_map_;
  Seed seed_;
};

template <class T>
Resolved Composite::resolve(const Graph<T>& net) const {
  std::vector<AnyRule> rules;
  rules.reserve(static_cast<std::size_t>(net.size()));
  bool first_seen = false;
  for (Index l = 0; l < net.size(); ++l) {
    const Mapping* pick = nullptr;
    if (!first_seen) {
      pick = find(first_map_, net, l);
      first_seen = pick != nullptr;
    }
    if (pick == nullptr) pick = find(layer_map_, net, l);
    rules.push_back(pick != nullptr ? pick->rule : AnyRule(rules::Gradient{}, detail::CompiledFor<detail::OfScalar<T>>{}));
  }
  return Resolved(seed_, std::move(rules));
}

}  // namespace patternnet::composites
