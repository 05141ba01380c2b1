#include "support.hpp"

#include <catch2/catch.hpp>

namespace est = pn::estimators;
using Mat = Eigen::MatrixXd;

namespace {

// A two-layer dense ReLU net with biases, and its explicit matrices.
struct TwoLayer {
  Mat w1, w2;
  Eigen::VectorXd b1, b2;
  pn::Sequential<double> net;
};

TwoLayer two_layer(unsigned seed) {
  TwoLayer t{support::random_matrix<double>(5, 4, seed), support::random_matrix<double>(3, 5, seed + 1),
             support::random_vector<double>(5, seed + 2) * 0.3, support::random_vector<double>(3, seed + 3), {}};
  t.net = pn::Sequential<double>{pn::Dense<double>(t.w1, t.b1), pn::ReLU<double>{}, pn::Dense<double>(t.w2, t.b2)};
  t.net.set_input_shape({4, 1, 1});
  return t;
}

// Backward through the explicit matrices: layer 2 with M2, ReLU mask, layer 1 with M1;
// `per_sample` rules may depend on the sample's own activations.
template <class Rule2, class Rule1>
Mat oracle(const TwoLayer& t, const Mat& x, const std::vector<pn::Index>& targets, Rule2 rule2, Rule1 rule1) {
  Mat out(x.rows(), x.cols());
  for (pn::Index n = 0; n < x.cols(); ++n) {
    const Eigen::VectorXd z1 = t.w1 * x.col(n) + t.b1, a1 = z1.cwiseMax(0.0), z2 = t.w2 * a1 + t.b2;
    Eigen::VectorXd r2 = Eigen::VectorXd::Zero(3);
    const auto c = targets[static_cast<std::size_t>(n)];
    r2(c) = z2(c);
    Eigen::VectorXd r1 = rule2(a1, r2);
    r1 = (z1.array() > 0).select(r1, 0.0);
    out.col(n) = rule1(Eigen::VectorXd(x.col(n)), r1);
  }
  return out;
}

// LRP-z ignoring the bias, for a layer W: R_j = sum_i x_j w_ij / (w_i^T x) R_i.
auto lrp_z(const Mat& w) {
  return [w](const Eigen::VectorXd& x, const Eigen::VectorXd& r) -> Eigen::VectorXd {
    return x.cwiseProduct(w.transpose() * r.cwiseQuotient(w * x));
  };
}
// The w^2-rule: R_j = sum_i w_ij^2 / sum_j w_ij^2 R_i.
auto w_square(const Mat& w) {
  return [w](const Eigen::VectorXd&, const Eigen::VectorXd& r) -> Eigen::VectorXd {
    const Mat w2 = w.cwiseAbs2();
    return w2.transpose() * r.cwiseQuotient(w2.rowwise().sum());
  };
}
auto with_matrix(const Mat& m) {
  return [m](const Eigen::VectorXd&, const Eigen::VectorXd& r) -> Eigen::VectorXd { return m.transpose() * r; };
}

double max_rel(const Mat& a, const Mat& b) { return (a - b).cwiseAbs().maxCoeff() / b.cwiseAbs().maxCoeff(); }

}  // namespace

TEST_CASE("PatternAttribution with S_x is LRP-z ignoring the bias") {
  const auto t = two_layer(1);
  const pn::Batch<double> x({4, 1, 1}, support::random_matrix<double>(4, 6, 10));
  const auto e = pn::explain(t.net, pn::rules::PatternAttribution{pn::fit_patterns<est::Identity>(t.net)}, x);
  CHECK(max_rel(e.attribution.data, oracle(t, x.data, e.targets, lrp_z(t.w2), lrp_z(t.w1))) < 1e-12);
}

TEST_CASE("PatternAttribution with S_w is the w^2-rule") {
  const auto t = two_layer(2);
  const pn::Batch<double> x({4, 1, 1}, support::random_matrix<double>(4, 6, 11));
  const auto e = pn::explain(t.net, pn::rules::PatternAttribution{pn::fit_patterns<est::Filter>(t.net)}, x);
  CHECK(max_rel(e.attribution.data, oracle(t, x.data, e.targets, w_square(t.w2), w_square(t.w1))) < 1e-12);
}

TEST_CASE("PatternNet with S_w on one Dense layer is the normalised gradient back-projection") {
  const Mat w = support::random_matrix<double>(3, 5, 3);
  pn::Sequential<double> net{pn::Dense<double>(w, support::random_vector<double>(3, 4))};
  net.set_input_shape({5, 1, 1});
  const pn::Batch<double> x({5, 1, 1}, support::random_matrix<double>(5, 4, 12));
  const auto e = pn::explain(net, pn::rules::PatternNet{pn::fit_patterns<est::Filter>(net)}, x, pn::Target::index(1));
  for (pn::Index n = 0; n < 4; ++n) {
    const Eigen::VectorXd expected = w.row(1).transpose() / w.row(1).squaredNorm() * e.target_values(n);
    CHECK((e.attribution.data.col(n) - expected).cwiseAbs().maxCoeff() < 1e-14);
  }
}

