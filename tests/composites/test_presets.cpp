// The preset composites against their definitions: the per-layer rules applied by hand,
// and Deep Taylor's sign and conservation properties.
#include "rules/lrp_support.hpp"

#include <patternnet/composites/presets.hpp>
#include <patternnet/testing.hpp>

#include <catch2/catch.hpp>

namespace pc = patternnet::composites;

TEST_CASE("EpsilonPlusFlat and EpsilonGammaBox equal the per-layer rules applied by hand") {
  const auto net = support::mixed_net<double>(5);
  const pn::Batch<double> x({2, 9, 8}, support::random_matrix<double>(144, 3, 6));
  const auto rec = net.record(x, net.logits_end());
  const pn::rules::ZBox box{-1.5, 1.5};
  const auto by_hand = [&](auto first, auto conv) {
    return [&, first, conv](pn::Index l, const auto& layer, const auto& ctx, const auto& r) {
      if (l == 0) return lrp_support::hook(first, layer, ctx, r);
      if (l == 3) return lrp_support::hook(conv, layer, ctx, r);
      if (l == 6 || l == 8) return lrp_support::hook(pn::rules::Epsilon{0.01}, layer, ctx, r);
      if (l == 2) return lrp_support::hook(pn::rules::Gradient{}, layer, ctx, r);
      return lrp_support::hook(pn::rules::Pass{}, layer, ctx, r);
    };
  };
  const auto plus_flat = pn::explain(net, pc::EpsilonPlusFlat{0.01}, x);
  const auto seed = lrp_support::seed(rec.activations.back(), plus_flat.targets, true);
  CHECK(plus_flat.attribution.data ==
        lrp_support::replay(net, rec, net.logits_end(), seed, by_hand(pn::rules::Flat{}, pn::rules::ZPlus{}))[0]);
  const auto gamma_box = pn::explain(net, pc::EpsilonGammaBox{-1.5, 1.5, 0.01, 0.25}, x);
  CHECK(gamma_box.attribution.data ==
        lrp_support::replay(net, rec, net.logits_end(), seed, by_hand(box, pn::rules::Gamma{0.25}))[0]);
  // Seed::one scales every relevance by 1 / y_c.
  const auto one = pn::explain(net, pc::EpsilonPlusFlat{0.01, pn::Seed::one}, x);
  for (pn::Index j = 0; j < 3; ++j) {
    CHECK((plus_flat.attribution.data.col(j) - one.target_values(j) * one.attribution.data.col(j)).cwiseAbs().maxCoeff() <=
          1e-13 * plus_flat.attribution.data.col(j).cwiseAbs().maxCoeff());  // a few ulps per layer
  }
  // backward() takes the composite too.
  CHECK(pn::backward(net, pc::EpsilonPlusFlat{0.01}, rec, net.logits_end(), seed) == plus_flat.attribution.data);
}

TEST_CASE("Deep Taylor on a bias-free ReLU net: non-negative, conservative relevance") {
  // With x in the box [0, 1], every ZBox term w (x - l) or w (x - h) is >= 0 and every ZPlus
  // term (inputs >= 0 after ReLU) is >= 0: relevance keeps the sign of y_c, and each layer
  // keeps z / (z + 1e-6) of it (the stabiliser), a loss < 1e-4 unless some z < 1e-2.
  const auto check = [](const auto& net, const auto& x) {
    const auto e = pn::explain(net, pc::DeepTaylor{0, 1}, x);
    for (pn::Index j = 0; j < x.size(); ++j) {
      CHECK((e.attribution.data.col(j) * e.target_values(j)).minCoeff() >= 0);
      CHECK(e.attribution.data.col(j).cwiseAbs().maxCoeff() > 0);
    }
    CHECK(pn::testing::check_conservation(net, pc::DeepTaylor{0, 1}, x).max_error < 1e-4);
  };
  const auto net = lrp_support::bias_free_net<double>(7);
  check(net, pn::Batch<double>({2, 8, 7}, support::random_matrix<double>(112, 4, 8, 0.0, 1.0)));
  const auto net_float = lrp_support::bias_free_net<float>(9);
  check(net_float, pn::Batch<float>({2, 8, 7}, support::random_matrix<float>(112, 4, 10, 0.0, 1.0)));
}
