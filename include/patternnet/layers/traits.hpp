#pragma once
// What every layer type declares about itself, read by the registry (registry.hpp) and
// every dispatch over it:
//
//   static constexpr std::string_view name;       // "Conv2D": messages, summaries, composites
//   static constexpr LayerCategory category;      // composites match on it
//   static constexpr std::uint32_t tag;           // stable model-file tag (never reused)
//   static constexpr Index arity;                 // inputs: 1, or kAnyArity (2 or more)
//   using Cache = ...;                            // what forward() keeps for the backward
//                                                 // pass (NoCache if nothing)
//   Shape bind(Shape in, Index node)              // (merge layers: std::span<const Shape>)
//   Matrix<T> forward(const Matrix<T>& x, Cache&) const   // (NoCache layers: forward(x))
//   static auto rule_hook(rule, layer, ctx, r)    // which hook of a rule sees this layer
//
// docs/adding-a-layer.md walks through adding one.

#include <patternnet/core/shape.hpp>

#include <cstdint>
#include <variant>

namespace patternnet {

/// Groups of layer types (composites map rules to them):
/// linear = Dense, Conv2D (weights; patterns); activation = ReLU, Softmax;
/// pooling = MaxPool2D, AvgPool2D, GlobalAvgPool2D; normalization = BatchNorm2D;
/// merge = Add, Concat (several inputs); shape = Flatten (data unchanged).
enum class LayerCategory { linear, activation, pooling, normalization, merge, shape };

/// The cache of a layer whose backward pass needs nothing beyond its input and output.
using NoCache = std::monostate;

/// The arity of a merge layer: two or more inputs.
inline constexpr Index kAnyArity = -1;

}  // namespace patternnet
