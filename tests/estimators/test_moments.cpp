#include "support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>

namespace {

// One-shot oracle from the whole sample matrix: X (m x K) rows = neuron inputs,
// Z (m x F) pre-activations with bias b.
struct Oracle {
  Eigen::RowVectorXd n[2], mean_y[2], c_yy[2];
  Eigen::MatrixXd mean_x[2], c_xy[2];
  Eigen::MatrixXd pattern_pos, pattern_neg, pattern_linear;  // F x K, the formulas of docs/concepts.md, literally
};

Oracle oracle(const Eigen::MatrixXd& x, const Eigen::MatrixXd& z, const Eigen::VectorXd& b, const Eigen::MatrixXd& w) {
  const pn::Index m = x.rows(), K = x.cols(), F = z.cols();
  Eigen::MatrixXd y = z;
  if (b.size()) y.rowwise() -= b.transpose();
  Oracle o;
  for (int r = 0; r < 2; ++r) {
    o.n[r].setZero(F), o.mean_y[r].setZero(F), o.c_yy[r].setZero(F);
    o.mean_x[r].setZero(K, F), o.c_xy[r].setZero(K, F);
  }
  o.pattern_pos.setZero(F, K), o.pattern_neg.setZero(F, K), o.pattern_linear.setZero(F, K);
  for (pn::Index f = 0; f < F; ++f) {
    const double ey = y.col(f).mean();
    Eigen::VectorXd exy_all = Eigen::VectorXd::Zero(K);
    for (int r = 0; r < 2; ++r) {
      Eigen::VectorXd sx = Eigen::VectorXd::Zero(K), sxy = Eigen::VectorXd::Zero(K);
      double sy = 0, cnt = 0;
      for (pn::Index j = 0; j < m; ++j) {
        if ((z(j, f) > 0) != (r == 0)) continue;
        cnt += 1, sx += x.row(j).transpose(), sy += y(j, f), sxy += x.row(j).transpose() * y(j, f);
      }
      o.n[r](f) = cnt;
      if (cnt == 0) continue;
      const Eigen::VectorXd mx = sx / cnt;
      const double my = sy / cnt;
      o.mean_x[r].col(f) = mx, o.mean_y[r](f) = my;
      for (pn::Index j = 0; j < m; ++j) {
        if ((z(j, f) > 0) != (r == 0)) continue;
        o.c_xy[r].col(f) += (x.row(j).transpose() - mx) * (y(j, f) - my);
        o.c_yy[r](f) += (y(j, f) - my) * (y(j, f) - my);
      }
      const Eigen::VectorXd v = sxy / cnt - mx * ey;  // E_r[x y] - E_r[x] E[y]
      (r == 0 ? o.pattern_pos : o.pattern_neg).row(f) = v.transpose() / w.row(f).dot(v);
      exy_all += sxy;
    }
    const Eigen::VectorXd cov = exy_all / double(m) - x.colwise().mean().transpose() * ey;
    o.pattern_linear.row(f) = cov.transpose() / w.row(f).dot(cov);
  }
  return o;
}

double rel(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  return (a - b).cwiseAbs().maxCoeff() / std::max(1e-300, b.cwiseAbs().maxCoeff());
}

void compare(const pn::LayerMoments& got, const Oracle& o, double tol) {
  const pn::RegimeMoments* regimes[2] = {&got.positive, &got.negative};
  for (int r = 0; r < 2; ++r) {
    CHECK(regimes[r]->n == o.n[r]);
    CHECK(rel(regimes[r]->mean_x, o.mean_x[r]) < tol);
    CHECK(rel(regimes[r]->mean_y, o.mean_y[r]) < tol);
    CHECK(rel(regimes[r]->c_xy, o.c_xy[r]) < tol);
    CHECK(rel(regimes[r]->c_yy, o.c_yy[r]) < tol);
  }
}

// Splits the columns of `data` into random batches in a random order.
std::vector<pn::Batch<double>> random_split(const pn::Batch<double>& data, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<pn::Index> order(static_cast<std::size_t>(data.size()));
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<pn::Batch<double>> out;
  for (std::size_t start = 0; start < order.size();) {
    const std::size_t len = std::min<std::size_t>(order.size() - start, 1 + rng() % 37);
    pn::Matrix<double> cols(data.data.rows(), static_cast<pn::Index>(len));
    for (std::size_t k = 0; k < len; ++k) cols.col(static_cast<pn::Index>(k)) = data.data.col(order[start + k]);
    out.emplace_back(data.shape, std::move(cols));
    start += len;
  }
  return out;
}

}  // namespace

