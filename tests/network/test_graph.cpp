// Graph<T>: building, validation errors, forward and backward with fan-out, the methods on
// a residual network, BatchNorm folding, model files of graphs.

#include "support.hpp"

#include <patternnet/io/model_file.hpp>
#include <patternnet/network/canonizers.hpp>
#include <patternnet/network/summary.hpp>
#include <patternnet/testing.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

using Catch::Matchers::Contains;

namespace {

template <class T>
pn::BatchNorm2D<T> batch_norm(pn::Index c, unsigned seed) {
  return pn::BatchNorm2D<T>(support::random_vector<T>(c, seed), support::random_vector<T>(c, seed + 1).cwiseAbs(),
                            support::random_vector<T>(c, seed + 2), support::random_vector<T>(c, seed + 3), 1e-3);
}

/// A small residual network on 2 x 6 x 6 inputs: stem conv + BN + ReLU (node 2, read by
/// three nodes: the block's conv, the residual Add and a side pooling); a block conv-BN-
/// ReLU-conv whose output is added to the stem's; average pooling of the sum and of the
/// stem, concatenated; a BatchNorm after the Concat (not foldable); global average
/// pooling; a dense head.
template <class T>
pn::Graph<T> residual_net(unsigned seed, bool bias = true) {
  const pn::Bias b{bias};
  pn::Graph<T> g;
  const auto stem = g.add(pn::Conv2D<T>(2, 4, 3, pn::Padding{1}, b), g.input, "stem");
  const auto stem_bn = g.add(batch_norm<T>(4, seed + 100), stem, "stem/bn");
  const auto a0 = g.add(pn::ReLU<T>{}, stem_bn, "stem/relu");
  const auto c1 = g.add(pn::Conv2D<T>(4, 4, 3, pn::Padding{1}, b), a0, "block/conv1");
  const auto b1 = g.add(batch_norm<T>(4, seed + 200), c1, "block/bn1");
  const auto r1 = g.add(pn::ReLU<T>{}, b1);
  const auto c2 = g.add(pn::Conv2D<T>(4, 4, 3, pn::Padding{1}, b), r1, "block/conv2");
  const auto sum = g.add(pn::Add<T>{}, {c2, a0}, "block/add");
  const auto r2 = g.add(pn::ReLU<T>{}, sum);
  const auto p1 = g.add(pn::AvgPool2D<T>(2), r2);
  const auto p2 = g.add(pn::AvgPool2D<T>(3, pn::Stride{2}, pn::Padding{1}, pn::CountIncludePad{false}), a0, "side");
  const auto cat = g.add(pn::Concat<T>{}, {p1, p2}, "concat");
  const auto bn = g.add(batch_norm<T>(8, seed + 300), cat, "concat/bn");
  const auto gap = g.add(pn::GlobalAvgPool2D<T>{}, bn);
  g.add(pn::Dense<T>(8, 3, b), gap, "head");
  g.set_input_shape({2, 6, 6});
  support::randomize(g, seed, 0.8);
  return g;
}

/// The same network without BatchNorm and biases (relevance is then conserved).
template <class T>
pn::Graph<T> bias_free_residual(unsigned seed) {
  const pn::Bias none{false};
  pn::Graph<T> g;
  const auto stem = g.add(pn::Conv2D<T>(2, 4, 3, pn::Padding{1}, none), g.input);
  const auto a0 = g.add(pn::ReLU<T>{}, stem);
  const auto c1 = g.add(pn::Conv2D<T>(4, 4, 3, pn::Padding{1}, none), a0);
  const auto r1 = g.add(pn::ReLU<T>{}, c1);
  const auto sum = g.add(pn::Add<T>{}, {r1, a0, a0});  // the same input twice: two shares
  const auto p1 = g.add(pn::AvgPool2D<T>(2), sum);
  const auto p2 = g.add(pn::AvgPool2D<T>(3, pn::Stride{2}, pn::Padding{1}), a0);
  const auto cat = g.add(pn::Concat<T>{}, {p1, p2});
  const auto gap = g.add(pn::GlobalAvgPool2D<T>{}, cat);
  g.add(pn::Dense<T>(8, 3, none), gap);
  g.set_input_shape({2, 6, 6});
  support::randomize(g, seed, 0.8);
  return g;
}

double max_rel(const pn::Matrix<double>& a, const pn::Matrix<double>& b) {
  return (a - b).cwiseAbs().maxCoeff() / std::max(1e-300, b.cwiseAbs().maxCoeff());
}

}  // namespace

