#pragma once
// The one list of layer types: the Layer<T> variant below. Everything that depends on the
// set of layers is derived from it: LayerTypes<T>, the per-layer forward caches (LayerCache<T>),
// the names that composites match, the model-file tags, and the rule concept (every rule
// must have a hook for every type listed here). Every dispatch over a Layer<T> goes by the
// traits each type declares (traits.hpp), so a type missing a trait fails to compile.
// Adding a layer type: its header, one line below, its tests (docs/adding-a-layer.md).

#include <patternnet/layers/add.hpp>
#include <patternnet/layers/avg_pool2d.hpp>
#include <patternnet/layers/batch_norm2d.hpp>
#include <patternnet/layers/concat.hpp>
#include <patternnet/layers/conv2d.hpp>
#include <patternnet/layers/dense.hpp>
#include <patternnet/layers/flatten.hpp>
#include <patternnet/layers/global_avg_pool2d.hpp>
#include <patternnet/layers/max_pool2d.hpp>
#include <patternnet/layers/relu.hpp>
#include <patternnet/layers/softmax.hpp>

#include <array>
#include <optional>
#include <string_view>
#include <type_traits>
#include <variant>

namespace patternnet {

template <class... Ts>
struct TypeList {};

/// One layer of a network: the list of layer types, in registry order. Written as the
/// variant itself (not derived from a list) so that functions taking a Layer<T> deduce T.
template <class T>
using Layer = std::variant<Dense<T>, Conv2D<T>, ReLU<T>, MaxPool2D<T>, AvgPool2D<T>, GlobalAvgPool2D<T>,
                           BatchNorm2D<T>, Add<T>, Concat<T>, Softmax<T>, Flatten<T>>;

namespace detail {

template <class List>
struct as_variant;
template <class... Ls>
struct as_variant<TypeList<Ls...>> {
  using type = std::variant<Ls...>;
};

template <class V>
struct as_type_list;
template <class... Ls>
struct as_type_list<std::variant<Ls...>> {
  using type = TypeList<Ls...>;
};

/// The distinct types of Ts..., in order of first appearance.
template <class Done, class... Ts>
struct unique_types {
  using type = Done;
};
template <class... Done, class T, class... Rest>
struct unique_types<TypeList<Done...>, T, Rest...>
    : unique_types<std::conditional_t<(std::is_same_v<T, Done> || ...), TypeList<Done...>, TypeList<Done..., T>>,
                   Rest...> {};

template <class List>
struct caches_of;
template <class... Ls>
struct caches_of<TypeList<Ls...>> {
  using type = typename as_variant<typename unique_types<TypeList<>, typename Ls::Cache...>::type>::type;
};

template <class List>
struct layer_names;
template <class... Ls>
struct layer_names<TypeList<Ls...>> {
  static constexpr std::array<std::string_view, sizeof...(Ls)> value{Ls::name...};
};

}  // namespace detail

/// The layer types, as a type list (for concepts and metaprograms over the registry).
template <class T>
using LayerTypes = typename detail::as_type_list<Layer<T>>::type;

/// What a layer's forward pass keeps for its backward pass (one of the layers' Cache types).
template <class T>
using LayerCache = typename detail::caches_of<LayerTypes<T>>::type;

/// The names of every layer type ("Dense", "Conv2D", ...), in registry order.
inline constexpr auto layer_type_names = detail::layer_names<LayerTypes<float>>::value;

/// Whether `name` is the name of a layer type.
[[nodiscard]] constexpr bool is_layer_type_name(std::string_view name) noexcept {
  for (const std::string_view n : layer_type_names) {
    if (n == name) return true;
  }
  return false;
}

/// The name of a layer's type ("Dense", "Conv2D", ...).
template <class T>
[[nodiscard]] std::string_view layer_name(const Layer<T>& layer) {
  return std::visit([](const auto& l) { return std::decay_t<decltype(l)>::name; }, layer);
}

/// The category of a layer's type.
template <class T>
[[nodiscard]] LayerCategory layer_category(const Layer<T>& layer) {
  return std::visit([](const auto& l) { return std::decay_t<decltype(l)>::category; }, layer);
}

/// The number of inputs a layer takes: 1, or kAnyArity (two or more).
template <class T>
[[nodiscard]] Index layer_arity(const Layer<T>& layer) {
  return std::visit([](const auto& l) { return std::decay_t<decltype(l)>::arity; }, layer);
}

/// The sizes of a layer's parameters: weight rows and columns, bias size, and running
/// mean and variance sizes (0 where the type has none). Graph::set_input_shape() keeps
/// them, and every forward pass checks that the layer still has them.
using ParameterDims = std::array<Index, 5>;

template <class T>
[[nodiscard]] ParameterDims parameter_dims(const Layer<T>& layer) {
  return std::visit(
      [](const auto& l) {
        ParameterDims d{};
        if constexpr (requires { l.weight(); }) d[0] = l.weight().rows(), d[1] = l.weight().cols();
        if constexpr (requires { l.bias(); }) d[2] = l.bias().size();
        if constexpr (requires { l.running_var(); }) d[3] = l.running_mean().size(), d[4] = l.running_var().size();
        return d;
      },
      layer);
}

/// Whether every parameter of `layer` (weight, bias, running statistics) is finite; true
/// for a layer without parameters.
template <class T>
[[nodiscard]] bool parameters_finite(const Layer<T>& layer) {
  return std::visit(
      [](const auto& l) {
        bool finite = true;
        if constexpr (requires { l.weight(); }) finite = finite && l.weight().allFinite();
        if constexpr (requires { l.bias(); }) finite = finite && l.bias().allFinite();
        if constexpr (requires { l.running_var(); }) {
          finite = finite && l.running_mean().allFinite() && l.running_var().allFinite();
        }
        return finite;
      },
      layer);
}

/// Whether the layer type has parameters (weight, bias or running statistics).
template <class T>
[[nodiscard]] bool has_parameters(const Layer<T>& layer) {
  return std::visit([](const auto& l) { return requires { l.weight(); }; }, layer);
}

/// A default-constructed (empty) cache of the right type for `layer`.
template <class T>
[[nodiscard]] LayerCache<T> empty_cache(const Layer<T>& layer) {
  return std::visit([](const auto& l) { return LayerCache<T>{typename std::decay_t<decltype(l)>::Cache{}}; }, layer);
}

}  // namespace patternnet
