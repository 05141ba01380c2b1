#pragma once
// AnyRule: any rule, type-erased, so that a composite can map a node to any rule: the
// built-in ones, PatternNet / PatternAttribution, or a user's own. Its table of hooks is
// generated from the layer registry (one virtual call per layer type and scalar type), so a
// composite instantiates only the rules it is given, each for float and double (a rule for
// one scalar type only, such as PatternNet<float>, throws ConfigError if used on the other).

#include <patternnet/rules/rule.hpp>

#include <memory>
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

template <class T>
[[noreturn]] void wrong_scalar(Index node) {
  patternnet::detail::fail<ConfigError>("composite: the rule mapped to node {} is not a rule for {} networks (e.g. a "
                                        "PatternNet<float> used on a double network)",
                                        node, std::is_same_v<T, float> ? "float" : "double");
}

/// Implements the hook of layer type L for scalar T on top of Base, then the next one.
template <class R, class T, class List, class Base>
struct HookImpl;
template <class R, class T, class Base>
struct HookImpl<R, T, TypeList<>, Base> : Base {
  using Base::Base;
};
template <class R, class T, class L, class... Rest, class Base>
struct HookImpl<R, T, TypeList<L, Rest...>, Base> : HookImpl<R, T, TypeList<Rest...>, Base> {
  using Next = HookImpl<R, T, TypeList<Rest...>, Base>;
  using Next::Next;
  using Next::hook;
  [[nodiscard]] HookResult<T, L> hook(const L& layer, const LayerContext<T>& ctx, const Matrix<T>& r) const override {
    if constexpr (Rule<R, T>) return L::rule_hook(this->rule, layer, ctx, r);
    else wrong_scalar<T>(ctx.index);
  }
};

template <class R>
struct RuleHolder : RuleConcept {
  explicit RuleHolder(R r) : rule(std::move(r)) {}
  using RuleConcept::hook;
  R rule;
};

template <class R>
struct RuleModel final
    : HookImpl<R, double, LayerTypes<double>, HookImpl<R, float, LayerTypes<float>, RuleHolder<R>>> {
  using Base = HookImpl<R, double, LayerTypes<double>, HookImpl<R, float, LayerTypes<float>, RuleHolder<R>>>;
  using Base::Base;
  using Base::hook;
  [[nodiscard]] const std::type_info& type() const noexcept override { return typeid(R); }
  [[nodiscard]] const void* address() const noexcept override { return &this->rule; }
};

}  // namespace detail

/// Any rule for float or double networks (a value type; copies share the immutable rule).
class AnyRule {
public:
  template <class R>
    requires(!std::is_same_v<std::decay_t<R>, AnyRule> && (Rule<std::decay_t<R>, float> || Rule<std::decay_t<R>, double>))
  AnyRule(R rule)  // NOLINT(google-explicit-constructor): a mapping takes rules as they are
      : rule_(std::make_shared<const detail::RuleModel<std::decay_t<R>>>(std::move(rule))) {}

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
