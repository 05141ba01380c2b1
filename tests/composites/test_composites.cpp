// Composites: first-match mapping, the first-layer override, the presets against their
// definitions, and a composite of one rule = that rule.
#include "rules/lrp_support.hpp"

#include <patternnet/composites/by_name.hpp>

#include <catch2/catch.hpp>

namespace pc = patternnet::composites;

namespace {

template <class Rule>
bool is(const pc::Resolved& resolved, pn::Index l) {
  return resolved.rule(l).target<Rule>() != nullptr;
}

}  // namespace

TEST_CASE("a composite of one rule gives exactly that rule's explanation") {
  const auto net = support::mixed_net<double>(1);
  const pn::Batch<double> x({2, 9, 8}, support::random_matrix<double>(144, 3, 2));
  const auto check = [&](const auto& rule) {
    const pc::Composite composite({{pc::Match::any(), rule}}, {}, rule.seed());
    const auto alone = pn::explain(net, rule, x);
    const auto mapped = pn::explain(net, composite, x);
    CHECK(mapped.attribution.data == alone.attribution.data);
    CHECK(mapped.targets == alone.targets);
  };
  check(pn::rules::Epsilon{0.1});
  check(pn::rules::ZPlus{});
  check(pn::rules::AlphaBeta{});
  check(pn::rules::Gamma{0.5});
  check(pn::rules::Flat{});
  check(pn::rules::WSquare{});
  check(pn::rules::ZBox{-1, 1});
  check(pn::rules::Gradient{});
  check(pn::rules::GuidedBackprop{});
  check(pn::rules::DeConvNet{});
  check(pn::rules::Norm{});
  const auto train = pn::Batch<double>({2, 9, 8}, support::random_matrix<double>(144, 20, 3));
  check(pn::rules::PatternAttribution{pn::fit_patterns<pn::estimators::TwoComponent>(net, pn::batches(train, 20))});
}

/// A user's rule: the gradient with every ReLU replaced by the identity.
struct ThroughRelu : pn::rules::Gradient {
  template <class T>
  [[nodiscard]] pn::Matrix<T> relu(const pn::ReLU<T>& /*layer*/, const pn::LayerContext<T>& /*ctx*/, const pn::Matrix<T>& r) const {
    return r;
  }
};

/// The same, written as one rule that knows the layer index.
struct OneRelu : pn::rules::Gradient {
  template <class T>
  [[nodiscard]] pn::Matrix<T> relu(const pn::ReLU<T>& layer, const pn::LayerContext<T>& ctx, const pn::Matrix<T>& r) const {
    return ctx.index == 4 ? r : layer.gradient(ctx.input, r);
  }
};

TEST_CASE("a composite maps any rule: a user's own, PatternNet, by node name; a rule of the wrong scalar type is an error") {
  const auto net = support::mixed_net<double>(2);
  const pn::Batch<double> x({2, 9, 8}, support::random_matrix<double>(144, 2, 4));
  // ThroughRelu on the ReLU of layer 4 only, Gradient elsewhere = Gradient with that ReLU's mask removed
  const pc::Composite custom({{pc::Match::index(4), ThroughRelu{}}}, {}, pn::Seed::one);
  const auto e = pn::explain(net, custom, x);
  CHECK(e.attribution.data == pn::explain(net, OneRelu{}, x).attribution.data);
  CHECK(custom.resolve(net).rule(4).target<ThroughRelu>() != nullptr);
  // PatternNet<float> mapped in a composite used on a double network
  const auto netf = support::mixed_net<float>(2);
  const auto trainf = pn::Batch<float>({2, 9, 8}, support::random_matrix<float>(144, 20, 3));
  const pc::Composite floats({{pc::Match::category(pc::Category::linear),
                               pn::rules::PatternNet{pn::fit_patterns<pn::estimators::Linear>(netf, pn::batches(trainf, 20))}}});
  CHECK_NOTHROW(pn::explain(netf, floats, pn::Batch<float>({2, 9, 8}, x.data.cast<float>())));
  CHECK_THROWS_WITH(pn::explain(net, floats, x), Catch::Matchers::Contains("is not a rule for double networks"));
  // by node name, and unknown layer type names
  pn::Graph<double> g;
  g.add(pn::Dense<double>(4, 3), g.input, "head");
  g.set_input_shape({4, 1, 1});
  CHECK(pc::Composite({{pc::Match::name("head"), pn::rules::Flat{}}}).resolve(g).rule(0).target<pn::rules::Flat>() != nullptr);
  CHECK_THROWS_WITH(pc::Match::type("Convolution"),
                    Catch::Matchers::Contains("'Convolution' is not a layer type; the layer types are Dense, Conv2D, ReLU"));
}

