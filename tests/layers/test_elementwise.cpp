// ReLU, Softmax and Flatten.
#include "support.hpp"

#include <patternnet/testing.hpp>

#include <catch2/catch.hpp>

TEST_CASE("ReLU forward and mask") {
  const pn::ReLU<float> relu;
  pn::Matrix<float> z(4, 1), r(4, 1);
  z << -1, 0, 2, 3;
  r << 5, 6, 7, -8;
  CHECK(relu.forward(z) == (pn::Matrix<float>(4, 1) << 0, 0, 2, 3).finished());
  CHECK(relu.gradient(z, r) == (pn::Matrix<float>(4, 1) << 0, 0, 7, -8).finished());
}

TEST_CASE("Softmax is finite and correct for logits around +-1000") {
  const pn::Softmax<double> softmax;
  pn::Matrix<double> z(3, 2);
  z << 1000, -1000, 999, -1001, 998, -1003;
  const pn::Matrix<double> p = softmax.forward(z);
  REQUIRE(p.allFinite());
  const double e1 = std::exp(-1.0), e2 = std::exp(-2.0), e3 = std::exp(-3.0);
  CHECK(p(0, 0) == Approx(1 / (1 + e1 + e2)).epsilon(1e-14));
  CHECK(p(2, 0) == Approx(e2 / (1 + e1 + e2)).epsilon(1e-14));
  CHECK(p(2, 1) == Approx(e3 / (1 + e1 + e3)).epsilon(1e-14));
  CHECK(p.colwise().sum().isOnes(1e-15));
  const pn::Softmax<float> softmax_f;
  const pn::Matrix<float> pf = softmax_f.forward(z.cast<float>());
  CHECK(pf.allFinite());
  CHECK(std::abs(pf(0, 0) - p(0, 0)) < 1e-6);
}

TEST_CASE("Softmax gradient matches finite differences") {
  pn::Sequential<double> net{pn::Softmax<double>{}};
  net.set_input_shape({5, 1, 1});
  const auto res = pn::testing::check_gradient(net, pn::Batch<double>({5, 1, 1}, support::random_matrix<double>(5, 3, 2, -3, 3)));
  CHECK(res.max_error < 1e-8);
}

TEST_CASE("Flatten keeps the data and flattens the shape") {
  pn::Flatten<float> flatten;
  CHECK(flatten.bind({3, 4, 5}, 0) == pn::Shape{60, 1, 1});
  const auto x = support::random_matrix<float>(60, 2, 3);
  CHECK(flatten.forward(x) == x);
}