TEST_CASE("Dense moments over random batch splits and orders equal the one-shot formula") {
  pn::Sequential<double> net{pn::Dense<double>(6, 4), pn::ReLU<double>{}, pn::Dense<double>(4, 3)};
  net.set_input_shape({6, 1, 1});
  support::randomize(net, 1);
  const pn::Batch<double> data({6, 1, 1}, support::random_matrix<double>(6, 300, 2, -1, 2));
  const pn::ForwardRecord<double> rec = net.record(data);
  for (unsigned split = 0; split < 3; ++split) {
    pn::MomentOptions opt;
    opt.chunk_rows = 16 + split * 50;  // also splits batches into blocks
    const auto moments = pn::compute_moments(net, random_split(data, split), opt);
    for (pn::Index l : {0, 2}) {
      const auto& layer = std::get<pn::Dense<double>>(net.layer(l));
      const Oracle o = oracle(rec.activations[l].transpose(), rec.activations[l + 1].transpose(), layer.bias(), layer.weight());
      compare(moments.at(l), o, 1e-12);
    }
  }
}

TEST_CASE("Conv2D moments over the patches at every position equal the one-shot formula") {
  pn::Sequential<double> net{pn::Conv2D<double>(2, 3, 3, pn::Stride{2}, pn::Padding{1})};
  net.set_input_shape({2, 7, 6});
  support::randomize(net, 3);
  const pn::Batch<double> data({2, 7, 6}, support::random_matrix<double>(84, 40, 4, -0.5, 1.5));
  const auto& conv = std::get<pn::Conv2D<double>>(net.layer(0));
  const pn::ConvGeometry& g = conv.geometry();
  // Explicit patches, built with direct loops (zero padding included).
  const pn::Index P = g.positions(), K = g.taps();
  Eigen::MatrixXd patches(data.size() * P, K), z(data.size() * P, 3);
  for (pn::Index n = 0; n < data.size(); ++n)
    for (pn::Index oy = 0; oy < g.out_h(); ++oy)
      for (pn::Index ox = 0; ox < g.out_w(); ++ox) {
        const pn::Index row = n * P + oy * g.out_w() + ox;
        for (pn::Index c = 0; c < 2; ++c)
          for (pn::Index i = 0; i < 3; ++i)
            for (pn::Index j = 0; j < 3; ++j) {
              const pn::Index iy = oy * 2 + i - 1, ix = ox * 2 + j - 1;
              patches(row, (c * 3 + i) * 3 + j) = (iy >= 0 && iy < 7 && ix >= 0 && ix < 6) ? data.data(g.in.at(c, iy, ix), n) : 0.0;
            }
        z.row(row) = patches.row(row) * conv.weight().transpose() + conv.bias().transpose();
      }
  const Oracle o = oracle(patches, z, conv.bias(), conv.weight());
  for (unsigned split = 0; split < 3; ++split) {
    const auto moments = pn::compute_moments(net, random_split(data, 10 + split));
    compare(moments.at(0), o, 1e-12);
    const auto pos = pn::make_patterns<pn::estimators::TwoComponent>(net, moments);
    CHECK(rel(pos.layers()[0].a, o.pattern_pos) < 1e-10);
    CHECK(rel(pos.layers()[0].a_neg, o.pattern_neg) < 1e-10);
    const auto lin = pn::make_patterns<pn::estimators::Linear>(net, moments);
    CHECK(rel(lin.layers()[0].a, o.pattern_linear) < 1e-10);
  }
}

