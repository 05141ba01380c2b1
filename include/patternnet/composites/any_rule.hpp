#pragma once
// AnyRule: any rule, type-erased, so that a composite can map a node to any rule: the
// built-in ones, PatternNet / PatternAttribution, or a user's own. Its table of hooks is
// generated from the layer registry (one virtual call per layer type and scalar type), so a
// composite instantiates only the rules it is given, each for float and double (a rule for
// one scalar type only, such as PatternNet<float>, throws ConfigError if used on the other).
// A rule mapped by layer type or category (Mapping::type<L>, Mapping::category<C>) is
// compiled only for those layer types: most of a composite's compile time is the hooks
// of linear layers, which a rule for ReLU or pooling never needs.

#include <patternnet/rules/rule.hpp>

#include <memory>
#include <string_view>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

namespace patternnet::composites {

namespace detail {

using patternnet::detail::HookResult;

/// One virtual hook: layer type L, scalar T.
template <class T, class L>
struct HookSlot {
  virtual ~HookSlot() = default;
  [[nodiscard]] virtual HookResult<T, L> hook(const L& layer, const LayerContext<T>& ctx, const Matrix<T>& r) const = 0;
};

template <class T, class List>
struct HookTable;
template <class T, class... Ls>
struct HookTable<T, TypeList<Ls...>> : HookSlot<T, Ls>... {
  using HookSlot<T, Ls>::hook...;
};

/// The erased rule: its hooks for float and double networks (a composite uses its own seed
/// and no finish(), so these are all it needs).
struct RuleConcept : HookTable<float, LayerTypes<float>>, HookTable<double, LayerTypes<double>> {
  using HookTable<float, LayerTypes<float>>::hook;
  using HookTable<double, LayerTypes<double>>::hook;
  [[nodiscard]] virtual const std::type_info& type() const noexcept = 0;
  [[nodiscard]] virtual const void* address() const noexcept = 0;
};

/// Which layer types (L = Dense<float>, ...) an erased rule is compiled for.
struct AllLayers {
  template <class L>
  static constexpr bool accepts = true;
};
template <LayerCategory C>
struct InCategory {
  template <class L>
  static constexpr bool accepts = L::category == C;
};
template <template <class> class LT>
struct OfType {
  template <class L>
  static constexpr bool accepts = std::is_same_v<L, LT<typename L::Scalar>>;
};
template <class T>
struct OfScalar {
  template <class L>
  static constexpr bool accepts = std::is_same_v<typename L::Scalar, T>;
};
/// The layer types both A and B accept (e.g. one layer type of one scalar type).
template <class A, class B>
struct Both {
  template <class L>
  static constexpr bool accepts = A::template accepts<L> && B::template accepts<L>;
};
/// Tags AnyRule's constructor that compiles a rule only for the layer types `Only` accepts.
template <class Only>
struct CompiledFor {};

[[noreturn]] inline void not_compiled_for(Index node, std::string_view layer_type) {
  patternnet::detail::fail<ConfigError>("composite: the rule mapped to node {} was compiled for other layer types, not "
                                        "for {} (a rule of a Mapping::type / Mapping::category used elsewhere)",
                                        node, layer_type);
}

template <class T>
[[noreturn]] void wrong_scalar(Index node) {
  patternnet::detail::fail<ConfigError>("composite: the rule mapped to node {} is not a rule for {} networks (e.g. a "
                                        "PatternNet<float> used on a double network)",
                                        node, std::is_same_v<T, float> ? "float" : "double");
}

/// Implements the hook of layer type L for scalar T on top of Base, then the next one.
template <class R, class Only, class T, class List, class Base>
struct HookImpl;
template <class R, class Only, class T, class Base>
struct HookImpl<R, Only, T, TypeList<>, Base> : Base {
  using Base::Base;
};
template <class R, class Only, class T, class L, class... Rest, class Base>
struct HookImpl<R, Only, T, TypeList<L, Rest...>, Base> : HookImpl<R, Only, T, TypeList<Rest...>, Base> {
  using Next = HookImpl<R, Only, T, TypeList<Rest...>, Base>;
  using Next::Next;
  using Next::hook;
  [[nodiscard]] HookResult<T, L> hook(const L& layer, const LayerContext<T>& ctx, const Matrix<T>& r) const override {
    if constexpr (!Only::template accepts<L>) not_compiled_for(ctx.index, L::name);
    else if constexpr (Rule<R, T>) return patternnet::detail::run_hook(this->rule, layer, ctx, r);
    else wrong_scalar<T>(ctx.index);
  }
};

template <class R>
struct RuleHolder : RuleConcept {
  explicit RuleHolder(R r) : rule(std::move(r)) {}
  using RuleConcept::hook;
  R rule;
};

template <class R, class Only>
struct RuleModel final
    : HookImpl<R, Only, double, LayerTypes<double>, HookImpl<R, Only, float, LayerTypes<float>, RuleHolder<R>>> {
  using Base = HookImpl<R, Only, double, LayerTypes<double>, HookImpl<R, Only, float, LayerTypes<float>, RuleHolder<R>>>;
  using Base::Base;
  using Base::hook;
  [[nodiscard]] const std::type_info& type() const noexcept override { return typeid(R); }
  [[nodiscard]] const void* address() const noexcept override { return &this->rule; }
};

/// The erased rule R compiled for the layer types Only accepts. Not inline, so that
/// patternnet::precompiled can provide it for the built-in rules (precompiled.hpp): its
/// hooks, for every layer type and both scalars, are most of a composite's compile time.
template <class R, class Only>
[[nodiscard]] std::shared_ptr<const RuleConcept> make_rule_model(R rule) {
  return std::make_shared<const RuleModel<R, Only>>(std::move(rule));
}

}  // namespace detail

/// Any rule for float or double networks (a value type; copies share the immutable rule).
class AnyRule {
public:
  template <class R>
    requires(!std::is_same_v<std::decay_t<R>, AnyRule> && (Rule<std::decay_t<R>, float> || Rule<std::decay_t<R>, double>))
  AnyRule(R rule)  // NOLINT(google-explicit-constructor): a mapping takes rules as they are
      : AnyRule(std::move(rule), detail::CompiledFor<detail::AllLayers>{}) {}

  /// The rule compiled only for the layer types `Only` accepts (Mapping::type, Mapping::category);
  /// its hook for any other layer type throws ConfigError.
  template <class R, class Only>
    requires(!std::is_same_v<std::decay_t<R>, AnyRule> && (Rule<std::decay_t<R>, float> || Rule<std::decay_t<R>, double>))
  AnyRule(R rule, detail::CompiledFor<Only> /*only*/)
      : rule_(detail::make_rule_model<std::decay_t<R>, Only>(std::move(rule))) {}

  /// The rule, if it is an R; nullptr otherwise (as std::function::target).
  template <class R>
  [[nodiscard]] const R* target() const noexcept {
    return rule_->type() == typeid(R) ? static_cast<const R*>(rule_->address()) : nullptr;
  }

  template <class L, class T>
  [[nodiscard]] detail::HookResult<T, L> hook(const L& layer, const LayerContext<T>& ctx, const Matrix<T>& r) const {
    return rule_->hook(layer, ctx, r);
  }

private:
  std::shared_ptr<const detail::RuleConcept> rule_;
};

}  // namespace patternnet::composites