TEST_CASE("Graph: the gradient equals finite differences through Add, Concat, BatchNorm, pooling and fan-out") {
  const auto net = residual_net<double>(1);
  const pn::Batch<double> x(net.input_shape(), support::random_matrix<double>(72, 3, 2));
  const auto check = pn::testing::check_gradient(net, x);
  INFO("feature " << check.feature << " sample " << check.sample << ": " << check.analytic << " vs " << check.numeric);
  CHECK(check.max_error < 1e-8);
}

TEST_CASE("Graph: a chain built node by node equals the Sequential bit for bit") {
  const auto seq = support::mixed_net<double>(3);
  pn::Graph<double> g;
  for (pn::Index l = 0; l < seq.size(); ++l) g.add(seq.layer(l), l - 1);
  g.set_input_shape(seq.input_shape());
  const pn::Batch<double> x(seq.input_shape(), support::random_matrix<double>(144, 4, 5));
  CHECK(g.forward(x).data == seq.forward(x).data);
  CHECK(pn::explain(g, pn::rules::Gradient{}, x).attribution.data == pn::explain(seq, pn::rules::Gradient{}, x).attribution.data);
  CHECK(pn::explain(g, pn::composites::EpsilonPlusFlat{}, x).attribution.data ==
        pn::explain(seq, pn::composites::EpsilonPlusFlat{}, x).attribution.data);
}

TEST_CASE("Graph: malformed graphs give one error naming the node") {
  pn::Graph<double> g;
  const auto a = g.add(pn::ReLU<double>{}, g.input, "a");
  SECTION("a node reading a later node (a cycle) or itself") {
    CHECK_THROWS_WITH(g.add(pn::ReLU<double>{}, 1), Contains("Graph::add(): node 1 (ReLU) reads node 1, which is not an earlier node"));
    CHECK_THROWS_AS(g.add(pn::ReLU<double>{}, 7), pn::ConfigError);
    CHECK(g.size() == 1);
  }
  SECTION("a name used twice") {
    CHECK_THROWS_WITH(g.add(pn::ReLU<double>{}, a, "a"), Contains("the name 'a' is already taken by node 0"));
  }
  SECTION("arity") {
    g.add(pn::Add<double>{}, {a}, "sum");
    CHECK_THROWS_WITH(g.set_input_shape({1, 2, 2}), Contains("Graph::set_input_shape(): node 1 'sum' (Add) takes 2 or more inputs, it was given 1"));
    CHECK_FALSE(g.ready());
  }
  SECTION("a single-input layer given two inputs") {
    g.add(pn::ReLU<double>{}, {a, pn::Graph<double>::input});
    CHECK_THROWS_WITH(g.set_input_shape({1, 2, 2}), Contains("layer 1 (ReLU) takes 1 input, it was given 2"));
  }
  SECTION("shape mismatch at an Add") {
    const auto pool = g.add(pn::MaxPool2D<double>(2), a);
    g.add(pn::Add<double>{}, {pool, a}, "res");
    CHECK_THROWS_WITH(g.set_input_shape({3, 4, 4}),
                      Contains("Graph::set_input_shape(): node 'res': layer 2 (Add): input 1 has shape [3, 4, 4], input 0 has shape [3, 2, 2]"));
  }
  SECTION("shape mismatch at a Concat") {
    const auto pool = g.add(pn::MaxPool2D<double>(2), a);
    g.add(pn::Concat<double>{}, {a, pool});
    CHECK_THROWS_WITH(g.set_input_shape({3, 4, 4}),
                      Contains("layer 2 (Concat): input 1 has shape [3, 2, 2], input 0 has shape [3, 4, 4] (only the channels may differ)"));
  }
  SECTION("a dangling node") {
    g.add(pn::ReLU<double>{}, g.input, "dangling");
    g.add(pn::Flatten<double>{}, a);
    CHECK_THROWS_WITH(g.set_input_shape({1, 2, 2}),
                      Contains("node 1 'dangling' (ReLU) is not used: its output reaches no later node"));
  }
  SECTION("typed access and indices") {
    g.set_input_shape({1, 2, 2});
    CHECK_THROWS_WITH(g.get<pn::Dense<double>>(0), Contains("Graph::get(): node 0 'a' is a ReLU, not a Dense"));
    CHECK_THROWS_AS(g.layer(1), pn::ShapeError);
    CHECK_THROWS_AS(g.shape_at(3), pn::ShapeError);
    CHECK(g.find("a") == 0);
    CHECK(g.find("b") == -1);
  }
  SECTION("an empty graph") {
    pn::Graph<double> empty;
    CHECK_THROWS_WITH(empty.set_input_shape({1, 2, 2}), Contains("the network has no layers"));
  }
  SECTION("a shape whose size overflows") {
    pn::Graph<double> relu;
    relu.add(pn::ReLU<double>{}, relu.input);
    const pn::Index k = pn::Index{1} << 20;
    CHECK(pn::Shape{k, k, k}.checked_size() == pn::Index{1} << 60);
    CHECK(pn::Shape{k * k, k, 16}.checked_size() == -1);  // 2^64
    CHECK_THROWS_WITH(relu.set_input_shape({k * k, k, 16}),
                      Contains("Graph::set_input_shape(): input shape [1099511627776, 1048576, 16] has more than 2^63 values"));
    CHECK(!relu.ready());
  }
}

