#include "estimators.hpp"

#include "usage_error.hpp"

#include <patternnet/patternnet.hpp>

namespace patternnet::cli {

void check_estimator(const std::string& name) {
  if (name == "two-component" || name == "linear" || name == "filter" || name == "identity" || name == "random") return;
  usage_error("--estimator: '{}' is not an estimator; the estimators are two-component (S_a+-), linear (S_a), "
              "filter (S_w), identity (S_x), random", name);
}

bool estimator_needs_data(const std::string& name) { return name == "two-component" || name == "linear"; }

Patterns<float> make_patterns(const std::string& name, const Graph<float>& net, const NetworkMoments& moments,
                              std::uint64_t seed) {
  check_estimator(name);
  if (name == "two-component") return patternnet::make_patterns(net, &moments, estimators::TwoComponent{});
  if (name == "linear") return patternnet::make_patterns(net, &moments, estimators::Linear{});
  if (name == "filter") return patternnet::make_patterns(net, nullptr, estimators::Filter{});
  if (name == "identity") return patternnet::make_patterns(net, nullptr, estimators::Identity{});
  return patternnet::make_patterns(net, nullptr, estimators::Random{seed});
}

}  // namespace patternnet::cli
