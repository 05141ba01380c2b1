// SmoothGrad, SmoothGrad^2 and VarGrad: sigma = 0 is the gradient, a linear model is
// smooth already, the noise level is relative to the input range, seeds reproduce.
#include "support.hpp"

#include <patternnet/methods/smoothgrad.hpp>

#include <catch2/catch.hpp>

#include <cmath>

using Catch::Matchers::Contains;
namespace pm = patternnet::methods;

namespace {

template <class T>
pn::Sequential<T> softmax_cnn(unsigned seed) {
  pn::Sequential<T> net{pn::Conv2D<T>(1, 4, 3, pn::Padding{1}), pn::ReLU<T>{}, pn::MaxPool2D<T>(2), pn::Flatten<T>{},
                        pn::Dense<T>(4 * 4 * 4, 8),           pn::ReLU<T>{}, pn::Dense<T>(8, 3), pn::Softmax<T>{}};
  net.set_input_shape({1, 8, 8});
  support::randomize(net, seed, 0.5);
  return net;
}

}  // namespace

TEST_CASE("SmoothGrad with sigma = 0 equals the gradient, in double and float") {
  const auto net = softmax_cnn<double>(1);
  const pn::Batch<double> x({1, 8, 8}, support::random_matrix<double>(64, 3, 2));
  const auto gradient = pn::explain(net, pn::rules::Gradient{}, x);
  const auto smooth = pm::smoothgrad(net, x, pn::Target::argmax(), {.samples = 5, .sigma = 0});
  // Every copy is x itself; only the batch size of the GEMMs differs (rounding).
  CHECK((smooth.attribution.data - gradient.attribution.data).cwiseAbs().maxCoeff() <=
        1e-14 * gradient.attribution.data.cwiseAbs().maxCoeff());
  CHECK(smooth.targets == gradient.targets);
  CHECK(smooth.target_values == gradient.target_values);
  const auto squared = pm::smoothgrad(net, x, pn::Target::argmax(),
                                      {.samples = 5, .sigma = 0, .variant = pm::SmoothGradVariant::squared});
  CHECK((squared.attribution.data - gradient.attribution.data.cwiseAbs2()).cwiseAbs().maxCoeff() <=
        1e-13 * gradient.attribution.data.cwiseAbs2().maxCoeff());
  const auto var = pm::smoothgrad(net, x, pn::Target::argmax(), {.samples = 5, .sigma = 0, .variant = pm::SmoothGradVariant::var});
  CHECK(var.attribution.data.cwiseAbs().maxCoeff() <= 1e-26 * gradient.attribution.data.cwiseAbs2().maxCoeff());

  const auto net_float = softmax_cnn<float>(1);
  const pn::Batch<float> xf({1, 8, 8}, support::random_matrix<float>(64, 3, 2));
  const auto gf = pn::explain(net_float, pn::rules::Gradient{}, xf);
  const auto sf = pm::smoothgrad(net_float, xf, pn::Target::argmax(), {.samples = 4, .sigma = 0});
  CHECK((sf.attribution.data - gf.attribution.data).cwiseAbs().maxCoeff() <= 1e-6f * gf.attribution.data.cwiseAbs().maxCoeff());
}

TEST_CASE("SmoothGrad on a linear model is the gradient for any sigma, VarGrad is zero") {
  pn::Sequential<double> net{pn::Conv2D<double>(1, 2, 3), pn::Flatten<double>{}, pn::Dense<double>(2 * 6 * 6, 3)};
  net.set_input_shape({1, 8, 8});
  support::randomize(net, 3);
  const pn::Batch<double> x({1, 8, 8}, support::random_matrix<double>(64, 2, 4));
  const auto gradient = pn::explain(net, pn::rules::Gradient{}, x);
  const auto smooth = pm::smoothgrad(net, x, pn::Target::argmax(), {.samples = 16, .sigma = 1.0, .seed = 5});
  CHECK((smooth.attribution.data - gradient.attribution.data).cwiseAbs().maxCoeff() <=
        1e-13 * gradient.attribution.data.cwiseAbs().maxCoeff());
  const auto var = pm::smoothgrad(net, x, pn::Target::argmax(),
                                  {.samples = 16, .sigma = 1.0, .variant = pm::SmoothGradVariant::var, .seed = 5});
  CHECK(var.attribution.data.cwiseAbs().maxCoeff() <= 1e-26 * gradient.attribution.data.cwiseAbs2().maxCoeff());
}

