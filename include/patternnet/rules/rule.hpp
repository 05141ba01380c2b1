#pragma once
// The rule mechanism: what a backward pass hands a rule at each node (LayerContext,
// graph.hpp), and what a rule must provide (the concept Rule): one hook per layer kind,
// called through each layer type's rule_hook (layers/traits.hpp). Rules inherit Gradient's
// hooks and override what differs.

#include <patternnet/network/graph.hpp>

#include <concepts>
#include <vector>

namespace patternnet {

/// What the backward pass starts from at the selected output neuron c:
/// one = 1 (gradient-type methods), logit = the value y_c (relevance methods, so that the
/// relevance sums to y_c; docs/methods.md, Seeds).
enum class Seed { one, logit };

namespace detail {

/// What a rule's hook for layer type L returns: the backward quantity at the input, or one
/// per input for a merge layer.
template <class T, class L>
using HookResult = std::conditional_t<L::arity == 1, Matrix<T>, std::vector<Matrix<T>>>;

template <class R, class T, class L>
concept HasHookFor = requires(const R& rule, const L& layer, const LayerContext<T>& ctx, const Matrix<T>& r) {
  { L::rule_hook(rule, layer, ctx, r) } -> std::same_as<HookResult<T, L>>;
};

template <class R, class T, class List>
inline constexpr bool has_hooks_for_all = false;
template <class R, class T, class... Ls>
inline constexpr bool has_hooks_for_all<R, T, TypeList<Ls...>> = (HasHookFor<R, T, Ls> && ...);

}  // namespace detail

/// A backward rule for networks of scalar T: a seed, a hook for every layer type of the
/// registry (layers/registry.hpp), and finish() applied once at the network input.
template <class R, class T>
concept Rule = detail::has_hooks_for_all<R, T, LayerTypes<T>> &&
               requires(const R& rule, const Matrix<T>& x, const Matrix<T>& r) {
                 { rule.seed() } -> std::convertible_to<Seed>;
                 { rule.finish(x, r) } -> std::same_as<Matrix<T>>;
               };

namespace detail {

/// Rule R's hook for a node of layer type L (L::rule_hook): the one call through which
/// backward() and the erased rules of composites (composites/any_rule.hpp) reach a rule.
/// Declared here and defined below, not inline, so that patternnet::precompiled can provide
/// it for the built-in rules (precompiled.hpp): each (rule, layer type, scalar) hook is then
/// compiled once in the library, not again by explain(), by every erased rule and by every
/// preset composite that maps the rule.
template <class R, class L>
[[nodiscard]] HookResult<typename L::Scalar, L> run_hook(const R& rule, const L& layer,
                                                       const LayerContext<typename L::Scalar>& ctx,
                                                       const Matrix<typename L::Scalar>& r);

template <class R, class L>
HookResult<typename L::Scalar, L> run_hook(const R& rule, const L& layer, const LayerContext<typename L::Scalar>& ctx,
                                           const Matrix<typename L::Scalar>& r) {
  return L::rule_hook(rule, layer, ctx, r);
}

}  // namespace detail

}  // namespace patternnet
