// A first look: build a small CNN, explain a batch with the gradient, print the result.
#include <patternnet/patternnet.hpp>

#include <fmt/format.h>

#include <random>

namespace pn = patternnet;

int main() {
  // A tiny CNN for 1 x 8 x 8 images and 3 classes; weights from a seeded generator.
  pn::Sequential<float> net{pn::Conv2D<float>(1, 4, 3, pn::Padding{1}), pn::ReLU<float>{},
                            pn::MaxPool2D<float>(2),  pn::Flatten<float>{},
                            pn::Dense<float>(4 * 4 * 4, 3), pn::Softmax<float>{}};
  net.set_input_shape({1, 8, 8});
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, 0.5f);
  pn::for_each_linear(net, [&](pn::Index, auto& layer) {
    layer.weight() = layer.weight().unaryExpr([&](float) { return normal(rng); });
  });

  // Two images: a bright vertical bar and a bright horizontal bar.
  pn::Batch<float> x({1, 8, 8}, 2);
  for (int i = 0; i < 8; ++i) {
    x.data(i * 8 + 3, 0) = 1.0f;
    x.data(3 * 8 + i, 1) = 1.0f;
  }
  const auto probabilities = net.forward(x);
  const auto e = pn::explain(net, pn::rules::Gradient{}, x);  // explains the top logit
  for (pn::Index n = 0; n < x.size(); ++n) {
    fmt::print("image {}: class {} (logit {:.3f}, p = {:.3f}); gradient of the logit:\n", n,
               e.targets[n], e.target_values(n), probabilities.data(e.targets[n], n));
    for (int r = 0; r < 8; ++r) {
      for (int c = 0; c < 8; ++c) fmt::print("{:7.3f}", e.attribution.data(r * 8 + c, n));
      fmt::print("\n");
    }
  }
}
