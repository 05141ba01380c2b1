#pragma once
// Which output neuron to explain, per sample.

#include <patternnet/core/batch.hpp>

#include <utility>
#include <vector>

namespace patternnet {

/// The output neuron c explained for each sample: the largest logit (default), one
/// index for every sample, or one index per sample.
class Target {
public:
  [[nodiscard]] static Target argmax() { return Target{}; }
  [[nodiscard]] static Target index(Index c) { return Target{std::vector<Index>{c}, true}; }
  [[nodiscard]] static Target indices(std::vector<Index> per_sample) {
    return Target{std::move(per_sample), false};
  }

  /// The selected neuron of every column of `logits` (outputs x N). Throws ShapeError
  /// for an index out of range or a per-sample list of the wrong length.
  template <class T>
  [[nodiscard]]
  std::vector<Index> resolve(const Matrix<T>& logits, const char* where) const {
    const Index n = logits.cols(), outputs = logits.rows();
    std::vector<Index> out(static_cast<std::size_t>(n));
    if (indices_.empty()) {
      for (Index j = 0; j < n; ++j) logits.col(j).maxCoeff(&out[static_cast<std::size_t>(j)]);
      return out;
    }
    if (!broadcast_ && static_cast<Index>(indices_.size()) != n) {
      detail::fail<ShapeError>("{}: Target::indices() has {} entries for a batch of {} samples", where,
                               indices_.size(), n);
    }
    for (Index j = 0; j < n; ++j) {
      const Index c = indices_[broadcast_ ? 0 : static_cast<std::size_t>(j)];
      if (c < 0 || c >= outputs) {
        detail::fail<ShapeError>("{}: target index {} for sample {} is out of range [0, {})", where, c,
                                 j, outputs);
      }
      out[static_cast<std::size_t>(j)] = c;
    }
    return out;
  }

private:
  Target() = default;
  Target(std::vector<Index> idx, bool broadcast) : indices_(std::move(idx)), broadcast_(broadcast) {}

  std::vector<Index> indices_;  // empty = argmax
  bool broadcast_ = false;
};

}  // namespace patternnet
