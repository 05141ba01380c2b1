#include "support.hpp"

#include <patternnet/quality/rho.hpp>

#include <Eigen/SVD>

#include <catch2/catch.hpp>

#include <algorithm>

namespace est = pn::estimators;
using Mat = Eigen::MatrixXd;

namespace {

// Brute force: form d per sample, project out w, regress y on P d with intercept by a
// rank-revealing SVD (minimum-norm least squares), R^2 from the residuals.
double brute_rho(const Mat& x /* m x K */, const Eigen::VectorXd& z /* pre-activation */, const Eigen::VectorXd& w,
                 double b, const pn::LayerPatterns<double>& p, pn::Index f) {
  const pn::Index m = x.rows(), K = x.cols();
  const Eigen::VectorXd y = z.array() - b;
  const Eigen::VectorXd u = w / w.norm();
  Mat design(m, K + 1);
  for (pn::Index j = 0; j < m; ++j) {
    const Eigen::VectorXd a = (p.kind == pn::PatternKind::two_component && !(z(j) > 0)) ? Eigen::VectorXd(p.a_neg.row(f).transpose())
                                                                                          : Eigen::VectorXd(p.a.row(f).transpose());
    Eigen::VectorXd d = x.row(j).transpose() - a * y(j);
    d -= u * u.dot(d);
    design.row(j).head(K) = d.transpose();
    design(j, K) = 1;
  }
  Eigen::JacobiSVD<Mat> svd(design, Eigen::ComputeThinU | Eigen::ComputeThinV);
  svd.setThreshold(1e-10);
  const Eigen::VectorXd coef = svd.solve(y);
  const double ss_res = (design * coef - y).squaredNorm(), ss_tot = (y.array() - y.mean()).square().sum();
  return 1 - std::sqrt(std::clamp(1 - ss_res / ss_tot, 0.0, 1.0));
}

/// rho of every neuron of linear node `node` of `net`, for every estimator, against brute_rho
/// on that node's own input and output samples (any node of a graph).
template <class L>
void compare_with_brute_force(const pn::Graph<double>& net, const L& layer, pn::Index node, const pn::Batch<double>& data) {
  const auto rec = net.record(data);
  const Mat x = layer.samples(rec.activations[static_cast<std::size_t>(net.inputs(node)[0] + 1)]);
  pn::Matrix<double> z;
  pn::batch_to_positions(rec.activations[static_cast<std::size_t>(node) + 1], layer.positions(), z);
  pn::MomentOptions mo;
  mo.input_covariance = true;
  const auto moments = pn::compute_moments(net, pn::batches(data, 37), mo);
  for (const auto& p : {pn::make_patterns<est::Filter>(net, moments), pn::make_patterns<est::Linear>(net, moments),
                        pn::make_patterns<est::TwoComponent>(net, moments), pn::make_patterns(net, moments, est::Random{3})}) {
    const auto q = pn::signal_quality(net, p, moments);
    const auto lq = std::find_if(q.layers.begin(), q.layers.end(), [&](const auto& l) { return l.layer == node; });
    const auto lp = std::find_if(p.layers().begin(), p.layers().end(), [&](const auto& l) { return l.layer == node; });
    REQUIRE(lq != q.layers.end());
    REQUIRE(lp != p.layers().end());
    REQUIRE(lq->evaluated.size() == static_cast<std::size_t>(layer.weight().rows()));
    for (std::size_t i = 0; i < lq->evaluated.size(); ++i) {
      const pn::Index f = lq->evaluated[i];
      const double b = layer.has_bias() ? layer.bias()(f) : 0.0;
      const double expected = brute_rho(x, z.col(f), layer.weight().row(f).transpose(), b, *lp, f);
      INFO(p.estimator() << " node " << node << " neuron " << f << ": " << lq->rho[i] << " vs " << expected);
      // rho = 1 - sqrt(R^2) turns rounding of R^2 ~ 1e-16 into 1e-8 where R^2 ~ 0 (S_a
      // fitted on the same data has cov[d, y] = 0): compare R^2 everywhere, rho where R > 1e-3.
      CHECK(std::abs((1 - lq->rho[i]) * (1 - lq->rho[i]) - (1 - expected) * (1 - expected)) < 1e-10);
      if (1 - expected > 1e-3) CHECK(std::abs(lq->rho[i] - expected) < 1e-8);
    }
  }
}

pn::Patterns<double> true_direction(const Eigen::Vector2d& a_s) {
  return pn::Patterns<double>("true a_s", {pn::LayerPatterns<double>{0, pn::PatternKind::single, a_s.transpose(), {}}});
}

}  // namespace

