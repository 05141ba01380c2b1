// Diagnostics of the backward pass: per-layer relevance sums, NaN / Inf reported with the
// layer where they first appear, and the public conservation check.
#include "rules/lrp_support.hpp"

#include <patternnet/rules/lrp.hpp>
#include <patternnet/testing.hpp>

#include <catch2/catch.hpp>

#include <limits>

using Catch::Matchers::Contains;

TEST_CASE("layer_sums: one row per layer input plus the seed, only on request") {
  const auto net = support::mixed_net<double>(1);
  const pn::Batch<double> x({2, 9, 8}, support::random_matrix<double>(144, 3, 2));
  CHECK(pn::explain(net, pn::rules::Gradient{}, x).layer_sums.size() == 0);
  pn::ExplainOptions options;
  options.layer_sums = true;
  const auto g = pn::explain(net, pn::rules::Gradient{}, x, pn::Target::argmax(), options);
  REQUIRE(g.layer_sums.rows() == net.logits_end() + 1);
  REQUIRE(g.layer_sums.cols() == 3);
  const auto rec = net.record(x, net.logits_end());
  const auto r = lrp_support::replay(net, rec, net.logits_end(), lrp_support::seed(rec.activations.back(), g.targets, false),
                                     [](pn::Index, const auto& layer, const auto& ctx, const auto& rin) {
                                       return lrp_support::hook(pn::rules::Gradient{}, layer, ctx, rin);
                                     });
  for (pn::Index l = 0; l <= net.logits_end(); ++l) {
    for (pn::Index j = 0; j < 3; ++j) CHECK(g.layer_sums(l, j) == Approx(r[static_cast<std::size_t>(l)].col(j).sum()).epsilon(1e-12));
  }
  CHECK(g.layer_sums.row(net.logits_end()) == Eigen::RowVectorXd::Ones(3));  // seed 1
  // Through the softmax the rows cover every layer.
  options.through_softmax = true;
  CHECK(pn::explain(net, pn::rules::Gradient{}, x, pn::Target::argmax(), options).layer_sums.rows() == net.size() + 1);
}

TEST_CASE("a NaN in the backward pass is reported with the layer where it first appears") {
  // Dense W1 = [[1, 1], [1, -1]] on x = (1, 1) gives z = (2, 0); ReLU; Dense [1, 1].
  // LRP-0 at layer 0 divides the relevance 0 of the second neuron by z = 0: 0 / 0 = NaN.
  pn::Matrix<double> w1(2, 2);
  w1 << 1, 1, 1, -1;
  pn::Sequential<double> net{pn::Dense<double>(w1), pn::ReLU<double>{}, pn::Dense<double>(pn::Matrix<double>::Ones(1, 2))};
  net.set_input_shape({2, 1, 1});
  pn::Batch<double> x({2, 1, 1}, 2);
  x.data.setOnes();
  x.data(1, 1) = 0.5;  // sample 1 is harmless: z = (1.5, 0.5)
  CHECK_THROWS_AS(pn::explain(net, pn::rules::Epsilon{0}, x), pn::NumericError);
  CHECK_THROWS_WITH(pn::explain(net, pn::rules::Epsilon{0}, x),
                    Contains("at the input of layer 0 (Dense) is NaN at feature 0 of sample 0"));
  // The stabiliser prevents it: the second neuron gets 0 / 1e-6 = 0. Layer 2 passes
  // R = (2, 0) * 2 / (2 + eps); layer 0 then gives both inputs R_0 / (2 + eps).
  const double eps = 1e-6;
  const auto e = pn::explain(net, pn::rules::Epsilon{eps}, x);
  CHECK(e.attribution.data.allFinite());
  CHECK(e.attribution.data(0, 0) == Approx(4.0 / ((2 + eps) * (2 + eps))).epsilon(1e-15));
  CHECK(e.attribution.data(1, 0) == Approx(4.0 / ((2 + eps) * (2 + eps))).epsilon(1e-15));
}

TEST_CASE("an Inf in the backward pass is reported as such, at the layer where it appears") {
  // Identity, ReLU, Dense [1, -1] on x = (1, 1): the logit is exactly 0. LRP-0 at the top
  // layer divides the seed by z = 0: with seed y_c = 0 that is NaN; with seed 1 it is +Inf,
  // and a .* W^T s = (+Inf, -Inf).
  pn::Matrix<float> w2(1, 2);
  w2 << 1, -1;
  pn::Sequential<float> net{pn::Dense<float>(pn::Matrix<float>::Identity(2, 2)), pn::ReLU<float>{}, pn::Dense<float>(w2)};
  net.set_input_shape({2, 1, 1});
  const pn::Batch<float> x({2, 1, 1}, pn::Matrix<float>::Ones(2, 1));
  CHECK_THROWS_WITH(pn::explain(net, pn::rules::Epsilon{0}, x), Contains("input of layer 2 (Dense) is NaN at feature 0"));
  CHECK_THROWS_WITH(pn::explain(net, pn::rules::Epsilon{0, pn::Seed::one}, x),
                    Contains("input of layer 2 (Dense) is +Inf at feature 0 of sample 0"));
}

TEST_CASE("testing::check_conservation reports the worst layer and sample") {
  const auto net = lrp_support::bias_free_net<double>(3);
  const pn::Batch<double> x({2, 8, 7}, support::random_matrix<double>(112, 4, 4));
  // ZPlus on a bias-free net: every denominator z = sum of non-negative terms, stabilised by
  // 1e-6, so each layer keeps z / (z + 1e-6) of the relevance; the loss is below 1e-4 unless
  // some z < 1e-2 (not in these data, as the small error shows).
  const auto zplus = pn::testing::check_conservation(net, pn::rules::ZPlus{}, x);
  CHECK(zplus.max_error < 1e-4);
  CHECK(zplus.layer >= 0);
  CHECK(zplus.sample >= 0);
  // LRP-0 conserves exactly up to rounding on this net (kappa-amplified, see test_lrp_identities).
  CHECK(pn::testing::check_conservation(net, pn::rules::Epsilon{0}, x).max_error < 1e-9);
  // Epsilon = 1 absorbs a visible share, and the check says where the worst loss is.
  const auto eps = pn::testing::check_conservation(net, pn::rules::Epsilon{1.0}, x);
  CHECK(eps.max_error > 1e-2);
  pn::ExplainOptions options;
  options.layer_sums = true;
  const auto e = pn::explain(net, pn::rules::Epsilon{1.0}, x, pn::Target::argmax(), options);
  const pn::Index top = net.logits_end();
  CHECK(eps.expected == e.layer_sums(top, eps.sample));
  CHECK(eps.actual == e.layer_sums(eps.layer, eps.sample));
  CHECK(eps.max_error == Approx(std::abs(eps.actual - eps.expected) / std::abs(eps.expected)));
  CHECK(eps.layer < top);
}
