#include "support.hpp"

#include <patternnet/testing.hpp>

#include <catch2/catch.hpp>

using Catch::Matchers::Contains;

TEST_CASE("set_input_shape computes every layer's shape") {
  const auto net = support::mixed_net<double>(1);
  CHECK(net.shape_at(1) == pn::Shape{3, 9, 8});
  CHECK(net.shape_at(3) == pn::Shape{3, 4, 4});
  CHECK(net.shape_at(4) == pn::Shape{4, 2, 2});
  CHECK(net.shape_at(6) == pn::Shape{16, 1, 1});
  CHECK(net.output_shape() == pn::Shape{3, 1, 1});
  CHECK(net.logits_end() == 9);
}

TEST_CASE("whole-network gradient matches finite differences (all layer types, batch of 4)") {
  const auto net = support::mixed_net<double>(2);
  const pn::Batch<double> x({2, 9, 8}, support::random_matrix<double>(144, 4, 3));
  const auto res = pn::testing::check_gradient(net, x);
  INFO("worst at feature " << res.feature << " sample " << res.sample << ": " << res.analytic << " vs " << res.numeric);
  CHECK(res.max_error < 1e-7);
}

TEST_CASE("the gradient check reports where the backward pass and the differences disagree") {
  // At a ReLU kink the central difference is 0.5 while the gradient rule says 0.
  pn::Sequential<double> relu_only{pn::ReLU<double>{}};
  relu_only.set_input_shape({3, 1, 1});
  pn::Batch<double> at_kink({3, 1, 1}, 1);
  at_kink.data << 1, 0, -1;
  const auto kink = pn::testing::check_gradient(relu_only, at_kink, 1e-6, 7);
  CHECK(kink.feature == 1);
  CHECK(kink.analytic == 0.0);
  CHECK(std::abs(kink.max_error - std::min(1.0, std::abs(kink.numeric))) < 1e-9);
  CHECK(std::abs(kink.numeric) > 0.01);
}

TEST_CASE("the batch result equals the per-sample results") {
  const auto net = support::mixed_net<double>(6);
  const pn::Batch<double> x({2, 9, 8}, support::random_matrix<double>(144, 5, 7));
  const pn::Matrix<double> batch = net.forward(x).data;
  const auto e = pn::explain(net, pn::rules::Gradient{}, x);
  for (pn::Index j = 0; j < 5; ++j) {
    const pn::Batch<double> one({2, 9, 8}, pn::Matrix<double>(x.data.col(j)));
    CHECK((net.forward(one).data - batch.col(j)).cwiseAbs().maxCoeff() < 1e-15);
    const auto ej = pn::explain(net, pn::rules::Gradient{}, one);
    CHECK(ej.targets[0] == e.targets[static_cast<std::size_t>(j)]);
    CHECK((ej.attribution.data - e.attribution.data.col(j)).cwiseAbs().maxCoeff() < 1e-14);
  }
}

TEST_CASE("float agrees with double within float rounding") {
  const auto net_d = support::mixed_net<double>(8);
  const auto net_f = support::mixed_net<float>(8);
  const auto xd = support::random_matrix<double>(144, 6, 9);
  const pn::Batch<double> bd({2, 9, 8}, xd);
  const pn::Batch<float> bf({2, 9, 8}, pn::Matrix<float>(xd.cast<float>()));
  const pn::Matrix<double> yd = net_d.forward(bd).data;
  const pn::Matrix<double> yf = net_f.forward(bf).data.cast<double>();
  CHECK((yd - yf).cwiseAbs().maxCoeff() < 1e-5);
  const auto gd = pn::explain(net_d, pn::rules::Gradient{}, bd, pn::Target::index(1));
  const auto gf = pn::explain(net_f, pn::rules::Gradient{}, bf, pn::Target::index(1));
  const double scale = gd.attribution.data.cwiseAbs().maxCoeff();
  CHECK((gd.attribution.data - gf.attribution.data.cast<double>()).cwiseAbs().maxCoeff() < 1e-5 * scale);
}

TEST_CASE("a mismatched chain names the layer and the sizes") {
  pn::Sequential<float> net{pn::Conv2D<float>(1, 4, 3), pn::ReLU<float>{}, pn::Flatten<float>{},
                            pn::Dense<float>(4 * 26 * 26 + 1, 10)};
  CHECK_THROWS_WITH(net.set_input_shape({1, 28, 28}),
                    Contains("Sequential::set_input_shape(): layer 3 (Dense) expects 2705 input features, got 2704"));
  CHECK_FALSE(net.ready());
  CHECK_THROWS_AS(net.set_input_shape({1, 28, 28}), pn::ShapeError);
  CHECK_THROWS_WITH(net.set_input_shape({2, 28, 28}), Contains("layer 0 (Conv2D) expects 1 input channels, got 2"));
}