TEST_CASE("toy problem: rho(S_a) ~ 1 and rho(S_w) = 1 - 0.5 / sqrt(1.25)") {
  pn::ToyProblem toy;
  toy.y = pn::Distribution::uniform(0, 1);
  toy.eps = pn::Distribution::uniform(0, 1);
  const auto train = pn::make_toy_data<double>(toy, 100000, 1), test = pn::make_toy_data<double>(toy, 100000, 2);
  pn::Sequential<double> net{pn::fit_linear_filter(train.x, train.y)};
  net.set_input_shape({2, 1, 1});
  const pn::Batch<double> xtr({2, 1, 1}, train.x), xte({2, 1, 1}, test.x);
  const auto sa = pn::signal_quality(net, pn::fit_patterns<est::Linear>(net, pn::batches(xtr, 4096)), pn::batches(xte, 4096));
  const auto sw = pn::signal_quality(net, pn::fit_patterns<est::Filter>(net), pn::batches(xte, 4096));
  CHECK(*sa.layers[0].mean > 0.99);
  // corr(y, y + 2 eps) = 1 / sqrt(5); sampling error of a correlation ~ (1 - r^2) / sqrt(n) = 0.0025
  CHECK(std::abs(*sw.layers[0].mean - (1 - 0.5 / std::sqrt(1.25))) < 0.01);
  const auto sx = pn::signal_quality(net, pn::fit_patterns<est::Identity>(net), pn::batches(xte, 4096));
  CHECK_FALSE(sx.layers[0].applicable);
  CHECK_FALSE(sx.layers[0].mean.has_value());
  CHECK(sx.layers[0].rho.empty());
}

TEST_CASE("rho from second moments equals the brute-force regression (Dense, every estimator)") {
  pn::Sequential<double> net{pn::Dense<double>(5, 4)};
  net.set_input_shape({5, 1, 1});
  support::randomize(net, 1);
  // Correlated inputs with a non-zero mean.
  const Mat mix = support::random_matrix<double>(5, 5, 2);
  const pn::Batch<double> data({5, 1, 1}, Mat((mix * support::random_matrix<double>(5, 400, 3)).array() + 0.3));
  compare_with_brute_force(net, net.get<pn::Dense<double>>(0), 0, data);
}

TEST_CASE("rho from second moments equals the brute-force regression (Conv2D patches, every estimator)") {
  pn::Sequential<double> net{pn::Conv2D<double>(2, 3, 3, pn::Stride{2}, pn::Padding{1})};
  net.set_input_shape({2, 7, 6});
  support::randomize(net, 4);
  const pn::Batch<double> data({2, 7, 6}, support::random_matrix<double>(84, 60, 5, -0.5, 1.5));
  compare_with_brute_force(net, net.get<pn::Conv2D<double>>(0), 0, data);
}

TEST_CASE("rho per node of a residual graph equals the brute-force regression on that node's samples") {
  // conv -> ReLU -> conv -> Add(., input) -> ReLU -> Flatten -> Dense: the second conv's and
  // the dense layer's inputs come from inside the graph, the Add feeds the input back in.
  using D = double;
  pn::Graph<D> net;
  const auto c1 = net.add(pn::Conv2D<D>(2, 3, 3, pn::Padding{1}), pn::Graph<D>::input);
  const auto r1 = net.add(pn::ReLU<D>{}, c1);
  const auto c2 = net.add(pn::Conv2D<D>(3, 2, 3, pn::Padding{1}), r1);
  const auto sum = net.add(pn::Add<D>{}, {c2, pn::Graph<D>::input});
  const auto r2 = net.add(pn::ReLU<D>{}, sum);
  const auto flat = net.add(pn::Flatten<D>{}, r2);
  const auto fc = net.add(pn::Dense<D>(50, 3), flat);
  net.set_input_shape({2, 5, 5});
  support::randomize(net, 6);
  const pn::Batch<D> data({2, 5, 5}, support::random_matrix<D>(50, 300, 7, -0.5, 1.5));
  compare_with_brute_force(net, net.get<pn::Conv2D<D>>(c1), c1, data);
  compare_with_brute_force(net, net.get<pn::Conv2D<D>>(c2), c2, data);
  compare_with_brute_force(net, net.get<pn::Dense<D>>(fc), fc, data);
}

