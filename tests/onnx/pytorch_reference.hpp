#pragma once
// Shared by the ONNX tests: how far a result is from PyTorch's.
#include <patternnet/core/batch.hpp>

#include <catch2/catch.hpp>

#include <algorithm>

namespace support {

/// max |a - b| / max(1, max |b|): the error relative to the reference b's scale; the
/// shapes must agree (REQUIRE).
template <class T>
double scaled_error(const patternnet::Matrix<T>& a, const patternnet::Matrix<T>& b) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  return static_cast<double>((a - b).cwiseAbs().maxCoeff()) / std::max(1.0, static_cast<double>(b.cwiseAbs().maxCoeff()));
}

}  // namespace support