TEST_CASE("Graph: a Sequential's typed accessor names the actual layer type") {
  auto net = support::mixed_net<float>(1);
  CHECK(net.get<pn::Conv2D<float>>(0).out_channels() == 3);
  CHECK_THROWS_WITH(net.get<pn::Dense<float>>(1), Contains("Sequential::get(): layer 1 is a ReLU, not a Dense"));
  CHECK_THROWS_WITH(net.layer(10), Contains("Sequential::layer(): layer 10 is out of range (the network has 10 layers)"));
}

TEST_CASE("Graph: LRP conserves relevance through Add, pooling and Concat (bias-free, stabilisers -> 0)") {
  namespace pc = pn::composites;
  const auto net = bias_free_residual<double>(4);
  const pc::Composite lrp0({{pc::Match::category(pc::Category::activation), pn::rules::Pass{}},
                            {pc::Match::category(pc::Category::pooling), pn::rules::Norm{pn::rules::Stabilizer{1e-14}}},
                            {pc::Match::category(pc::Category::merge), pn::rules::Norm{pn::rules::Stabilizer{1e-14}}},
                            {pc::Match::category(pc::Category::linear), pn::rules::Epsilon{1e-14}}});
  const pn::Batch<double> x(net.input_shape(), support::random_matrix<double>(72, 4, 6));
  const auto e = pn::explain(net, lrp0, x);
  for (pn::Index j = 0; j < x.size(); ++j) {
    CHECK(std::abs(e.attribution.data.col(j).sum() - e.target_values(j)) < 1e-10 * std::abs(e.target_values(j)));
  }
  // the same rules on their own (Epsilon's Norm has stabiliser 1e-6): conserved to about 1e-6
  const auto alone = pn::explain(net, pn::rules::Epsilon{1e-14}, x);
  for (pn::Index j = 0; j < x.size(); ++j) {
    CHECK(std::abs(alone.attribution.data.col(j).sum() - alone.target_values(j)) < 1e-4 * std::abs(alone.target_values(j)));
  }
}