TEST_CASE("the numerical trap: a perfect estimator perturbed by 1e-14 keeps rho ~ 1") {
  pn::ToyProblem toy;
  toy.y = pn::Distribution::uniform(0, 1);
  toy.eps = pn::Distribution::uniform(0, 1);
  auto test = pn::make_toy_data<double>(toy, 20000, 3);
  // Make eps exactly uncorrelated with y in the sample (residual of eps on [1, y]), so the
  // true direction leaves nothing of y in d: rho = 1 up to rounding.
  Eigen::MatrixXd basis(20000, 2);
  basis << Eigen::VectorXd::Ones(20000), test.y;
  const Eigen::VectorXd eps = test.d.row(0).transpose();
  const Eigen::VectorXd resid = eps - basis * basis.colPivHouseholderQr().solve(eps);
  test.x = Eigen::Vector2d(1, 0) * test.y.transpose() + Eigen::Vector2d(1, 1) * resid.transpose();
  pn::Matrix<double> w(1, 2);
  w << 1, -1;
  pn::Sequential<double> net{pn::Dense<double>(w)};
  net.set_input_shape({2, 1, 1});
  pn::MomentOptions mo;
  mo.input_covariance = true;
  const pn::Batch<double> x({2, 1, 1}, test.x);
  const auto moments = pn::compute_moments(net, pn::batches(x, 1000), mo);
  const double exact = pn::signal_quality(net, true_direction({1, 0}), moments).layers[0].rho[0];
  const double moved = pn::signal_quality(net, true_direction({1 + 1e-14, -1e-14}), moments).layers[0].rho[0];
  CHECK(exact > 1 - 1e-6);  // sqrt of a rounding-level R^2
  CHECK(std::abs(moved - exact) < 1e-6);
  // float network, float data: rho moves by less than 1e-4
  pn::Sequential<float> netf{pn::Dense<float>(pn::Matrix<float>(w.cast<float>()))};
  netf.set_input_shape({2, 1, 1});
  const pn::Batch<float> xf({2, 1, 1}, pn::Matrix<float>(test.x.cast<float>()));
  const auto mf = pn::compute_moments(netf, pn::batches(xf, 1000), mo);
  const pn::Patterns<float> pf("true a_s", {pn::LayerPatterns<float>{0, pn::PatternKind::single, Eigen::RowVector2f(1, 0), {}}});
  CHECK(std::abs(pn::signal_quality(netf, pf, mf).layers[0].rho[0] - exact) < 1e-4);
  const auto sa_d = pn::signal_quality(net, pn::make_patterns<est::Linear>(net, moments), moments).layers[0].rho[0];
  const auto sa_f = pn::signal_quality(netf, pn::make_patterns<est::Linear>(netf, mf), mf).layers[0].rho[0];
  CHECK(std::abs(sa_d - sa_f) < 1e-4);
}

