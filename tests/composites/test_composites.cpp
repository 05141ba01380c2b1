// Composites: first-match mapping, the first-layer override, the presets against their
// definitions, and a composite of one rule = that rule.
#include "rules/lrp_support.hpp"

#include <patternnet/composites/presets.hpp>

#include <catch2/catch.hpp>

namespace pc = patternnet::composites;

namespace {

template <class Rule>
bool is(const pc::Resolved& resolved, pn::Index l) {
  return std::holds_alternative<Rule>(resolved.rule(l));
}

}  // namespace

TEST_CASE("a composite of one rule gives exactly that rule's explanation") {
  const auto net = support::mixed_net<double>(1);
  const pn::Batch<double> x({2, 9, 8}, support::random_matrix<double>(144, 3, 2));
  const std::vector<pc::AnyRule> rules{pn::rules::Epsilon{0.1},       pn::rules::ZPlus{},   pn::rules::AlphaBeta{},
                                       pn::rules::Gamma{0.5},         pn::rules::Flat{},    pn::rules::WSquare{},
                                       pn::rules::ZBox{-1, 1},        pn::rules::Gradient{}, pn::rules::GuidedBackprop{},
                                       pn::rules::DeConvNet{}};
  for (const auto& any : rules) {
    std::visit(
        [&](const auto& rule) {
          const pc::Composite composite({{pc::Match::any(), rule}}, {}, rule.seed());
          const auto alone = pn::explain(net, rule, x);
          const auto mapped = pn::explain(net, composite, x);
          CHECK(mapped.attribution.data == alone.attribution.data);
          CHECK(mapped.targets == alone.targets);
        },
        any);
  }
}

TEST_CASE("presets map the layers as Zennit's composites do") {
  const auto net = support::mixed_net<float>(3);
  // 0 Conv2D, 1 ReLU, 2 MaxPool2D, 3 Conv2D, 4 ReLU, 5 Flatten, 6 Dense, 7 ReLU, 8 Dense, 9 Softmax
  using namespace pn::rules;
  const auto common = [&](const pc::Resolved& r) {
    CHECK(r.size() == 10);
    CHECK(is<Pass>(r, 1));
    CHECK(is<Gradient>(r, 2));  // max-pool: winner takes all
    CHECK(is<Pass>(r, 4));
    CHECK(is<Gradient>(r, 5));
    CHECK(is<Epsilon>(r, 6));
    CHECK(is<Pass>(r, 7));
    CHECK(is<Epsilon>(r, 8));
    CHECK(is<Gradient>(r, 9));  // softmax: its Jacobian (used only with through_softmax)
    CHECK(std::get<Epsilon>(r.rule(8)).epsilon() == 1e-6);
  };
  const auto plus = pc::EpsilonPlus{}.resolve(net);
  common(plus);
  CHECK(is<ZPlus>(plus, 0));
  CHECK(is<ZPlus>(plus, 3));
  const auto plus_flat = pc::EpsilonPlusFlat{}.resolve(net);
  common(plus_flat);
  CHECK(is<Flat>(plus_flat, 0));
  CHECK(is<ZPlus>(plus_flat, 3));
  const auto ab = pc::EpsilonAlpha2Beta1{}.resolve(net);
  common(ab);
  CHECK(std::get<Epsilon>(pc::EpsilonAlpha2Beta1{0.25}.resolve(net).rule(8)).epsilon() == 0.25);
  CHECK(is<AlphaBeta>(ab, 0));
  CHECK(std::get<AlphaBeta>(ab.rule(3)).alpha() == 2);
  CHECK(std::get<AlphaBeta>(ab.rule(3)).beta() == 1);
  const auto ab_flat = pc::EpsilonAlpha2Beta1Flat{}.resolve(net);
  common(ab_flat);
  CHECK(is<Flat>(ab_flat, 0));
  CHECK(is<AlphaBeta>(ab_flat, 3));
  const auto gamma_box = pc::EpsilonGammaBox{-2, 2}.resolve(net);
  common(gamma_box);
  CHECK(is<ZBox>(gamma_box, 0));
  CHECK(is<Gamma>(gamma_box, 3));
  CHECK(std::get<Gamma>(gamma_box.rule(3)).gamma() == 0.25);
  const auto taylor = pc::DeepTaylor{-2, 2}.resolve(net);
  CHECK(is<ZBox>(taylor, 0));
  CHECK(is<Pass>(taylor, 1));
  CHECK(is<ZPlus>(taylor, 3));
  CHECK(is<ZPlus>(taylor, 6));
  CHECK(is<ZPlus>(taylor, 8));
  CHECK(pc::EpsilonPlus{}.seed() == pn::Seed::logit);
  CHECK(pc::EpsilonPlus{1e-6, pn::Seed::one}.seed() == pn::Seed::one);
  CHECK_FALSE(std::get<Epsilon>(pc::EpsilonPlus{1e-6, pn::Seed::logit, pn::Bias{false}}.resolve(net).rule(6)).uses_bias());
}

TEST_CASE("the first-layer override goes to the lowest matching layer, not to index 0") {
  pn::Sequential<double> mlp{pn::Flatten<double>{}, pn::Dense<double>(12, 5), pn::ReLU<double>{}, pn::Dense<double>(5, 3)};
  mlp.set_input_shape({1, 3, 4});
  const auto flat = pc::EpsilonPlusFlat{}.resolve(mlp);
  CHECK(std::holds_alternative<pn::rules::Gradient>(flat.rule(0)));
  CHECK(std::holds_alternative<pn::rules::Flat>(flat.rule(1)));
  CHECK(std::holds_alternative<pn::rules::Epsilon>(flat.rule(3)));
  // EpsilonGammaBox overrides the first Conv2D only: an MLP gets no ZBox at all (as in Zennit).
  const auto box = pc::EpsilonGammaBox{0, 1}.resolve(mlp);
  CHECK(std::holds_alternative<pn::rules::Epsilon>(box.rule(1)));
  CHECK(std::holds_alternative<pn::rules::Epsilon>(box.rule(3)));
  // First match wins, in list order; a layer index beats a later category.
  const pc::Composite custom({{pc::Match::index(3), pn::rules::WSquare{}},
                              {pc::Match::category(pc::Category::linear), pn::rules::Epsilon{}},
                              {pc::Match::index(1), pn::rules::ZPlus{}}});
  const auto r = custom.resolve(mlp);
  CHECK(std::holds_alternative<pn::rules::Epsilon>(r.rule(1)));
  CHECK(std::holds_alternative<pn::rules::WSquare>(r.rule(3)));
  CHECK(std::holds_alternative<pn::rules::Gradient>(r.rule(2)));  // nothing matches a ReLU: gradient
}