TEST_CASE("Graph: the Norm rule on Add and AvgPool2D equals an explicit-matrix oracle") {
  using M = pn::Matrix<double>;
  pn::AvgPool2D<double> pool(3, pn::Stride{2}, pn::Padding{1}, pn::CountIncludePad{false});
  const pn::Shape out = pool.bind({2, 5, 4}, 0);
  const M eye = M::Identity(40, 40);
  const M P = pool.forward(eye);  // the pooling as an explicit out x in matrix
  const M x = support::random_matrix<double>(40, 3, 1, 0.1, 1.0), r = support::random_matrix<double>(out.size(), 3, 2);
  const M z = P * x;
  const pn::LayerCache<double> none;
  const M* inputs[] = {&x};
  const pn::LayerContext<double> ctx{0, x, z, inputs, none};
  const double eps = 1e-6;
  const M stab = (z.array() >= 0).select(z.array() + eps, z.array() - eps);
  const M oracle = x.cwiseProduct(P.transpose() * r.cwiseQuotient(stab));
  CHECK(max_rel(pn::rules::Norm{}.avg_pool(pool, ctx, r), oracle) < 1e-14);

  const M x1 = support::random_matrix<double>(6, 2, 3), x2 = support::random_matrix<double>(6, 2, 4);
  const M sum = x1 + x2, rs = support::random_matrix<double>(6, 2, 5);
  const M* both[] = {&x1, &x2};
  const pn::LayerContext<double> add_ctx{0, x1, sum, both, none};
  const auto shares = pn::rules::Norm{}.add(pn::Add<double>{}, add_ctx, rs);
  const M s = rs.array() / (sum.array() >= 0).select(sum.array() + eps, sum.array() - eps);
  REQUIRE(shares.size() == 2);
  CHECK(max_rel(shares[0], x1.cwiseProduct(s)) < 1e-15);
  CHECK(max_rel(shares[1], x2.cwiseProduct(s)) < 1e-15);
}

TEST_CASE("Graph: BatchNorm folding is exact and folds by data flow only") {
  const auto net = residual_net<double>(7);
  pn::CanonizeReport report;
  const auto folded = pn::canonize(net, &report);
  // stem/bn (node 1) into stem (0), block/bn1 (4) into block/conv1 (3); concat/bn (12) stays
  REQUIRE(report.folded.size() == 2);
  CHECK(report.folded[0] == std::pair<pn::Index, pn::Index>{1, 0});
  CHECK(report.folded[1] == std::pair<pn::Index, pn::Index>{4, 3});
  CHECK(report.kept == std::vector<pn::Index>{12});
  CHECK(folded.size() == net.size() - 2);
  CHECK(folded.name(report.new_index[7]) == "block/add");
  const pn::Batch<double> x(net.input_shape(), support::random_matrix<double>(72, 5, 8));
  CHECK(max_rel(folded.forward(x).data, net.forward(x).data) < 1e-12);
  // every method that depends only on the function (and its ReLU masks) agrees
  auto same = [&](const auto& rule) {
    return max_rel(pn::explain(folded, rule, x).attribution.data, pn::explain(net, rule, x).attribution.data);
  };
  CHECK(same(pn::rules::Gradient{}) < 1e-12);
  CHECK(same(pn::rules::InputTimesGradient{}) < 1e-12);
  CHECK(same(pn::rules::GuidedBackprop{}) < 1e-12);
  CHECK(same(pn::rules::DeConvNet{}) < 1e-12);
  pn::methods::IntegratedGradientsOptions<double> ig;
  ig.steps = 16;
  CHECK(max_rel(pn::methods::integrated_gradients(folded, x, pn::Target::argmax(), ig).attribution.data,
                pn::methods::integrated_gradients(net, x, pn::Target::argmax(), ig).attribution.data) < 1e-12);
  pn::methods::SmoothGradOptions sg;
  sg.samples = 8;
  CHECK(max_rel(pn::methods::smoothgrad(folded, x, pn::Target::argmax(), sg).attribution.data,
                pn::methods::smoothgrad(net, x, pn::Target::argmax(), sg).attribution.data) < 1e-12);

  // a conv whose output feeds a BatchNorm and something else is not folded
  pn::Graph<double> g;
  const auto conv = g.add(pn::Conv2D<double>(1, 2, 3), g.input);
  const auto bn = g.add(batch_norm<double>(2, 3), conv);
  g.add(pn::Concat<double>{}, {bn, conv});
  g.set_input_shape({1, 5, 5});
  pn::CanonizeReport r2;
  const auto unfolded = pn::canonize(g, &r2);
  CHECK(r2.folded.empty());
  CHECK(unfolded.size() == 3);
}

