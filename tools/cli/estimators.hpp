#pragma once
// The signal estimators by name (`--estimator`): two-component (S_a+-), linear (S_a),
// filter (S_w), identity (S_x), random.

#include <patternnet/estimators/fit.hpp>
#include <patternnet/estimators/patterns.hpp>

#include <cstdint>
#include <string>

namespace patternnet::cli {

/// Throws UsageError listing the estimators unless `name` is one.
void check_estimator(const std::string& name);

/// Whether the estimator learns from data (two-component, linear).
[[nodiscard]] bool estimator_needs_data(const std::string& name);

/// The patterns of every Dense and Conv2D node of `net` by the estimator `name`, from
/// `moments` (ignored by the estimators that need no data); `seed` of the random estimator.
[[nodiscard]] Patterns<float> make_patterns(const std::string& name, const Graph<float>& net,
                                            const NetworkMoments& moments, std::uint64_t seed);

}  // namespace patternnet::cli
