#include "support.hpp"

#include <catch2/catch.hpp>

using Catch::Matchers::Contains;

namespace {

// d logit_c / d x by central differences, per sample.
pn::Matrix<double> numeric_logit_gradient(const pn::Sequential<double>& net, const pn::Batch<double>& x,
                                          const std::vector<pn::Index>& targets) {
  pn::Matrix<double> g(x.data.rows(), x.size());
  const double h = 1e-6;
  auto logits = [&](const pn::Batch<double>& xp) { return net.record(xp, net.logits_end()).activations.back(); };
  pn::Batch<double> xp = x;
  for (pn::Index i = 0; i < x.data.rows(); ++i) {
    xp.data.row(i).array() += h;
    const pn::Matrix<double> up = logits(xp);
    xp.data.row(i).array() -= 2 * h;
    const pn::Matrix<double> down = logits(xp);
    xp.data.row(i) = x.data.row(i);
    for (pn::Index j = 0; j < x.size(); ++j) {
      const auto c = targets[static_cast<std::size_t>(j)];
      g(i, j) = (up(c, j) - down(c, j)) / (2 * h);
    }
  }
  return g;
}

}  // namespace

TEST_CASE("explain(Gradient) is the gradient of the selected logit below the softmax") {
  const auto net = support::mixed_net<double>(21);
  const pn::Batch<double> x({2, 9, 8}, support::random_matrix<double>(144, 4, 22));
  const auto e = pn::explain(net, pn::rules::Gradient{}, x);
  const pn::Matrix<double> logits = net.record(x, net.logits_end()).activations.back();
  for (pn::Index j = 0; j < 4; ++j) {
    pn::Index best = 0;
    logits.col(j).maxCoeff(&best);
    CHECK(e.targets[static_cast<std::size_t>(j)] == best);
    CHECK(e.target_values(j) == logits(best, j));
  }
  const pn::Matrix<double> numeric = numeric_logit_gradient(net, x, e.targets);
  CHECK((e.attribution.data - numeric).cwiseAbs().maxCoeff() < 1e-7 * std::max(1.0, numeric.cwiseAbs().maxCoeff()));
  CHECK(e.attribution.shape == x.shape);
}

TEST_CASE("targets: one index for all samples, one per sample") {
  const auto net = support::mixed_net<double>(23);
  const pn::Batch<double> x({2, 9, 8}, support::random_matrix<double>(144, 3, 24));
  const auto fixed = pn::explain(net, pn::rules::Gradient{}, x, pn::Target::index(2));
  CHECK(fixed.targets == std::vector<pn::Index>{2, 2, 2});
  const std::vector<pn::Index> per_sample{0, 2, 1};
  const auto each = pn::explain(net, pn::rules::Gradient{}, x, pn::Target::indices(per_sample));
  CHECK(each.targets == per_sample);
  const pn::Matrix<double> numeric = numeric_logit_gradient(net, x, per_sample);
  CHECK((each.attribution.data - numeric).cwiseAbs().maxCoeff() < 1e-7 * std::max(1.0, numeric.cwiseAbs().maxCoeff()));
}

TEST_CASE("through_softmax explains the probability instead") {
  const auto net = support::mixed_net<double>(25);
  const pn::Batch<double> x({2, 9, 8}, support::random_matrix<double>(144, 2, 26));
  pn::ExplainOptions opt;
  opt.through_softmax = true;
  const auto e = pn::explain(net, pn::rules::Gradient{}, x, pn::Target::index(0), opt);
  const double h = 1e-6;
  for (pn::Index i : {0, 40, 143}) {
    pn::Batch<double> up = x, down = x;
    up.data.row(i).array() += h;
    down.data.row(i).array() -= h;
    const pn::Matrix<double> pu = net.forward(up).data, pd = net.forward(down).data;
    for (pn::Index j = 0; j < 2; ++j) CHECK(e.attribution.data(i, j) == Approx((pu(0, j) - pd(0, j)) / (2 * h)).margin(1e-8));
  }
  CHECK(e.target_values(0) == Approx(net.forward(x).data(0, 0)));
}

TEST_CASE("InputTimesGradient is x times the gradient") {
  const auto net = support::mixed_net<double>(27);
  const pn::Batch<double> x({2, 9, 8}, support::random_matrix<double>(144, 3, 28));
  const auto g = pn::explain(net, pn::rules::Gradient{}, x);
  const auto ixg = pn::explain(net, pn::rules::InputTimesGradient{}, x);
  CHECK(ixg.attribution.data == x.data.cwiseProduct(g.attribution.data));
}

TEST_CASE("a target out of range names the index, the sample and the range") {
  const auto net = support::mixed_net<float>(29);
  const pn::Batch<float> x({2, 9, 8}, support::random_matrix<float>(144, 2, 30));
  CHECK_THROWS_WITH(pn::explain(net, pn::rules::Gradient{}, x, pn::Target::index(3)),
                    Contains("explain(): target index 3 for sample 0 is out of range [0, 3)"));
  CHECK_THROWS_WITH(pn::explain(net, pn::rules::Gradient{}, x, pn::Target::indices({0, -1})),
                    Contains("target index -1 for sample 1"));
  CHECK_THROWS_WITH(pn::explain(net, pn::rules::Gradient{}, x, pn::Target::indices({0})),
                    Contains("Target::indices() has 1 entries for a batch of 2 samples"));
  // An empty list is an error too, not the argmax.
  CHECK_THROWS_WITH(pn::explain(net, pn::rules::Gradient{}, x, pn::Target::indices({})),
                    Contains("explain(): Target::indices() has 0 entries for a batch of 2 samples"));
}