TEST_CASE("Graph: PatternNet / PatternAttribution patterns on a residual network") {
  const auto net = pn::canonize(residual_net<double>(9));
  const pn::Batch<double> train(net.input_shape(), support::random_matrix<double>(72, 90, 10));
  const auto moments = pn::compute_moments(net, pn::batches(train, 90));
  const auto streamed = pn::compute_moments(net, pn::batches(train, 7));
  const auto patterns = pn::make_patterns<pn::estimators::TwoComponent>(net, moments);
  const auto patterns_streamed = pn::make_patterns<pn::estimators::TwoComponent>(net, streamed);
  REQUIRE(patterns.layers().size() == 4);  // stem, block/conv1, block/conv2, head
  for (std::size_t i = 0; i < patterns.layers().size(); ++i) {
    const auto& p = patterns.layers()[i];
    INFO("node " << p.layer);
    CHECK(max_rel(p.a, patterns_streamed.layers()[i].a) < 1e-10);
    const pn::Matrix<double> w = std::visit(
        [](const auto& l) -> pn::Matrix<double> {
          if constexpr (pn::LinearLayer<std::decay_t<decltype(l)>>) return l.weight();
          else return {};
        },
        net.layer(p.layer));
    for (pn::Index f = 0; f < w.rows(); ++f) {
      if (p.a.row(f).isZero(0)) continue;  // degenerate (reported)
      CHECK(std::abs(w.row(f).dot(p.a.row(f)) - 1) < 1e-10);
    }
  }
  // On this random network every logit is negative on the data, so S_a+- reports the head's
  // neurons as never positive (a+ = 0) and explains nothing; S_a explains.
  CHECK(patterns.report().count(pn::DegenerateNeuron::Reason::never_positive) == 3);
  const auto linear = pn::make_patterns<pn::estimators::Linear>(net, moments);
  const pn::Batch<double> x(net.input_shape(), support::random_matrix<double>(72, 2, 11));
  const auto pa = pn::explain(net, pn::rules::PatternAttribution{linear}, x);
  const auto pnet = pn::explain(net, pn::rules::PatternNet{linear}, x);
  CHECK(pa.attribution.data.allFinite());
  CHECK(pnet.attribution.data.allFinite());
  CHECK_FALSE(pa.attribution.data.isZero());
}

