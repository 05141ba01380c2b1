#include "support.hpp"

#include <patternnet/testing.hpp>

#include <catch2/catch.hpp>

using Catch::Matchers::Contains;

TEST_CASE("Dense forward is W x + b, with and without bias") {
  pn::Matrix<double> w(2, 3);
  w << 1, 2, 3, -1, 0, 4;
  pn::Vector<double> b(2);
  b << 0.5, -2;
  pn::Matrix<double> x(3, 2);
  x << 1, 0, 1, 1, -1, 2;
  const pn::Dense<double> with_bias(w, b), without(w);
  pn::Matrix<double> expected(2, 2);
  expected << 1 + 2 - 3 + 0.5, 0 + 2 + 6 + 0.5, -1 + 0 - 4 - 2, 0 + 0 + 8 - 2;
  CHECK(with_bias.forward(x) == expected);
  CHECK(without.forward(x) == (expected.colwise() - b));
  CHECK_FALSE(without.has_bias());
}

TEST_CASE("Dense hooks are adjoint for random matrices") {
  pn::Dense<double> layer(7, 5);
  layer.bind({7, 1, 1}, 0);
  for (unsigned seed = 0; seed < 5; ++seed) {
    const auto m = support::random_matrix<double>(5, 7, seed);
    const auto res = pn::testing::check_adjoint(layer, m, support::random_matrix<double>(7, 4, seed + 10),
                                                support::random_matrix<double>(5, 4, seed + 20));
    CHECK(res.max_error < 1e-14);
  }
}

TEST_CASE("Dense gradient matches finite differences") {
  pn::Dense<double> layer(support::random_matrix<double>(4, 6, 3), support::random_vector<double>(4, 4));
  pn::Sequential<double> net{layer};
  net.set_input_shape({6, 1, 1});
  const auto res = pn::testing::check_gradient(net, pn::Batch<double>({6, 1, 1}, support::random_matrix<double>(6, 3, 5)));
  CHECK(res.max_error < 1e-8);
}

TEST_CASE("Dense rejects inconsistent construction and wrong input sizes") {
  CHECK_THROWS_AS(pn::Dense<float>(0, 3), pn::ConfigError);
  CHECK_THROWS_WITH(pn::Dense<float>(-2, 3), Contains("Dense::Dense(): features must be >= 1, got in = -2, out = 3"));
  // Sizes nobody could mean are refused before anything is allocated, not as std::bad_alloc.
  CHECK_THROWS_WITH(pn::Dense<float>(pn::Index{1} << 30, pn::Index{1} << 30),
                    Contains("Dense::Dense(): the weight would hold 1152921504606846976 values, more than the limit of 4294967296"));
  CHECK_THROWS_WITH(pn::Dense<float>(pn::Index{1} << 40, pn::Index{1} << 40),
                    Contains("the weight would hold more than 2^63 values"));
  CHECK_THROWS_WITH(pn::Dense<float>(pn::Matrix<float>::Ones(3, 2), pn::Vector<float>::Ones(2)),
                    Contains("3 rows") && Contains("2 entries"));
  pn::Dense<float> layer(784, 10);
  CHECK_THROWS_WITH(layer.bind({783, 1, 1}, 4), Contains("layer 4 (Dense) expects 784 input features, got 783"));
  CHECK(layer.bind({16, 7, 7}, 0) == pn::Shape{10, 1, 1});
}
