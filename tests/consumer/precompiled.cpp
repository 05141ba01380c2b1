// Uses the installed precompiled component: explains a float network with the gradient and
// with EpsilonPlusFlat, whose code comes from libpatternnet_precompiled (this file declares
// it extern); exits 0 if both give the hand-computed values.
#include <patternnet/patternnet.hpp>

#include <cmath>
#include <cstdio>

#ifndef PATTERNNET_PRECOMPILED
#error "linking patternnet::precompiled must define PATTERNNET_PRECOMPILED"
#endif

namespace pn = patternnet;

int main() {
  pn::Matrix<float> w1(2, 2), w2(1, 2);
  w1 << 1, -1, 2, 1;
  w2 << 1, 1;
  pn::Sequential<float> net{pn::Dense<float>{w1}, pn::ReLU<float>{}, pn::Dense<float>{w2}};
  net.set_input_shape({2, 1, 1});
  pn::Batch<float> x({2, 1, 1}, 1);
  x.data << 3, 1;  // hidden pre-activations (2, 7), output 9
  const auto g = pn::explain(net, pn::rules::Gradient{}, x);
  // d y / d x = w2 * w1 = (3, 0)
  const bool grad_ok = std::abs(g.attribution.data(0, 0) - 3) < 1e-6 && std::abs(g.attribution.data(1, 0)) < 1e-6;
  // EpsilonPlusFlat, bias-free: the top layer (Epsilon) sends (2, 7) to the hidden units; the
  // lowest layer (Flat) splits each equally over the two inputs: (4.5, 4.5).
  const auto l = pn::explain(net, pn::composites::EpsilonPlusFlat{}, x);
  const bool lrp_ok =
      std::abs(l.attribution.data(0, 0) - 4.5f) < 1e-4 && std::abs(l.attribution.data(1, 0) - 4.5f) < 1e-4;
  std::printf("precompiled component: gradient (%g, %g), EpsilonPlusFlat (%g, %g): %s\n", g.attribution.data(0, 0),
              g.attribution.data(1, 0), l.attribution.data(0, 0), l.attribution.data(1, 0),
              grad_ok && lrp_ok ? "ok" : "WRONG");
  return grad_ok && lrp_ok ? 0 : 1;
}
