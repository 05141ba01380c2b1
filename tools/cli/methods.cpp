#include "methods.hpp"

#include "usage_error.hpp"

#include <patternnet/composites/by_name.hpp>
#include <patternnet/patternnet.hpp>

#include <fmt/ranges.h>

namespace patternnet::cli {

const MethodInfo& method(std::string_view name) {
  for (const MethodInfo& m : kMethods) {
    if (m.name == name) return m;
  }
  std::vector<std::string_view> names;
  for (const MethodInfo& m : kMethods) names.push_back(m.name);
  usage_error("--method: '{}' is not a method; the methods are {}", name, fmt::join(names, ", "));
}

namespace {

MethodResult from(Explanation<float> e) { return {std::move(e.attribution), std::move(e.targets)}; }

}  // namespace

MethodResult run_method(const MethodInfo& m, const Graph<float>& net, const Batch<float>& x, const Target& target,
                        const Patterns<float>* patterns, const MethodOptions& o) {
  if (m.needs_patterns && patterns == nullptr) {
    usage_error("--method {} needs --patterns FILE (fit them with 'patternnet fit')", m.name);
  }
  const std::string_view n = m.name;
  if (n == "gradient") return from(explain(net, rules::Gradient{}, x, target));
  if (n == "input-x-gradient") return from(explain(net, rules::InputTimesGradient{}, x, target));
  if (n == "deconvnet") return from(explain(net, rules::DeConvNet{}, x, target));
  if (n == "guided-backprop") return from(explain(net, rules::GuidedBackprop{}, x, target));
  if (n == "pattern-net") return from(explain(net, rules::PatternNet<float>{*patterns}, x, target));
  if (n == "pattern-attribution") return from(explain(net, rules::PatternAttribution<float>{*patterns}, x, target));
  if (n == "lrp-epsilon") return from(explain(net, rules::Epsilon{o.epsilon}, x, target));
  if (n == "lrp-z-plus") return from(explain(net, rules::ZPlus{}, x, target));
  if (n == "lrp-alpha-beta") return from(explain(net, rules::AlphaBeta{o.alpha, o.beta}, x, target));
  if (n == "integrated-gradients") {
    methods::IntegratedGradientsOptions<float> ig;
    ig.steps = o.steps;
    auto r = methods::integrated_gradients(net, x, target, ig);
    return {std::move(r.attribution), std::move(r.targets)};
  }
  if (n == "smoothgrad") {
    methods::SmoothGradOptions sg;
    sg.samples = o.samples;
    sg.sigma = o.sigma;
    sg.seed = o.seed;
    return from(methods::smoothgrad(net, x, target, sg));
  }
  composites::PresetOptions p;
  p.epsilon = o.epsilon;
  p.gamma = o.gamma;
  p.low = o.low;
  p.high = o.high;
  return from(explain(net, composites::preset(n, p), x, target));
}

}  // namespace patternnet::cli
