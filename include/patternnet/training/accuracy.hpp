#pragma once
// Classification accuracy of a network on a labelled data set.

#include <patternnet/core/batches.hpp>
#include <patternnet/network/sequential.hpp>

#include <span>

namespace patternnet::training {

/// The fraction of samples whose largest output is their label, evaluated in batches of
/// `batch_size` (the result does not depend on it). Throws ShapeError for a label count
/// != images.size(), ConfigError for batch_size < 1.
template <class T>
[[nodiscard]] double accuracy(const Graph<T>& net, const Batch<T>& images, std::span<const Index> labels,
                              Index batch_size = 256) {
  if (static_cast<Index>(labels.size()) != images.size()) {
    patternnet::detail::fail<ShapeError>("accuracy(): {} labels for {} images", labels.size(), images.size());
  }
  Index correct = 0, offset = 0;
  for (const Batch<T>& batch : batches(images, batch_size)) {
    const Matrix<T> out = net.forward(batch).data;
    for (Index j = 0; j < out.cols(); ++j) {
      Index best = 0;
      out.col(j).maxCoeff(&best);
      correct += best == labels[static_cast<std::size_t>(offset + j)];
    }
    offset += out.cols();
  }
  return images.size() > 0 ? static_cast<double>(correct) / static_cast<double>(images.size()) : 0.0;
}

}  // namespace patternnet::training
