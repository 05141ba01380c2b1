#pragma once
// The batch type: one sample per COLUMN of a column-major Eigen matrix, each
// column holding a sample flattened in C, H, W order (see shape.hpp). This is the
// only storage order used anywhere in patternnet.

#include <patternnet/core/error.hpp>
#include <patternnet/core/shape.hpp>

#include <Eigen/Core>

#include <cmath>
#include <utility>

namespace patternnet {

template <class T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;  // column-major
template <class T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

/// A batch of samples of one shape: `data` is shape.size() x n, sample j = column j.
template <class T>
struct Batch {
  Shape shape;
  Matrix<T> data;

  Batch() = default;
  /// n zero samples of the given shape.
  Batch(Shape s, Index n) : shape(s), data(Matrix<T>::Zero(s.size(), n)) {}
  /// Wraps existing data; throws ShapeError if data.rows() != s.size().
  Batch(Shape s, Matrix<T> d) : shape(s), data(std::move(d)) {
    if (data.rows() != shape.size()) {
      detail::fail<ShapeError>("Batch::Batch(): shape {} has {} values per sample, data has {} rows",
                               shape, shape.size(), data.rows());
    }
  }

  /// Number of samples.
  [[nodiscard]] Index size() const noexcept { return data.cols(); }
  /// Column j viewed as a sample.
  [[nodiscard]] auto sample(Index j) { return data.col(j); }
  [[nodiscard]] auto sample(Index j) const { return data.col(j); }
};

namespace detail {

/// Throws NumericError naming `where` and the first offending (feature, sample)
/// if m holds a NaN or an infinity.
template <class Derived>
void require_finite(const Eigen::MatrixBase<Derived>& m, const char* where, const char* what) {
  if (m.allFinite()) return;
  for (Index j = 0; j < m.cols(); ++j) {
    for (Index i = 0; i < m.rows(); ++i) {
      if (!std::isfinite(m(i, j))) {
        const auto v = m(i, j);
        fail<NumericError>("{}: {} has a non-finite value ({}) at feature {} of sample {}", where, what,
                           std::isnan(v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf"), i, j);
      }
    }
  }
}

}  // namespace detail
}  // namespace patternnet
