// The compile-time benchmark of docs/getting-started.md: the umbrella header and a small CNN
// explained with Gradient and EpsilonPlusFlat (measure.sh compiles it header-only and with
// patternnet::precompiled, and runs both).
#include <patternnet/patternnet.hpp>
#include <patternnet/training/initialization.hpp>

#include <cstdio>

namespace pn = patternnet;

int main() {
  pn::Sequential<float> net{pn::Conv2D<float>{1, 8, 3, pn::Padding{1}}, pn::ReLU<float>{}, pn::MaxPool2D<float>{2},
                            pn::Flatten<float>{}, pn::Dense<float>{8 * 14 * 14, 10}};
  net.set_input_shape({1, 28, 28});
  pn::training::initialize_he(net, 1);
  pn::Batch<float> x({1, 28, 28}, 4);
  x.data.setRandom();
  const auto g = pn::explain(net, pn::rules::Gradient{}, x);
  const auto l = pn::explain(net, pn::composites::EpsilonPlusFlat{}, x);
  std::printf("gradient sum %.9g, EpsilonPlusFlat sum %.9g\n", static_cast<double>(g.attribution.data.sum()),
              static_cast<double>(l.attribution.data.sum()));
  return 0;
}