TEST_CASE("input covariance accumulates exactly across batches") {
  pn::Sequential<double> net{pn::Dense<double>(5, 2)};
  net.set_input_shape({5, 1, 1});
  support::randomize(net, 5);
  const pn::Batch<double> data({5, 1, 1}, support::random_matrix<double>(5, 120, 6, 3, 5));
  pn::MomentOptions opt;
  opt.input_covariance = true;
  const auto m = pn::compute_moments(net, random_split(data, 7), opt).at(0);
  const Eigen::MatrixXd xc = data.data.colwise() - data.data.rowwise().mean();
  CHECK(rel(m.c_xx, xc * xc.transpose()) < 1e-12);
  CHECK(rel(m.mean_x, data.data.rowwise().mean()) < 1e-14);
  CHECK(m.count == 120);
}

TEST_CASE("data with a large offset does not cancel catastrophically (float network)") {
  // Inputs of mean 1e4 and spread 1; the float network's own pre-activations are the
  // data. The oracle accumulates the same float values in double with two passes.
  pn::Sequential<float> net{pn::Dense<float>(4, 3)};
  net.set_input_shape({4, 1, 1});
  support::randomize(net, 8);
  auto& dense = std::get<pn::Dense<float>>(net.layer(0));
  dense.bias() = -(dense.weight() * pn::Vector<float>::Constant(4, 1e4f));  // keep both regimes populated
  const pn::Batch<float> data({4, 1, 1}, (support::random_matrix<double>(4, 4000, 9, -1, 1).array() + 1e4).cast<float>().matrix());
  const pn::Matrix<float> z = net.forward(data).data;
  const Oracle o = oracle(data.data.transpose().cast<double>(), z.transpose().cast<double>(),
                          dense.bias().cast<double>(), dense.weight().cast<double>());
  const auto moments = pn::compute_moments(net, pn::batches(data, 256));
  const auto two = pn::make_patterns<pn::estimators::TwoComponent>(net, moments);
  const auto lin = pn::make_patterns<pn::estimators::Linear>(net, moments);
  // Float-rounding of the result only (a float accumulation of E[xy] - E[x]E[y] at this
  // offset is wrong by ~1e8 * 6e-8 = 6, i.e. 100 %).
  CHECK(rel(two.layers()[0].a.cast<double>(), o.pattern_pos) < 1e-5);
  CHECK(rel(two.layers()[0].a_neg.cast<double>(), o.pattern_neg) < 1e-5);
  CHECK(rel(lin.layers()[0].a.cast<double>(), o.pattern_linear) < 1e-5);
}

TEST_CASE("the linear pattern is invariant to a data offset (double network)") {
  pn::Sequential<double> centred{pn::Dense<double>(3, 2)};
  centred.set_input_shape({3, 1, 1});
  support::randomize(centred, 11);
  pn::Sequential<double> shifted = centred;
  auto& d = std::get<pn::Dense<double>>(shifted.layer(0));
  d.bias() -= d.weight() * Eigen::Vector3d::Constant(1e4);
  const pn::Batch<double> x({3, 1, 1}, support::random_matrix<double>(3, 2000, 12));
  const pn::Batch<double> x_shifted({3, 1, 1}, Eigen::MatrixXd(x.data.array() + 1e4));
  const auto a = pn::fit_patterns<pn::estimators::Linear>(centred, pn::batches(x, 100));
  const auto b = pn::fit_patterns<pn::estimators::Linear>(shifted, pn::batches(x_shifted, 100));
  CHECK(rel(b.layers()[0].a, a.layers()[0].a) < 1e-9);
}
