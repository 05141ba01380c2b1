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
  [[nodiscard]] static Target index(Index c) { return Target{Kind::index, std::vector<Index>{c}}; }
  /// One index per sample (an empty list fits no batch: resolve() throws).
  [[nodiscard]] static Target indices(std::vector<Index> per_sample) {
    return Target{Kind::indices, std::move(per_sample)};
  }

  /// The selected neuron of every column of `logits` (outputs x N). Throws ShapeError
  /// for an index out of range or a per-sample list of the wrong length.
  template <class T>
  [[nodiscard]]
  std::vector<Index> resolve(const Matrix<T>& logits, const char* where) const {
    const Index n = logits.cols(), outputs = logits.rows();
    std::vector<Index> out(static_cast<std::size_t>(n));
    if (kind_ == Kind::argmax) {
      for (Index j = 0; j < n; ++j) logits.col(j).maxCoeff(&out[static_cast<std::size_t>(j)]);
      return out;
    }
    if (kind_ == Kind::indices && static_cast<Index>(indices_.size()) != n) {
      detail::fail<ShapeError>("{}: Target::indices() has {} entries for a batch of {} samples", where,
                               indices_.size(), n);
    }
    for (Index j = 0; j < n; ++j) {
      const Index c = indices_[kind_ == Kind::index ? 0 : static_cast<std::size_t>(j)];
      if (c < 0 || c >= outputs) {
        detail::fail<ShapeError>("{}: target index {} for sample {} is out of range [0, {})", where, c,
                                 j, outputs);
      }
      out[static_cast<std::size_t>(j)] = c;
    }
    return out;
  }

private:
  enum class Kind { argmax, index, indices };
  Target() = default;
  Target(Kind kind, std::vector<Index> idx) : kind_(kind), indices_(std::move(idx)) {}

  Kind kind_ = Kind::argmax;
  std::vector<Index> indices_;  // index: one entry; indices: one per sample
};

}  // namespace patternnet
