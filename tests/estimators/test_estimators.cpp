#include "support.hpp"

#include <catch2/catch.hpp>

namespace est = pn::estimators;

namespace {

template <class T>
pn::Sequential<T> small_cnn(unsigned seed) {
  pn::Sequential<T> net{pn::Conv2D<T>(1, 3, 3, pn::Padding{1}), pn::ReLU<T>{}, pn::MaxPool2D<T>(2),
                        pn::Flatten<T>{}, pn::Dense<T>(3 * 3 * 3, 4), pn::ReLU<T>{}, pn::Dense<T>(4, 2)};
  net.set_input_shape({1, 6, 6});
  support::randomize(net, seed);
  return net;
}

template <class T>
void check_unit_response(const pn::Sequential<T>& net, const pn::Patterns<T>& p, double tol) {
  for (const auto& lp : p.layers()) {
    const pn::Matrix<T>& w = std::visit([](const auto& l) -> const pn::Matrix<T>& {
      if constexpr (pn::LinearLayer<std::decay_t<decltype(l)>>) return l.weight();
      else throw std::logic_error("not linear");
    }, net.layer(lp.layer));
    for (const pn::Matrix<T>* a : {&lp.a, &lp.a_neg}) {
      if (a->size() == 0) continue;
      for (pn::Index i = 0; i < w.rows(); ++i) {
        if (a->row(i).isZero(0)) continue;  // degenerate, reported
        CHECK(std::abs(static_cast<double>(w.row(i).dot(a->row(i))) - 1.0) < tol);
      }
    }
  }
}

}  // namespace

TEST_CASE("w^T a = 1 for every non-degenerate neuron of every estimator, dense and conv") {
  const auto net = small_cnn<double>(1);
  const pn::Batch<double> data({1, 6, 6}, support::random_matrix<double>(36, 500, 2, -0.2, 1));
  const auto moments = pn::compute_moments(net, pn::batches(data, 64));
  check_unit_response(net, pn::make_patterns<est::Filter>(net, moments), 1e-12);
  check_unit_response(net, pn::make_patterns<est::Linear>(net, moments), 1e-12);
  check_unit_response(net, pn::make_patterns<est::TwoComponent>(net, moments), 1e-12);
  check_unit_response(net, pn::make_patterns(net, moments, est::Random{7}), 1e-12);
  const auto netf = small_cnn<float>(1);
  const pn::Batch<float> dataf({1, 6, 6}, pn::Matrix<float>(data.data.cast<float>()));
  check_unit_response(netf, pn::fit_patterns<est::TwoComponent>(netf, pn::batches(dataf, 100)), 1e-5);
  const auto two = pn::make_patterns<est::TwoComponent>(net, moments);
  CHECK(two.layers().size() == 3);
  CHECK(two.layers()[0].a.rows() == 3);
  CHECK(two.layers()[0].a.cols() == 9);
  CHECK(two.layers()[1].layer == 4);
}

TEST_CASE("S_w is w / (w^T w); S_x has no pattern; random is seeded") {
  const auto net = small_cnn<double>(3);
  const auto filter = pn::fit_patterns<est::Filter>(net);
  const auto& w = std::get<pn::Dense<double>>(net.layer(6)).weight();
  for (pn::Index i = 0; i < w.rows(); ++i) {
    CHECK((filter.layers()[2].a.row(i) - w.row(i) / w.row(i).squaredNorm()).cwiseAbs().maxCoeff() < 1e-15);
  }
  const auto identity = pn::fit_patterns<est::Identity>(net);
  CHECK(identity.layers()[0].kind == pn::PatternKind::identity);
  CHECK(identity.layers()[0].a.size() == 0);
  const auto r1 = pn::fit_patterns(net, est::Random{5}), r2 = pn::fit_patterns(net, est::Random{5}),
             r3 = pn::fit_patterns(net, est::Random{6});
  CHECK(r1 == r2);
  CHECK_FALSE(r1 == r3);
  CHECK(filter.estimator() == "S_w");
}

