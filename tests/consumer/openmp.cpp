// Uses the installed openmp component: compiled with OpenMP, a batched convolution runs
// its samples on two threads and gives the numbers of one thread; exits 0 if so.
#include <patternnet/patternnet.hpp>

#include <cstdio>

#ifndef _OPENMP
#error "linking patternnet::openmp must compile with OpenMP"
#endif

namespace pn = patternnet;

int main() {
  pn::Sequential<float> net{pn::Conv2D<float>(1, 4, 3, pn::Padding{1}), pn::ReLU<float>{}, pn::Flatten<float>{},
                            pn::Dense<float>(4 * 8 * 8, 3)};
  net.set_input_shape({1, 8, 8});
  pn::for_each_linear(net, [](pn::Index, auto& layer) { layer.weight().setRandom(); });
  const pn::Batch<float> x({1, 8, 8}, pn::Matrix<float>::Random(64, 6));
  omp_set_num_threads(1);
  const auto one = pn::explain(net, pn::rules::Gradient{}, x);
  omp_set_num_threads(2);
  const auto two = pn::explain(net, pn::rules::Gradient{}, x);
  const bool ok = one.attribution.data == two.attribution.data && one.attribution.data.norm() > 0;
  std::printf("openmp component: %s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