TEST_CASE("rho is in [0, 1]: random directions score low, the true direction ~ 1") {
  // x = a_s y + a_d eps + e3 eta: a strong distractor a_d = 5 (1, 1, 0) and a weak third
  // axis (sd 0.01). The filter is w = (1, -1, 0); a direction with a component along e3
  // leaks y into the distractor estimate where little else varies.
  pn::ToyProblem toy;
  toy.signal_direction = Eigen::Vector3d(1, 0, 0);
  toy.distractor_direction = Eigen::Vector3d(5, 5, 0);
  auto data = pn::make_toy_data<double>(toy, 100000, 4);
  data.x.row(2) = support::random_matrix<double>(1, 100000, 5, -0.017, 0.017);  // sd ~ 0.01
  pn::Matrix<double> w(1, 3);
  w << 1, -1, 0;
  pn::Sequential<double> net{pn::Dense<double>(w)};
  net.set_input_shape({3, 1, 1});
  const pn::Batch<double> x({3, 1, 1}, data.x);
  pn::MomentOptions mo;
  mo.input_covariance = true;
  const auto moments = pn::compute_moments(net, pn::batches(x, 1000), mo);
  const pn::Patterns<double> truth("a_s", {pn::LayerPatterns<double>{0, pn::PatternKind::single, Eigen::RowVector3d(1, 0, 0), {}}});
  CHECK(pn::signal_quality(net, truth, moments).layers[0].rho[0] > 0.99);
  double sum = 0;
  for (unsigned seed = 0; seed < 8; ++seed) {
    const double r = pn::signal_quality(net, pn::fit_patterns(net, est::Random{seed}), moments).layers[0].rho[0];
    CHECK(r >= 0.0);
    CHECK(r <= 1.0);
    sum += r;
    UNSCOPED_INFO("random seed " << seed << ": rho " << r);
  }
  CHECK(sum / 8 < 0.3);
}

TEST_CASE("regressors K, samples n, chance floor 1 - sqrt(K / n); from no more samples than inputs rho says nothing") {
  // Conv2D: K = channels x kernel = 2 x 3 x 3, n = positions x images = (4 x 3) x 60.
  pn::Sequential<double> conv{pn::Conv2D<double>(2, 3, 3, pn::Stride{2}, pn::Padding{1})};
  conv.set_input_shape({2, 7, 6});
  support::randomize(conv, 4);
  const pn::Batch<double> images({2, 7, 6}, support::random_matrix<double>(84, 60, 5, -0.5, 1.5));
  const auto qc = pn::signal_quality(conv, pn::fit_patterns<est::TwoComponent>(conv, pn::batches(images, 16)),
                                     pn::batches(images, 16));
  CHECK(qc.layers[0].regressors == 18);
  CHECK(qc.layers[0].samples == 720);
  CHECK(qc.layers[0].chance_floor() == Approx(0.841886117).epsilon(1e-9));

  // Dense, K = 20: S_a fitted on 1000 samples scores ~ the floor on 2000 held-out ones,
  // and ~ 0 on 15, from which the regression in rho fits y exactly; S_a fitted on those 15
  // makes their distractor uncorrelated with y, so rho = 1 on them, above the floor of 0.
  pn::Sequential<double> dense{pn::Dense<double>(20, 3)};
  dense.set_input_shape({20, 1, 1});
  support::randomize(dense, 11);
  auto samples = [](pn::Index n, unsigned seed) {
    return pn::Batch<double>({20, 1, 1}, support::random_matrix<double>(20, n, seed));
  };
  const pn::Batch<double> train = samples(1000, 12), held_out = samples(2000, 13), tiny = samples(15, 14);
  const auto p = pn::fit_patterns<est::Linear>(dense, pn::batches(train, 250));
  const auto many = pn::signal_quality(dense, p, pn::batches(held_out, 500));
  const auto few = pn::signal_quality(dense, p, pn::batches(tiny, 15));
  const auto in_sample = pn::signal_quality(dense, pn::fit_patterns<est::Linear>(dense, pn::batches(tiny, 15)),
                                            pn::batches(tiny, 15));
  CHECK(many.layers[0].chance_floor() == Approx(0.9).epsilon(1e-12));
  CHECK(few.layers[0].samples == 15);
  CHECK(few.layers[0].chance_floor() == 0);
  CHECK(few.layers[0].too_few_samples());
  CHECK_FALSE(many.layers[0].too_few_samples());
  for (std::size_t f = 0; f < 3; ++f) {
    CHECK(many.layers[0].rho[f] > 0.8);
    CHECK(few.layers[0].rho[f] < 1e-6);
    CHECK(in_sample.layers[0].rho[f] > 1 - 1e-6);
  }
}

