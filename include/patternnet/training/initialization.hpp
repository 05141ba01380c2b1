#pragma once
// He initialisation (He et al., "Delving deep into rectifiers", ICCV 2015) for ReLU networks.

#include <patternnet/network/sequential.hpp>
#include <patternnet/training/random.hpp>

#include <cmath>
#include <cstdint>
#include <type_traits>
#include <variant>

namespace patternnet::training {

/// Sets every Dense and Conv2D weight to N(0, 2 / fan_in) (fan_in = the weight's columns:
/// in_features, or C * kh * kw) and every bias to 0. Layers are filled in order, each
/// weight row by row, from one Random(seed): the same seed gives the same weights.
template <class T>
void initialize_he(Graph<T>& net, std::uint64_t seed) {
  Random random(seed);
  for_each_linear(net, [&](Index /*l*/, auto& layer) {
    Matrix<T>& w = layer.weight();
    const double stddev = std::sqrt(2.0 / static_cast<double>(w.cols()));
    for (Index i = 0; i < w.rows(); ++i) {
      for (Index k = 0; k < w.cols(); ++k) w(i, k) = static_cast<T>(stddev * random.normal());
    }
    layer.bias().setZero();
  });
}

}  // namespace patternnet::training