TEST_CASE("toy problem: the pattern recovers a_s while the filter and the gradient point along (1, -1)") {
  const pn::ToyProblem toy;  // a_s = (1, 0), a_d = (1, 1), y ~ U[-1, 1], eps ~ N(0, 1)
  const auto data = pn::make_toy_data<double>(toy, 10000, 1);
  pn::Sequential<double> net{pn::fit_linear_filter(data.x, data.y)};
  net.set_input_shape({2, 1, 1});
  const auto& w = std::get<pn::Dense<double>>(net.layer(0)).weight();
  CHECK(w(0, 0) == Approx(1.0).margin(1e-9));   // x1 - x2 = y exactly: the filter is exact
  CHECK(w(0, 1) == Approx(-1.0).margin(1e-9));
  const pn::Batch<double> x({2, 1, 1}, data.x);
  const auto sa = pn::fit_patterns<est::Linear>(net, pn::batches(x, 1000));
  const Eigen::RowVector2d a = sa.layers()[0].a.row(0);
  CHECK(a.dot(Eigen::RowVector2d(1, 0)) / a.norm() > 0.999);
  const auto grad = pn::explain(net, pn::rules::Gradient{}, x);
  CHECK((grad.attribution.data.colwise() - Eigen::Vector2d(1, -1)).cwiseAbs().maxCoeff() < 1e-9);
  // PatternNet returns the signal a y; PatternAttribution w .* a y sums to y.
  const auto signal = pn::explain(net, pn::rules::PatternNet{sa}, x);
  const auto attribution = pn::explain(net, pn::rules::PatternAttribution{sa}, x);
  const Eigen::RowVectorXd y = data.y.transpose();  // = w^T x + b exactly
  for (pn::Index j = 0; j < 100; ++j) {
    const double yj = signal.target_values(j) - std::get<pn::Dense<double>>(net.layer(0)).bias()(0);
    CHECK((signal.attribution.data.col(j) - a.transpose() * signal.target_values(j)).norm() < 1e-12);
    CHECK(attribution.attribution.data.col(j).sum() == Approx(signal.target_values(j)).margin(1e-12));
    CHECK(yj == Approx(y(j)).margin(1e-9));
  }
  // The signal estimate is close to the true signal a_s y.
  const double err = (signal.attribution.data - data.s).norm() / data.s.norm();
  CHECK(err < 0.02);
}

TEST_CASE("two-component patterns on the toy problem: both regimes recover a_s") {
  const pn::ToyProblem toy;
  const auto data = pn::make_toy_data<double>(toy, 20000, 2);
  pn::Sequential<double> net{pn::fit_linear_filter(data.x, data.y)};
  net.set_input_shape({2, 1, 1});
  const pn::Batch<double> x({2, 1, 1}, data.x);
  const auto p = pn::fit_patterns<est::TwoComponent>(net, pn::batches(x, 512));
  for (const pn::Matrix<double>* a : {&p.layers()[0].a, &p.layers()[0].a_neg}) {
    CHECK(std::abs((*a)(0, 1)) < 0.05);
    CHECK((*a)(0, 0) == Approx(1.0).margin(0.05));
  }
  CHECK(p.report().degenerate.empty());
}

TEST_CASE("dead neurons and zero denominators are reported and give finite patterns") {
  pn::Matrix<double> w(3, 2);
  w << 1, 0,    // ordinary
      -1, -1,   // never positive on positive data with bias -10: dead
      0, 0;     // zero weights: denominator w^T v = 0
  pn::Vector<double> b(3);
  b << 0.1, -10, 0;
  pn::Sequential<double> net{pn::Dense<double>(w, b)};
  net.set_input_shape({2, 1, 1});
  const pn::Batch<double> x({2, 1, 1}, support::random_matrix<double>(2, 200, 3, 0, 1));
  const auto p = pn::fit_patterns<est::TwoComponent>(net, pn::batches(x, 50));
  const auto& r = p.report();
  using Reason = pn::DegenerateNeuron::Reason;
  CHECK(r.count(Reason::never_positive) == 2);  // neuron 1 (dead) and neuron 2 (z = 0 is not > 0)
  CHECK(r.count(Reason::tiny_denominator) == 1); // neuron 2, negative regime
  CHECK(r.count(Reason::never_negative) == 1);   // neuron 0: z = x1 + 0.1 > 0 always
  CHECK(p.layers()[0].a.allFinite());
  CHECK(p.layers()[0].a_neg.allFinite());
  CHECK(p.layers()[0].a.row(1).isZero(0));
  CHECK(p.layers()[0].a.row(2).isZero(0));
  CHECK(p.layers()[0].a_neg.row(2).isZero(0));
  CHECK(r.summary().find("layer 0 neuron 1: never in the positive regime (dead): a+ = 0") != std::string::npos);
  const auto f = pn::fit_patterns<est::Filter>(net);
  CHECK(f.report().count(Reason::tiny_denominator) == 1);
  CHECK(f.layers()[0].a.allFinite());
}

TEST_CASE("an estimator that needs data refuses to work without it") {
  const auto net = small_cnn<double>(4);
  CHECK_THROWS_AS(pn::make_patterns<est::Linear>(net, nullptr), pn::ConfigError);
  pn::MomentOptions opt;
  opt.chunk_rows = 0;
  const pn::Batch<double> data({1, 6, 6}, 3);
  CHECK_THROWS_AS(pn::compute_moments(net, pn::batches(data, 1), opt), pn::ConfigError);
  CHECK_THROWS_AS(pn::batches(data, 0), pn::ConfigError);
}

TEST_CASE("progress is reported after every batch") {
  const auto net = small_cnn<double>(5);
  const pn::Batch<double> data({1, 6, 6}, support::random_matrix<double>(36, 250, 6));
  std::vector<pn::Progress> seen;
  pn::MomentOptions opt;
  opt.progress = [&](const pn::Progress& p) { seen.push_back(p); };
  (void)pn::fit_patterns<est::Linear>(net, pn::batches(data, 100), opt);
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].samples == 100);
  CHECK(seen[2].samples == 250);
  CHECK(seen[2].batches == 3);
  CHECK(seen[2].total_samples == 250);
}
