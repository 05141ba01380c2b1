#pragma once
// The benchmarks' reference model: a small CNN for 28 x 28 inputs (two conv-ReLU-pool
// blocks, two dense layers, softmax) with seeded He-normal weights, and a batch of 256.

#include <patternnet/patternnet.hpp>

#include <random>

namespace bench {

namespace pn = patternnet;

constexpr pn::Index kBatch = 256;

inline pn::Sequential<float> small_cnn() {
  pn::Sequential<float> net{pn::Conv2D<float>(1, 16, 3, pn::Padding::same()), pn::ReLU<float>{}, pn::MaxPool2D<float>(2),
                            pn::Conv2D<float>(16, 32, 3, pn::Padding::same()), pn::ReLU<float>{}, pn::MaxPool2D<float>(2),
                            pn::Flatten<float>{}, pn::Dense<float>(32 * 7 * 7, 128), pn::ReLU<float>{},
                            pn::Dense<float>(128, 10), pn::Softmax<float>{}};
  net.set_input_shape({1, 28, 28});
  std::mt19937 rng(1);
  for (pn::Index l = 0; l < net.size(); ++l) {
    std::visit([&](auto& layer) {
      if constexpr (pn::LinearLayer<std::decay_t<decltype(layer)>>) {
        std::normal_distribution<float> he(0.0f, std::sqrt(2.0f / static_cast<float>(layer.weight().cols())));
        layer.weight() = layer.weight().unaryExpr([&](float) { return he(rng); });
      }
    }, net.layer(l));
  }
  return net;
}

inline const pn::Sequential<float>& net() {
  static const auto n = small_cnn();
  return n;
}
/// kBatch images with pixels uniform in [0, 1], seeded by Eigen's default generator.
inline const pn::Batch<float>& batch() {
  static const pn::Batch<float> b({1, 28, 28}, pn::Matrix<float>((pn::Matrix<float>::Random(784, kBatch).array() + 1) / 2));
  return b;
}

inline void count_samples(benchmark::State& state, pn::Index per_iteration = kBatch) {
  state.SetItemsProcessed(state.iterations() * per_iteration);
}

}  // namespace bench
