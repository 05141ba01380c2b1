#pragma once
// BatchNorm2D statistics estimated from data, as torch.optim.swa_utils.update_bn does: after
// training (training/train.hpp normalises each mini-batch by its own statistics and does not
// track running ones), or after any change of the layers below a BatchNorm.

#include <patternnet/core/batches.hpp>
#include <patternnet/network/graph.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

namespace patternnet::training {

/// Whether `net` has a BatchNorm2D node.
template <class T>
[[nodiscard]] bool has_batch_norm(const Graph<T>& net) {
  for (Index n = 0; n < net.size(); ++n) {
    if (std::holds_alternative<BatchNorm2D<T>>(net.layer(n))) return true;
  }
  return false;
}

/// Sets the running mean and variance of every BatchNorm2D node of `net` to the mean and
/// the population variance, per channel, of that node's input over all of `images`
/// (every sample and position), node by node in network order, so that each node sees its
/// input as produced with the statistics already set above it. Then, on `images`, every
/// BatchNorm2D output has per channel mean bias[c] and variance weight[c]^2 * var / (var +
/// eps). Weight (gamma) and bias (beta) are kept. Accumulated in double (Chan's merge of
/// per-batch moments), in batches of `batch_size` images. Returns the number of BatchNorm2D
/// nodes. Throws ConfigError for batch_size < 1, and whatever the forward pass throws
/// (ShapeError for images of the wrong shape, ...).
template <class T>
Index update_batch_norm(Graph<T>& net, const Batch<T>& images, Index batch_size = 256) {
  if (batch_size < 1) {
    patternnet::detail::fail<ConfigError>("update_batch_norm(): batch_size must be >= 1, got {}", batch_size);
  }
  // One batch: one forward pass, continued past each BatchNorm once it is set. Else one
  // pass over the batches per BatchNorm node.
  const bool one_batch = images.size() <= batch_size;
  ForwardRecord<T> rec;
  if (one_batch) rec = net.record(images, 0);
  Index updated = 0;
  for (Index n = 0; n < net.size(); ++n) {
    if (!std::holds_alternative<BatchNorm2D<T>>(net.layer(n))) continue;
    const Index v = net.inputs(n)[0] + 1;  // the value BatchNorm node n reads
    const Shape s = net.shape_at(v);
    const Index plane = s.h * s.w;
    std::vector<double> count(static_cast<std::size_t>(s.c), 0), mean(count), m2(count);
    auto accumulate = [&](const Matrix<T>& x) {  // Chan et al.'s pairwise merge, per channel
      for (Index c = 0; c < s.c; ++c) {
        const auto block = x.middleRows(c * plane, plane).template cast<double>();
        const double nb = static_cast<double>(block.size()), mb = block.mean();
        const double m2b = (block.array() - mb).square().sum();
        const auto k = static_cast<std::size_t>(c);
        const double total = count[k] + nb, delta = mb - mean[k];
        m2[k] += m2b + delta * delta * count[k] * nb / total;
        mean[k] += delta * nb / total;
        count[k] = total;
      }
    };
    if (one_batch) {
      net.extend(rec, n);
      accumulate(rec.activations[static_cast<std::size_t>(v)]);
    } else {
      for (const Batch<T>& batch : batches(images, batch_size)) {
        accumulate(net.record(batch, n).activations[static_cast<std::size_t>(v)]);
      }
    }
    auto& bn = net.template get<BatchNorm2D<T>>(n);
    for (Index c = 0; c < s.c; ++c) {
      const auto k = static_cast<std::size_t>(c);
      bn.running_mean()(c) = static_cast<T>(mean[k]);
      bn.running_var()(c) = static_cast<T>(m2[k] / count[k]);
    }
    ++updated;
  }
  return updated;
}

}  // namespace patternnet::training