TEST_CASE("the neuron subset gives the exact per-neuron values of the neurons it picks") {
  pn::Sequential<double> net{pn::Dense<double>(6, 20)};
  net.set_input_shape({6, 1, 1});
  support::randomize(net, 6);
  const pn::Batch<double> data({6, 1, 1}, support::random_matrix<double>(6, 300, 7));
  const auto p = pn::fit_patterns<est::TwoComponent>(net, pn::batches(data, 100));
  const auto all = pn::signal_quality(net, p, pn::batches(data, 100));
  pn::QualityOptions opt;
  opt.max_neurons = 5;
  opt.seed = 9;
  const auto some = pn::signal_quality(net, p, pn::batches(data, 100), opt);
  REQUIRE(some.layers[0].evaluated.size() == 5);
  CHECK(some.layers[0].subset());
  CHECK_FALSE(all.layers[0].subset());
  for (std::size_t i = 0; i < 5; ++i) {
    CHECK(some.layers[0].rho[i] == all.layers[0].rho[static_cast<std::size_t>(some.layers[0].evaluated[i])]);
  }
  opt.seed = 10;
  CHECK(pn::signal_quality(net, p, pn::batches(data, 100), opt).layers[0].evaluated != some.layers[0].evaluated);
}

TEST_CASE("rho rejects moments without the input covariance and bad options") {
  pn::Sequential<double> net{pn::Dense<double>(3, 2)};
  net.set_input_shape({3, 1, 1});
  support::randomize(net, 8);
  const pn::Batch<double> data({3, 1, 1}, support::random_matrix<double>(3, 50, 9));
  const auto moments = pn::compute_moments(net, pn::batches(data, 10));
  const auto p = pn::make_patterns<est::Linear>(net, moments);
  CHECK_THROWS_WITH(pn::signal_quality(net, p, moments), Catch::Matchers::Contains("input_covariance = true"));
  pn::QualityOptions bad;
  bad.max_neurons = 0;
  CHECK_THROWS_AS(pn::signal_quality(net, p, pn::batches(data, 10), bad), pn::ConfigError);
}

TEST_CASE("an ill-conditioned layer: a feature seen in 1 of 2000 training images, duplicated inputs") {
  // Held-out data lack feature 0 entirely, so d_0 = -a_0 g(y) has a variance ~1e-10 of the
  // other inputs' and explains part of y; inputs 5 and 6 are equal (Sigma_d is singular
  // beyond w). Unscaled, the factorisation lost up to 3e-7 of rho here; on the unit-diagonal
  // scale with a pivoted rank decision it agrees with the SVD regression on explicit d.
  const pn::Index K = 30, n = 2000;
  pn::Sequential<double> net{pn::Dense<double>(K, 4)};
  net.set_input_shape({K, 1, 1});
  support::randomize(net, 1);
  const Mat mix = support::random_matrix<double>(K, K, 2);
  Mat train = (mix * support::random_matrix<double>(K, n, 3)).array() + 0.3;
  Mat held_out = (mix * support::random_matrix<double>(K, n, 4)).array() + 0.3;
  for (Mat* x : {&train, &held_out}) {
    x->row(0).setZero();
    x->row(5) = x->row(6);
  }
  train(0, 17) = 1;
  const pn::Batch<double> tr({K, 1, 1}, train), te({K, 1, 1}, held_out);
  pn::MomentOptions mo;
  mo.input_covariance = true;
  const auto fit = pn::compute_moments(net, pn::batches(tr, 500), mo);
  const auto eval = pn::compute_moments(net, pn::batches(te, 500), mo);
  const Mat z = net.record(te).activations[1].transpose();
  const auto& layer = net.get<pn::Dense<double>>(0);
  for (const auto& p : {pn::make_patterns<est::Linear>(net, fit), pn::make_patterns<est::TwoComponent>(net, fit)}) {
    const auto q = pn::signal_quality(net, p, eval);
    for (pn::Index f = 0; f < 4; ++f) {
      const double expected = brute_rho(held_out.transpose(), z.col(f), layer.weight().row(f).transpose(), layer.bias()(f),
                                        p.layers()[0], f);
      INFO(p.estimator() << " neuron " << f << ": " << q.layers[0].rho[static_cast<std::size_t>(f)] << " vs " << expected);
      CHECK(std::abs(q.layers[0].rho[static_cast<std::size_t>(f)] - expected) < 1e-9);
    }
  }
}
