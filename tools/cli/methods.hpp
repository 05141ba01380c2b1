#pragma once
// The explanation methods by name (`patternnet explain --method NAME`): every rule of
// the library applied to the whole network, every preset composite, Integrated Gradients
// and SmoothGrad, with their parameters.

#include <patternnet/core/batch.hpp>
#include <patternnet/estimators/patterns.hpp>
#include <patternnet/network/graph.hpp>
#include <patternnet/network/target.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace patternnet::cli {

/// How an explanation is drawn: a heat map of per-pixel relevance (red positive, blue
/// negative), or a signal in input colours (gradients, PatternNet's signal).
enum class Picture { heatmap, signal };

struct MethodInfo {
  std::string_view name;
  std::string_view description;
  Picture picture;
  bool needs_patterns = false;
};

inline constexpr std::array<MethodInfo, 17> kMethods{{
    {"gradient", "the gradient of the explained output", Picture::signal},
    {"input-x-gradient", "input times gradient", Picture::heatmap},
    {"deconvnet", "DeConvNet (Zeiler & Fergus)", Picture::signal},
    {"guided-backprop", "Guided Backprop (Springenberg et al.)", Picture::signal},
    {"pattern-net", "PatternNet: the signal (needs --patterns)", Picture::signal, true},
    {"pattern-attribution", "PatternAttribution (needs --patterns)", Picture::heatmap, true},
    {"lrp-epsilon", "LRP-epsilon on every layer (--epsilon)", Picture::heatmap},
    {"lrp-z-plus", "LRP-z+ on every layer", Picture::heatmap},
    {"lrp-alpha-beta", "LRP-alpha-beta on every layer (--alpha, --beta)", Picture::heatmap},
    {"epsilon-plus", "composite: epsilon on dense layers, z+ on convolutions", Picture::heatmap},
    {"epsilon-plus-flat", "composite: epsilon-plus with flat on the first layer", Picture::heatmap},
    {"epsilon-alpha2-beta1", "composite: epsilon on dense layers, alpha2-beta1 on convolutions", Picture::heatmap},
    {"epsilon-alpha2-beta1-flat", "composite: epsilon-alpha2-beta1 with flat on the first layer", Picture::heatmap},
    {"epsilon-gamma-box", "composite: z-box on the first layer (--low, --high), gamma on convolutions (--gamma)",
     Picture::heatmap},
    {"deep-taylor", "composite: Deep Taylor, z-box on the first layer (--low, --high), z+ elsewhere", Picture::heatmap},
    {"integrated-gradients", "Integrated Gradients from a zero baseline (--steps)", Picture::heatmap},
    {"smoothgrad", "SmoothGrad, the mean gradient over noisy copies (--samples, --sigma, --seed)", Picture::signal},
}};

/// The method called `name`; throws UsageError listing the methods for any other.
[[nodiscard]] const MethodInfo& method(std::string_view name);

/// The parameters of the methods; each method reads the ones it has.
struct MethodOptions {
  double epsilon = 1e-6;
  double alpha = 2, beta = 1;
  double gamma = 0.25;
  double low = 0, high = 1;  // the input box of z-box (epsilon-gamma-box, deep-taylor)
  Index steps = 64;          // Integrated Gradients
  Index samples = 50;        // SmoothGrad
  double sigma = 0.15;
  std::uint64_t seed = 0;
};

struct MethodResult {
  Batch<float> attribution;
  std::vector<Index> targets;
};

/// `method` on every sample of x for `target`; `patterns` (may be null) for the pattern
/// methods, which throw UsageError without them.
[[nodiscard]] MethodResult run_method(const MethodInfo& method, const Graph<float>& net, const Batch<float>& x,
                                      const Target& target, const Patterns<float>* patterns, const MethodOptions& options);

}  // namespace patternnet::cli