TEST_CASE("bad input batches throw with the expected and actual shapes") {
  const auto net = support::mixed_net<float>(10);
  CHECK_THROWS_WITH(net.forward(pn::Batch<float>({2, 8, 9}, 1)),
                    Contains("Sequential::forward(): the network expects input shape [2, 9, 8], got a batch of shape [2, 8, 9]"));
  CHECK_THROWS_AS(net.forward(pn::Batch<float>({2, 9, 8}, 0)), pn::ShapeError);
  pn::Sequential<float> unbound{pn::ReLU<float>{}};
  CHECK_THROWS_WITH(unbound.forward(pn::Batch<float>({1, 1, 1}, 1)), Contains("call set_input_shape() first"));
  CHECK_THROWS_AS(pn::Batch<float>({2, 2, 2}, pn::Matrix<float>(7, 1)), pn::ShapeError);
}

TEST_CASE("NaN or Inf in the input throws NumericError naming feature and sample") {
  const auto net = support::mixed_net<double>(11);
  pn::Batch<double> x({2, 9, 8}, support::random_matrix<double>(144, 3, 12));
  x.data(17, 2) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(net.forward(x), Contains("non-finite value (NaN) at feature 17 of sample 2"));
  x.data(17, 2) = -std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(pn::explain(net, pn::rules::Gradient{}, x), Contains("(-Inf) at feature 17 of sample 2"));
}

TEST_CASE("a layer resized after set_input_shape() is caught at the next forward pass, naming it") {
  pn::Sequential<double> net{pn::Dense<double>(4, 3), pn::ReLU<double>{}, pn::Dense<double>(3, 2)};
  net.set_input_shape({4, 1, 1});
  const pn::Batch<double> x({4, 1, 1}, support::random_matrix<double>(4, 2, 5));
  REQUIRE(net.forward(x).data.rows() == 2);
  auto& first = net.get<pn::Dense<double>>(0);
  first.weight() = pn::Matrix<double>::Ones(5, 4);  // 5 outputs: the next layer would read past its input
  first.bias() = pn::Vector<double>::Zero(5);
  CHECK_THROWS_AS(net.forward(x), pn::ShapeError);
  CHECK_THROWS_WITH(net.forward(x), Contains("Sequential: layer 0 (Dense) was bound with weight 3x4, bias 3 and now "
                                             "has weight 5x4, bias 5") && Contains("call set_input_shape() again"));
  CHECK_THROWS_AS(pn::explain(net, pn::rules::Gradient{}, x), pn::ShapeError);
  first.weight() = pn::Matrix<double>::Ones(3, 4);
  CHECK_THROWS_WITH(net.forward(x), Contains("was bound with weight 3x4, bias 3 and now has weight 3x4, bias 5"));
  first.bias() = pn::Vector<double>::Zero(3);
  CHECK(net.forward(x).data.allFinite());  // back to the bound sizes
  // A BatchNorm2D's statistics, the same way.
  pn::Sequential<float> bn{pn::BatchNorm2D<float>(2), pn::Flatten<float>{}};
  bn.set_input_shape({2, 3, 3});
  bn.get<pn::BatchNorm2D<float>>(0).running_var() = pn::Vector<float>::Ones(3);
  CHECK_THROWS_WITH(bn.forward(pn::Batch<float>({2, 3, 3}, 1)),
                    Contains("layer 0 (BatchNorm2D) was bound with weight 2, bias 2, running mean 2, running variance 2 "
                             "and now has weight 2, bias 2, running mean 2, running variance 3"));
}

TEST_CASE("NaN or Inf parameters set after set_input_shape() are caught at the next forward pass, naming the layer") {
  pn::Sequential<double> net{pn::Dense<double>(pn::Matrix<double>::Identity(2, 2)), pn::ReLU<double>{},
                             pn::Dense<double>(pn::Matrix<double>::Ones(1, 2))};
  net.set_input_shape({2, 1, 1});
  const pn::Batch<double> x({2, 1, 1}, pn::Matrix<double>::Ones(2, 1));
  REQUIRE(net.forward(x).data(0, 0) == 2.0);
  net.get<pn::Dense<double>>(2).weight()(0, 1) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(net.forward(x), pn::NumericError);
  CHECK_THROWS_WITH(net.forward(x), Contains("Sequential: layer 2 (Dense) has NaN or Inf parameters"));
  CHECK_THROWS_WITH(pn::explain(net, pn::rules::Gradient{}, x), Contains("layer 2 (Dense) has NaN or Inf parameters"));
  net.get<pn::Dense<double>>(2).weight()(0, 1) = 1;
  // Finite parameters whose output overflows: named as an overflow.
  net.get<pn::Dense<double>>(0).weight() *= 1e300;
  const pn::Batch<double> big({2, 1, 1}, pn::Matrix<double>::Constant(2, 1, 1e10));
  CHECK_THROWS_WITH(net.forward(big), Contains("the output of layer 0 (Dense) overflowed to Inf or NaN from finite "
                                               "parameters and inputs"));
}
