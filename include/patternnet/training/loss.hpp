#pragma once
// Softmax cross-entropy: the classification loss, from the logits.

#include <patternnet/core/batch.hpp>

#include <cmath>
#include <span>

namespace patternnet::training {

template <class T>
struct Loss {
  double value = 0;     // mean over the batch of -log softmax(z)[label]
  Matrix<T> gradient;   // dL/dz (classes x N): (softmax(z) - onehot(label)) / N
  Index correct = 0;    // samples whose largest logit is their label
};

/// The softmax cross-entropy of `logits` (classes x N, one sample per column) against
/// `labels` (N entries in [0, classes)), averaged over the batch. Computed stably:
/// -log p_y = log sum_k exp(z_k - max z) - (z_y - max z), accumulated in double, so it is
/// finite for any finite logits. Throws ShapeError for an empty batch, a label count
/// != N or a label out of range.
template <class T>
[[nodiscard]] Loss<T> softmax_cross_entropy(const Matrix<T>& logits, std::span<const Index> labels) {
  const Index n = logits.cols(), classes = logits.rows();
  if (static_cast<Index>(labels.size()) != n) {
    patternnet::detail::fail<ShapeError>("softmax_cross_entropy(): {} labels for a batch of {} samples", labels.size(), n);
  }
  if (n < 1) patternnet::detail::fail<ShapeError>("softmax_cross_entropy(): the batch is empty");
  Loss<T> loss;
  loss.gradient.resize(classes, n);
  double total = 0;
  for (Index j = 0; j < n; ++j) {
    const Index y = labels[static_cast<std::size_t>(j)];
    if (y < 0 || y >= classes) {
      patternnet::detail::fail<ShapeError>("softmax_cross_entropy(): label {} of sample {} is out of range [0, {})", y, j, classes);
    }
    Index best = 0;
    const double max = static_cast<double>(logits.col(j).maxCoeff(&best));
    double sum = 0;
    for (Index k = 0; k < classes; ++k) sum += std::exp(static_cast<double>(logits(k, j)) - max);
    total += std::log(sum) - (static_cast<double>(logits(y, j)) - max);
    for (Index k = 0; k < classes; ++k) {
      const double p = std::exp(static_cast<double>(logits(k, j)) - max) / sum;
      loss.gradient(k, j) = static_cast<T>((p - (k == y ? 1.0 : 0.0)) / static_cast<double>(n));
    }
    loss.correct += best == y;
  }
  loss.value = total / static_cast<double>(n);
  return loss;
}

}  // namespace patternnet::training