TEST_CASE("SmoothGrad's noise is relative to the input range (a Monte Carlo check)") {
  // f(x) = relu(x0 - 0.5). x = (0, r) has range r; with sigma = 0.5 the noise on x0 is
  // N(0, (0.5 r)^2), so the mean gradient wrt x0 is P(n > 0.5) = 1 - Phi(1 / r), its
  // variance p (1 - p). n = 4000 copies: standard error sqrt(p (1 - p) / n) < 0.008; the
  // check allows 4 standard errors (a deterministic seed: no flakiness, but an honest bound).
  pn::Matrix<double> w1(1, 2);
  w1 << 1, 0;
  pn::Sequential<double> net{pn::Dense<double>(w1, pn::Vector<double>::Constant(1, -0.5)), pn::ReLU<double>{},
                             pn::Dense<double>(pn::Matrix<double>::Ones(1, 1))};
  net.set_input_shape({2, 1, 1});
  pn::Batch<double> x({2, 1, 1}, 2);
  x.data << 0, 0, 1, 2;  // ranges 1 and 2
  const pn::Index n = 4000;
  const auto mean = pm::smoothgrad(net, x, pn::Target::argmax(), {.samples = n, .sigma = 0.5, .seed = 11});
  const auto var = pm::smoothgrad(net, x, pn::Target::argmax(),
                                  {.samples = n, .sigma = 0.5, .variant = pm::SmoothGradVariant::var, .seed = 11});
  const auto squared = pm::smoothgrad(net, x, pn::Target::argmax(),
                                      {.samples = n, .sigma = 0.5, .variant = pm::SmoothGradVariant::squared, .seed = 11});
  for (pn::Index j = 0; j < 2; ++j) {
    const double range = double(j + 1);
    const double p = 0.5 * std::erfc(1.0 / range / std::sqrt(2.0));  // 1 - Phi(1 / range)
    const double se = std::sqrt(p * (1 - p) / double(n));
    INFO("sample " << j << ": p = " << p << ", mean gradient = " << mean.attribution.data(0, j));
    CHECK(std::abs(mean.attribution.data(0, j) - p) < 4 * se);
    CHECK(mean.attribution.data(1, j) == 0);
    // The gradient is 0 or 1, so g^2 = g and Var = mean - mean^2 exactly (up to rounding).
    const double m = mean.attribution.data(0, j);
    CHECK(squared.attribution.data(0, j) == Approx(m).epsilon(1e-12));
    CHECK(var.attribution.data(0, j) == Approx(m - m * m).epsilon(1e-12));
  }
}

TEST_CASE("SmoothGrad: a seed reproduces results exactly, chunking changes only rounding") {
  const auto net = softmax_cnn<float>(21);
  const pn::Batch<float> x({1, 8, 8}, support::random_matrix<float>(64, 3, 22));
  const pm::SmoothGradOptions options{.samples = 12, .sigma = 0.2, .seed = 42, .chunk = 10};
  const auto a = pm::smoothgrad(net, x, pn::Target::argmax(), options);
  const auto b = pm::smoothgrad(net, x, pn::Target::argmax(), options);
  CHECK(a.attribution.data == b.attribution.data);
  auto other_seed = options;
  other_seed.seed = 43;
  const auto c = pm::smoothgrad(net, x, pn::Target::argmax(), other_seed);
  CHECK((c.attribution.data - a.attribution.data).cwiseAbs().maxCoeff() > 1e-3f * a.attribution.data.cwiseAbs().maxCoeff());
  auto other_chunk = options;
  other_chunk.chunk = 1000;
  const auto d = pm::smoothgrad(net, x, pn::Target::argmax(), other_chunk);
  // The same noise (drawn in the same order); float gradients differ by GEMM rounding only.
  CHECK((d.attribution.data - a.attribution.data).cwiseAbs().maxCoeff() <= 1e-5f * a.attribution.data.cwiseAbs().maxCoeff());
}

TEST_CASE("SmoothGrad rejects bad options with clear messages") {
  const auto net = softmax_cnn<double>(31);
  const pn::Batch<double> x({1, 8, 8}, support::random_matrix<double>(64, 1, 32));
  CHECK_THROWS_AS(pm::smoothgrad(net, x, pn::Target::argmax(), {.samples = 0}), pn::ConfigError);
  CHECK_THROWS_WITH(pm::smoothgrad(net, x, pn::Target::argmax(), {.samples = 0}), Contains("smoothgrad(): samples must be >= 1, got 0"));
  CHECK_THROWS_WITH(pm::smoothgrad(net, x, pn::Target::argmax(), {.sigma = -0.1}),
                    Contains("smoothgrad(): sigma must be finite and >= 0, got -0.1"));
  CHECK_THROWS_WITH(pm::smoothgrad(net, x, pn::Target::argmax(), {.chunk = 0}), Contains("smoothgrad(): chunk must be >= 1, got 0"));
  // samples x copies overflows Index; a chunk of 2^60 points of 64 values overflows it too.
  const pn::Batch<double> two({1, 8, 8}, support::random_matrix<double>(64, 2, 33));
  CHECK_THROWS_WITH(pm::smoothgrad(net, two, pn::Target::argmax(), {.samples = pn::Index{1} << 62}),
                    Contains("smoothgrad(): the points (samples x copies) would hold more than 2^63 values"));
  CHECK_THROWS_WITH(pm::smoothgrad(net, x, pn::Target::argmax(), {.samples = pn::Index{1} << 60, .chunk = pn::Index{1} << 60}),
                    Contains("smoothgrad(): one chunk of points would hold more than 2^63 values"));
}
