// Explains a two-layer network's decision with the gradient; exits 0 if the result is
// the hand-computed one.
#include <patternnet/patternnet.hpp>

#include <cmath>
#include <cstdio>

namespace pn = patternnet;

int main() {
  pn::Matrix<double> w1(2, 2), w2(1, 2);
  w1 << 1, -1, 2, 1;
  w2 << 1, 1;
  pn::Sequential<double> net{pn::Dense<double>{w1}, pn::ReLU<double>{}, pn::Dense<double>{w2}};
  net.set_input_shape({2, 1, 1});
  pn::Batch<double> x({2, 1, 1}, 1);
  x.data << 3, 1;  // hidden pre-activations (2, 7): both active
  const auto e = pn::explain(net, pn::rules::Gradient{}, x);
  // d y / d x = w2 * w1 = (3, 0)
  const bool ok = std::abs(e.attribution.data(0, 0) - 3) < 1e-12 && std::abs(e.attribution.data(1, 0)) < 1e-12;
  std::printf("gradient = (%g, %g): %s\n", e.attribution.data(0, 0), e.attribution.data(1, 0), ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