TEST_CASE("PatternNet and PatternAttribution with S_a+- on a two-layer ReLU net equal the matrix oracle") {
  const auto t = two_layer(5);
  const pn::Batch<double> train({4, 1, 1}, support::random_matrix<double>(4, 2000, 13));
  const auto p = pn::fit_patterns<est::TwoComponent>(t.net, pn::batches(train, 300));
  const Mat a1 = p.layers()[0].a, a2 = p.layers()[1].a;
  const pn::Batch<double> x({4, 1, 1}, support::random_matrix<double>(4, 7, 14));
  const auto net_e = pn::explain(t.net, pn::rules::PatternNet{p}, x);
  CHECK(max_rel(net_e.attribution.data, oracle(t, x.data, net_e.targets, with_matrix(a2), with_matrix(a1))) < 1e-12);
  const auto attr = pn::explain(t.net, pn::rules::PatternAttribution{p}, x);
  CHECK(max_rel(attr.attribution.data, oracle(t, x.data, attr.targets, with_matrix(t.w2.cwiseProduct(a2)),
                                               with_matrix(t.w1.cwiseProduct(a1)))) < 1e-12);
  pn::rules::PatternAttribution seed_one{p};
  seed_one.seed_mode = pn::Seed::one;
  const auto attr1 = pn::explain(t.net, seed_one, x);
  for (pn::Index n = 0; n < 7; ++n) {
    CHECK((attr1.attribution.data.col(n) * attr.target_values(n) - attr.attribution.data.col(n)).cwiseAbs().maxCoeff() < 1e-12);
  }
}

TEST_CASE("PatternAttribution with S_x on a conv layer is x .* J^T (r / (J x)) with the explicit Jacobian") {
  pn::Sequential<double> net{pn::Conv2D<double>(2, 3, 3, pn::Stride{2}, pn::Padding{1}), pn::Flatten<double>{}};
  net.set_input_shape({2, 6, 5});
  support::randomize(net, 6);
  const auto& conv = std::get<pn::Conv2D<double>>(net.layer(0));
  const Mat jac = support::jacobian(conv, conv.weight(), 60);
  const pn::Batch<double> x({2, 6, 5}, support::random_matrix<double>(60, 3, 15));
  const auto e = pn::explain(net, pn::rules::PatternAttribution{pn::fit_patterns<est::Identity>(net)}, x, pn::Target::index(4));
  const auto p = pn::explain(net, pn::rules::PatternNet{pn::fit_patterns<est::Identity>(net)}, x, pn::Target::index(4));
  const Mat ones_jac = support::jacobian(conv, Mat(Mat::Ones(3, 18)), 60);
  for (pn::Index n = 0; n < 3; ++n) {
    const Eigen::VectorXd y = jac * x.data.col(n);  // without bias
    Eigen::VectorXd r = Eigen::VectorXd::Zero(y.size());
    r(4) = e.target_values(n);
    const Eigen::VectorXd s = r.cwiseQuotient(y);
    CHECK((e.attribution.data.col(n) - x.data.col(n).cwiseProduct(jac.transpose() * s)).cwiseAbs().maxCoeff() < 1e-12);
    CHECK((p.attribution.data.col(n) - x.data.col(n).cwiseProduct(ones_jac.transpose() * s)).cwiseAbs().maxCoeff() < 1e-12);
  }
}

TEST_CASE("pattern rules reject patterns that do not fit the network") {
  const auto t = two_layer(7);
  const auto other = two_layer(8);
  pn::Sequential<double> wider{pn::Dense<double>(4, 6), pn::ReLU<double>{}, pn::Dense<double>(6, 3)};
  wider.set_input_shape({4, 1, 1});
  const pn::Batch<double> x({4, 1, 1}, support::random_matrix<double>(4, 2, 16));
  CHECK_THROWS_WITH(pn::explain(wider, pn::rules::PatternNet{pn::fit_patterns<est::Filter>(t.net)}, x),
                    Catch::Matchers::Contains("PatternNet: patterns of layer 2 are 3x5, the layer's weight is 3x6"));
  const pn::Patterns<double> empty;
  CHECK_THROWS_AS(pn::explain(other.net, pn::rules::PatternAttribution{empty}, x), pn::ConfigError);
}
