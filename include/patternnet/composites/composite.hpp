#pragma once
// Composites: a rule per layer, picked by first match (Zennit's LayerMapComposite and
// SpecialFirstLayerMapComposite). A composite is resolved on a network into a per-layer
// rule table, which is itself a Rule; explain() and backward() resolve a composite on the
// network they are given, so a composite is accepted wherever a rule is.

#include <patternnet/network/sequential.hpp>
#include <patternnet/rules/deconvnet.hpp>
#include <patternnet/rules/gradient.hpp>
#include <patternnet/rules/guided_backprop.hpp>
#include <patternnet/rules/lrp.hpp>

#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace patternnet::composites {

/// The layer types of a Sequential network.
enum class LayerType { dense, conv2d, relu, max_pool2d, softmax, flatten };

/// Groups of layer types: linear = Dense, Conv2D; activation = ReLU; pooling = MaxPool2D;
/// other = Softmax, Flatten.
enum class Category { linear, activation, pooling, other };

template <class T>
[[nodiscard]] LayerType layer_type(const Layer<T>& layer) {
  return std::visit(
      [](const auto& l) {
        using L = std::decay_t<decltype(l)>;
        if constexpr (std::is_same_v<L, Dense<T>>) return LayerType::dense;
        else if constexpr (std::is_same_v<L, Conv2D<T>>) return LayerType::conv2d;
        else if constexpr (std::is_same_v<L, ReLU<T>>) return LayerType::relu;
        else if constexpr (std::is_same_v<L, MaxPool2D<T>>) return LayerType::max_pool2d;
        else if constexpr (std::is_same_v<L, Softmax<T>>) return LayerType::softmax;
        else return LayerType::flatten;
      },
      layer);
}

[[nodiscard]] constexpr Category category(LayerType t) noexcept {
  switch (t) {
    case LayerType::dense:
    case LayerType::conv2d: return Category::linear;
    case LayerType::relu: return Category::activation;
    case LayerType::max_pool2d: return Category::pooling;
    default: return Category::other;
  }
}

/// Which layers a mapping applies to: every layer, one layer index, one layer type, or
/// one category.
class Match {
public:
  [[nodiscard]] static Match any() noexcept { return Match{}; }
  [[nodiscard]] static Match index(Index l) noexcept { return Match{Kind::index, l, {}, {}}; }
  [[nodiscard]] static Match type(LayerType t) noexcept { return Match{Kind::type, -1, t, {}}; }
  [[nodiscard]] static Match category(Category c) noexcept { return Match{Kind::category, -1, {}, c}; }

  /// Whether layer `l` of type `t` matches.
  [[nodiscard]] bool operator()(Index l, LayerType t) const noexcept {
    switch (kind_) {
      case Kind::index: return l == index_;
      case Kind::type: return t == type_;
      case Kind::category: return composites::category(t) == category_;
      default: return true;
    }
  }

private:
  enum class Kind { any, index, type, category };
  Match() = default;
  Match(Kind k, Index l, LayerType t, Category c) : kind_(k), index_(l), type_(t), category_(c) {}

  Kind kind_ = Kind::any;
  Index index_ = -1;
  LayerType type_{};
  Category category_{};
};

/// Every rule a composite can assign to a layer.
using AnyRule = std::variant<rules::Gradient, rules::Pass, rules::DeConvNet, rules::GuidedBackprop, rules::Epsilon,
                             rules::Gamma, rules::ZPlus, rules::AlphaBeta, rules::ZBox, rules::Flat, rules::WSquare>;

/// A rule for the layers that `match` selects.
struct Mapping {
  Match match;
  AnyRule rule;
};

/// A composite resolved on one network: the rule of every layer, and the seed. A Rule for
/// networks of any scalar type; use it only with the network it was resolved on (same
/// layer count; hooks throw ConfigError for a layer index beyond it).
class Resolved {
public:
  Resolved(Seed seed, std::vector<AnyRule> rules) : seed_(seed), rules_(std::move(rules)) {}

  [[nodiscard]] Seed seed() const noexcept { return seed_; }
  [[nodiscard]] Index size() const noexcept { return static_cast<Index>(rules_.size()); }
  /// The rule of layer l.
  [[nodiscard]] const AnyRule& rule(Index l) const { return rules_.at(static_cast<std::size_t>(l)); }

  template <LinearLayer L, class T>
  [[nodiscard]] Matrix<T> linear(const L& layer, const LayerContext<T>& ctx, const Matrix<T>& r) const {
    return std::visit([&](const auto& rule) { return rule.linear(layer, ctx, r); }, at(ctx.index));
  }
  template <class T>
  [[nodiscard]] Matrix<T> relu(const ReLU<T>& layer, const LayerContext<T>& ctx, const Matrix<T>& r) const {
    return std::visit([&](const auto& rule) { return rule.relu(layer, ctx, r); }, at(ctx.index));
  }
  template <class T>
  [[nodiscard]] Matrix<T> max_pool(const MaxPool2D<T>& layer, const LayerContext<T>& ctx, const Matrix<T>& r) const {
    return std::visit([&](const auto& rule) { return rule.max_pool(layer, ctx, r); }, at(ctx.index));
  }
  template <class T>
  [[nodiscard]] Matrix<T> softmax(const Softmax<T>& layer, const LayerContext<T>& ctx, const Matrix<T>& r) const {
    return std::visit([&](const auto& rule) { return rule.softmax(layer, ctx, r); }, at(ctx.index));
  }
  /// Every rule of AnyRule returns what arrives at the input unchanged.
  template <class T>
  [[nodiscard]] Matrix<T> finish(const Matrix<T>& /*x*/, const Matrix<T>& r) const {
    return r;
  }

private:
  [[nodiscard]] const AnyRule& at(Index l) const {
    if (l < 0 || l >= size()) {
      patternnet::detail::fail<ConfigError>("composite: layer {} is beyond the {} layers the composite was resolved on",
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
  [[nodiscard]] Resolved resolve(const Sequential<T>& net) const {
    std::vector<AnyRule> rules;
    rules.reserve(static_cast<std::size_t>(net.size()));
    bool first_seen = false;
    for (Index l = 0; l < net.size(); ++l) {
      const LayerType t = layer_type(net.layer(l));
      const Mapping* pick = nullptr;
      if (!first_seen) {
        pick = find(first_map_, l, t);
        first_seen = pick != nullptr;
      }
      if (pick == nullptr) pick = find(layer_map_, l, t);
      rules.push_back(pick != nullptr ? pick->rule : AnyRule{rules::Gradient{}});
    }
    return Resolved(seed_, std::move(rules));
  }

private:
  static const Mapping* find(const std::vector<Mapping>& map, Index l, LayerType t) {
    for (const Mapping& m : map) {
      if (m.match(l, t)) return &m;
    }
    return nullptr;
  }

  std::vector<Mapping> layer_map_, first_map_;
  Seed seed_;
};

}  // namespace patternnet::composites