TEST_CASE("Graph: model files store the graph (version 3), and version 1 chains and version 2 graphs still load") {
  const auto dir = std::filesystem::temp_directory_path() / ("patternnet-graph-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto net = residual_net<float>(12);
  pn::io::save_model(net, dir / "g.pnm");
  const auto back = pn::io::load_model<float>(dir / "g.pnm");
  REQUIRE(back.size() == net.size());
  for (pn::Index n = 0; n < net.size(); ++n) {
    CHECK(back.inputs(n) == net.inputs(n));
    CHECK(back.name(n) == net.name(n));
    CHECK(pn::describe(back.layer(n)) == pn::describe(net.layer(n)));
  }
  const pn::Batch<float> x(net.input_shape(), support::random_matrix<float>(72, 3, 13));
  CHECK(back.forward(x).data == net.forward(x).data);
  CHECK(pn::summary(net).find("block/add Add <- 6, 2") != std::string::npos);

  // a version 1 file, as written before graphs: magic, version 1, float, input 0 x 0 x 0,
  // two layers (ReLU, Flatten), checksum
  pn::io::Writer w;
  w.put(pn::io::kModelMagic);
  w.put(std::uint32_t{1});
  w.put(std::uint32_t{4});
  for (int i = 0; i < 3; ++i) w.put(std::int64_t{0});
  w.put(std::uint32_t{2});
  w.put(pn::ReLU<float>::tag);
  w.put(pn::Flatten<float>::tag);
  w.commit(dir / "v1.pnm");
  auto v1 = pn::io::load_model<float>(dir / "v1.pnm");
  REQUIRE(v1.size() == 2);
  CHECK(v1.inputs(1) == std::vector<pn::Index>{0});
  v1.set_input_shape({2, 3, 1});
  CHECK(v1.output_shape() == pn::Shape{6, 1, 1});

  // a version 2 file: its MaxPool2D has no ceil_mode byte
  pn::io::Writer w2;
  w2.put(pn::io::kModelMagic);
  w2.put(std::uint32_t{2});
  w2.put(std::uint32_t{4});
  for (int i = 0; i < 3; ++i) w2.put(std::int64_t{0});
  w2.put(std::uint32_t{1});
  w2.put(std::uint32_t{0});                        // empty name
  w2.put(std::uint32_t{1});                        // one input: the network input
  w2.put(std::int64_t{-1});
  w2.put(pn::MaxPool2D<float>::tag);
  for (const std::int64_t v : {2, 2, 2, 2, 0, 0}) w2.put(v);
  w2.commit(dir / "v2.pnm");
  auto v2 = pn::io::load_model<float>(dir / "v2.pnm");
  REQUIRE(v2.size() == 1);
  CHECK_FALSE(v2.get<pn::MaxPool2D<float>>(0).ceil_mode());
  v2.set_input_shape({1, 5, 5});
  CHECK(v2.output_shape() == pn::Shape{1, 2, 2});

  // version 3 keeps ceil_mode
  pn::Graph<float> ceil;
  ceil.add(pn::MaxPool2D<float>(pn::Kernel{2}, pn::Stride{2}, pn::Padding{}, pn::CeilMode{true}), ceil.input);
  ceil.set_input_shape({1, 5, 5});
  pn::io::save_model(ceil, dir / "v3.pnm");
  const auto v3 = pn::io::load_model<float>(dir / "v3.pnm");
  CHECK(v3.get<pn::MaxPool2D<float>>(0).ceil_mode());
  CHECK(v3.output_shape() == pn::Shape{1, 3, 3});
  std::filesystem::remove_all(dir);
}

TEST_CASE("Graph: the README's residual network builds, folds and explains") {
  pn::Graph<float> g;
  const auto stem = g.add(pn::Conv2D<float>{1, 8, 3, pn::Padding{1}}, g.input, "stem");
  const auto a0 = g.add(pn::ReLU<float>{}, g.add(pn::BatchNorm2D<float>{8}, stem));
  const auto c1 = g.add(pn::Conv2D<float>{8, 8, 3, pn::Padding{1}}, a0, "block1/conv");
  const auto sum = g.add(pn::Add<float>{}, {c1, a0}, "block1/add");
  g.add(pn::Dense<float>{8, 10}, g.add(pn::GlobalAvgPool2D<float>{}, g.add(pn::ReLU<float>{}, sum)));
  g.set_input_shape({1, 28, 28});
  support::randomize(g, 3);
  const auto folded = pn::canonize(g);
  CHECK(folded.size() == g.size() - 1);
  const pn::Batch<float> x(g.input_shape(), support::random_matrix<float>(784, 2, 4, 0, 1));
  const pn::Matrix<float> z = g.forward(x).data, zf = folded.forward(x).data;
  CHECK((z - zf).cwiseAbs().maxCoeff() < 1e-5f * z.cwiseAbs().maxCoeff());
  const auto lrp = pn::explain(folded, pn::composites::EpsilonPlusFlat{}, x);
  CHECK(lrp.attribution.data.allFinite());
  CHECK(lrp.targets == pn::explain(g, pn::rules::Gradient{}, x).targets);
}

TEST_CASE("Graph: Integrated Gradients is exact on a linear graph (Add, Concat, pooling, BatchNorm, no ReLU)") {
  pn::Graph<double> g;
  const auto c = g.add(pn::Conv2D<double>(2, 3, 3, pn::Padding{1}), g.input);
  const auto bn = g.add(batch_norm<double>(3, 5), c);
  const auto sum = g.add(pn::Add<double>{}, {bn, c, c});
  const auto pool = g.add(pn::AvgPool2D<double>(2), sum);
  const auto side = g.add(pn::AvgPool2D<double>(3, pn::Stride{2}, pn::Padding{1}), c);
  const auto cat = g.add(pn::Concat<double>{}, {pool, side});
  g.add(pn::Dense<double>(6 * 3 * 3, 2), g.add(pn::Flatten<double>{}, cat));
  g.set_input_shape({2, 6, 6});
  support::randomize(g, 6);
  const pn::Batch<double> x(g.input_shape(), support::random_matrix<double>(72, 3, 7));
  pn::methods::IntegratedGradientsOptions<double> ig;
  ig.steps = 3;
  const auto r = pn::methods::integrated_gradients(g, x, pn::Target::argmax(), ig);
  for (pn::Index j = 0; j < x.size(); ++j) {
    CHECK(std::abs(r.completeness_error(j)) < 1e-12 * std::max(1.0, std::abs(double(r.target_values(j)))));
  }
}