TEST_CASE("presets map the layers as Zennit's composites do") {
  const auto net = support::mixed_net<float>(3);
  // 0 Conv2D, 1 ReLU, 2 MaxPool2D, 3 Conv2D, 4 ReLU, 5 Flatten, 6 Dense, 7 ReLU, 8 Dense, 9 Softmax
  using namespace pn::rules;
  const auto common = [&](const pc::Resolved& r) {
    CHECK(r.size() == 10);
    CHECK(is<Pass>(r, 1));
    CHECK(is<Norm>(r, 2));  // pooling: Norm, which is winner-takes-all on a max-pool
    CHECK(is<Pass>(r, 4));
    CHECK(is<Gradient>(r, 5));
    CHECK(is<Epsilon>(r, 6));
    CHECK(is<Pass>(r, 7));
    CHECK(is<Epsilon>(r, 8));
    CHECK(is<Pass>(r, 9));  // an activation: Pass, whose softmax hook is its Jacobian (with through_softmax)
    CHECK((*r.rule(8).target<Epsilon>()).epsilon() == 1e-6);
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
  CHECK((*pc::EpsilonAlpha2Beta1{0.25}.resolve(net).rule(8).target<Epsilon>()).epsilon() == 0.25);
  CHECK(is<AlphaBeta>(ab, 0));
  CHECK((*ab.rule(3).target<AlphaBeta>()).alpha() == 2);
  CHECK((*ab.rule(3).target<AlphaBeta>()).beta() == 1);
  const auto ab_flat = pc::EpsilonAlpha2Beta1Flat{}.resolve(net);
  common(ab_flat);
  CHECK(is<Flat>(ab_flat, 0));
  CHECK(is<AlphaBeta>(ab_flat, 3));
  const auto gamma_box = pc::EpsilonGammaBox{-2, 2}.resolve(net);
  common(gamma_box);
  CHECK(is<ZBox>(gamma_box, 0));
  CHECK(is<Gamma>(gamma_box, 3));
  CHECK((*gamma_box.rule(3).target<Gamma>()).gamma() == 0.25);
  const auto taylor = pc::DeepTaylor{-2, 2}.resolve(net);
  CHECK(is<ZBox>(taylor, 0));
  CHECK(is<Pass>(taylor, 1));
  CHECK(is<ZPlus>(taylor, 3));
  CHECK(is<ZPlus>(taylor, 6));
  CHECK(is<ZPlus>(taylor, 8));
  CHECK(pc::EpsilonPlus{}.seed() == pn::Seed::logit);
  CHECK(pc::EpsilonPlus{1e-6, pn::Seed::one}.seed() == pn::Seed::one);
  CHECK_FALSE((*pc::EpsilonPlus{1e-6, pn::Seed::logit, pn::Bias{false}}.resolve(net).rule(6).target<Epsilon>()).uses_bias());
}

TEST_CASE("the first-layer override goes to the lowest matching layer, not to index 0") {
  pn::Sequential<double> mlp{pn::Flatten<double>{}, pn::Dense<double>(12, 5), pn::ReLU<double>{}, pn::Dense<double>(5, 3)};
  mlp.set_input_shape({1, 3, 4});
  const auto flat = pc::EpsilonPlusFlat{}.resolve(mlp);
  CHECK(flat.rule(0).target<pn::rules::Gradient>() != nullptr);
  CHECK(flat.rule(1).target<pn::rules::Flat>() != nullptr);
  CHECK(flat.rule(3).target<pn::rules::Epsilon>() != nullptr);
  // EpsilonGammaBox overrides the first Conv2D only: an MLP gets no ZBox at all (as in Zennit).
  const auto box = pc::EpsilonGammaBox{0, 1}.resolve(mlp);
  CHECK(box.rule(1).target<pn::rules::Epsilon>() != nullptr);
  CHECK(box.rule(3).target<pn::rules::Epsilon>() != nullptr);
  // First match wins, in list order; a layer index beats a later category.
  const pc::Composite custom({{pc::Match::index(3), pn::rules::WSquare{}},
                              {pc::Match::category(pc::Category::linear), pn::rules::Epsilon{}},
                              {pc::Match::index(1), pn::rules::ZPlus{}}});
  const auto r = custom.resolve(mlp);
  CHECK(r.rule(1).target<pn::rules::Epsilon>() != nullptr);
  CHECK(r.rule(3).target<pn::rules::WSquare>() != nullptr);
  CHECK(r.rule(2).target<pn::rules::Gradient>() != nullptr);  // nothing matches a ReLU: gradient
}

TEST_CASE("presets are found by name, in Zennit's and the command line's spellings") {
  const auto net = support::mixed_net<double>(5);
  const pn::Batch<double> x({2, 9, 8}, support::random_matrix<double>(144, 2, 6));
  const auto reference = pn::explain(net, pc::EpsilonGammaBox{-1, 1, 1e-6, 0.5}, x).attribution.data;
  pc::PresetOptions o;
  o.low = -1;
  o.high = 1;
  o.gamma = 0.5;
  for (const char* name : {"EpsilonGammaBox", "epsilon_gamma_box", "epsilon-gamma-box"}) {
    INFO(name);
    CHECK(pn::explain(net, pc::preset(name, o), x).attribution.data == reference);
  }
  for (const std::string_view name : pc::preset_names) CHECK_NOTHROW(pc::preset(name));
  CHECK(pn::explain(net, pc::preset("epsilon_plus_flat"), x).attribution.data ==
        pn::explain(net, pc::EpsilonPlusFlat{}, x).attribution.data);
  CHECK_THROWS_WITH(pc::preset("EpsilonFlat"),
                    Catch::Matchers::Contains("no preset is called 'EpsilonFlat'; the presets are EpsilonPlus, EpsilonPlusFlat"));
}

TEST_CASE("Mapping::type and Mapping::category: the same composite, compiled only where it is mapped") {
  const auto net = support::mixed_net<double>(1);
  const pn::Batch<double> x({2, 9, 8}, support::random_matrix<double>(144, 3, 2));
  const pc::Composite typed({pc::Mapping::type<pn::Conv2D>(pn::rules::Gamma{0.5}),
                             pc::Mapping::type<pn::Dense>(pn::rules::Epsilon{0.01}),
                             pc::Mapping::category<pc::Category::activation>(pn::rules::Pass{})},
                            {}, pn::Seed::logit);
  const pc::Composite untyped({{pc::Match::type<pn::Conv2D>(), pn::rules::Gamma{0.5}},
                               {pc::Match::type<pn::Dense>(), pn::rules::Epsilon{0.01}},
                               {pc::Match::category(pc::Category::activation), pn::rules::Pass{}}},
                              {}, pn::Seed::logit);
  CHECK(pn::explain(net, typed, x).attribution.data == pn::explain(net, untyped, x).attribution.data);
  const pc::Resolved resolved = typed.resolve(net);
  CHECK(is<pn::rules::Gamma>(resolved, 0));
  CHECK(is<pn::rules::Gradient>(resolved, 2));  // MaxPool2D: not mapped, the gradient

  // A typed rule reused for another layer type has no hook there: ConfigError naming the node.
  const pc::Composite misused({{pc::Match::any(), typed.layer_map()[0].rule}});
  CHECK_THROWS_WITH(pn::explain(net, misused, x),
                    Catch::Matchers::Contains("was compiled for other layer types, not for Dense"));
}
