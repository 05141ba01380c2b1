#pragma once
// What Integrated Gradients and SmoothGrad share: the gradient of the selected logit at
// many points per sample, sent through the network in batches of bounded size.

#include <patternnet/network/explain.hpp>
#include <patternnet/rules/gradient.hpp>

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

namespace patternnet::methods::detail {

/// Throws ConfigError unless chunk >= 1.
inline void require_chunk(Index chunk, const char* where) {
  if (chunk < 1) patternnet::detail::fail<ConfigError>("{}: chunk must be >= 1, got {}", where, chunk);
}

/// The logits of x (below a final Softmax) and the selected neuron of every sample.
template <class T>
std::pair<Matrix<T>, std::vector<Index>> logits_and_targets(const Graph<T>& net, const Batch<T>& x,
                                                            const Target& target, const char* where) {
  Matrix<T> logits = std::move(net.record(x, net.logits_end()).activations.back());
  std::vector<Index> targets = target.resolve(logits, where);
  return {std::move(logits), std::move(targets)};
}

/// For every sample j < samples and copy k < copies, in the order (j, k) = (0, 0), (0, 1),
/// ...: make(j, k, column) fills a point (a writable column of the input batch), and
/// consume(j, k, gradient) receives d logit_{targets[j]} / d input at that point. At most
/// `chunk` points go through the network per forward + backward pass, so the memory is
/// bounded by chunk x (the sizes of all layer inputs and outputs); the calls happen in the
/// same order whatever the chunk. Throws ConfigError (naming `where`) if samples x copies
/// or chunk x the input size overflows.
template <class T, class Make, class Consume>
void chunked_gradients(const char* where, const Graph<T>& net, Index samples, Index copies, const std::vector<Index>& targets,
                       Index chunk, Make&& make, Consume&& consume) {
  constexpr Index kNoLimit = std::numeric_limits<Index>::max();
  const Index total = patternnet::detail::checked_count(where, "the points (samples x copies)",
                                                        {samples, copies}, kNoLimit);
  (void)patternnet::detail::checked_count(where, "one chunk of points",
                                          {std::min(chunk, total), net.input_shape().size()}, kNoLimit);
  for (Index begin = 0; begin < total; begin += chunk) {
    const Index n = std::min(chunk, total - begin);
    Batch<T> points(net.input_shape(), n);
    std::vector<Index> point_targets(static_cast<std::size_t>(n));
    for (Index c = 0; c < n; ++c) {
      const Index p = begin + c;
      make(p / copies, p % copies, points.data.col(c));
      point_targets[static_cast<std::size_t>(c)] = targets[static_cast<std::size_t>(p / copies)];
    }
    const Explanation<T> g = explain(net, rules::Gradient{}, points, Target::indices(std::move(point_targets)));
    for (Index c = 0; c < n; ++c) {
      const Index p = begin + c;
      consume(p / copies, p % copies, g.attribution.data.col(c));
    }
  }
}

}  // namespace patternnet::methods::detail
