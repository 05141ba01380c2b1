#pragma once
// The linear toy problem of Kindermans et al. 2018 (Fig. 2): x = s + d with signal s = a_s y and
// distractor d = a_d eps. The optimal linear filter must cancel the distractor
// (w^T a_d = 0) and keep the signal (w^T a_s = 1), so w points away from a_s, while the
// pattern cov[x, y] / var(y) recovers a_s.

#include <patternnet/layers/dense.hpp>

#include <Eigen/QR>

#include <random>

namespace patternnet {

/// A scalar distribution of the toy problem: uniform on [a, b] or normal(mean a, sd b).
struct Distribution {
  enum class Kind { uniform, normal } kind = Kind::uniform;
  double a = -1, b = 1;
  [[nodiscard]] static Distribution uniform(double lo, double hi) { return {Kind::uniform, lo, hi}; }
  [[nodiscard]] static Distribution normal(double mean, double sd) { return {Kind::normal, mean, sd}; }
};

struct ToyProblem {
  Eigen::VectorXd signal_direction = Eigen::Vector2d(1, 0);      // a_s
  Eigen::VectorXd distractor_direction = Eigen::Vector2d(1, 1);  // a_d
  Distribution y = Distribution::uniform(-1, 1);
  Distribution eps = Distribution::normal(0, 1);
};

/// Samples of the toy problem, one per column: x = s + d, s = a_s y, d = a_d eps.
template <class T>
struct ToyData {
  Matrix<T> x, s, d;  // D x n
  Vector<T> y;        // n
};

template <class T>
[[nodiscard]] ToyData<T> make_toy_data(const ToyProblem& p, Index n, std::uint64_t seed) {
  if (p.signal_direction.size() != p.distractor_direction.size() || p.signal_direction.size() < 1) {
    detail::fail<ShapeError>("make_toy_data(): a_s has {} entries, a_d has {}", p.signal_direction.size(),
                             p.distractor_direction.size());
  }
  if (n < 1) detail::fail<ConfigError>("make_toy_data(): n must be >= 1, got {}", n);
  std::mt19937_64 rng(seed);
  auto draw = [&rng](const Distribution& dist) {
    if (dist.kind == Distribution::Kind::uniform) return std::uniform_real_distribution<double>(dist.a, dist.b)(rng);
    return std::normal_distribution<double>(dist.a, dist.b)(rng);
  };
  ToyData<T> out;
  const Index dim = p.signal_direction.size();
  out.x.resize(dim, n);
  out.s.resize(dim, n);
  out.d.resize(dim, n);
  out.y.resize(n);
  for (Index j = 0; j < n; ++j) {
    const double y = draw(p.y), eps = draw(p.eps);
    out.y(j) = static_cast<T>(y);
    out.s.col(j) = (p.signal_direction * y).template cast<T>();
    out.d.col(j) = (p.distractor_direction * eps).template cast<T>();
    out.x.col(j) = out.s.col(j) + out.d.col(j);
  }
  return out;
}

/// The least-squares linear filter with intercept: argmin_{w,b} sum_j (w^T x_j + b - y_j)^2,
/// as a Dense layer (1 output). Solved in double with a rank-revealing QR.
template <class T>
[[nodiscard]] Dense<T> fit_linear_filter(const Matrix<T>& x, const Vector<T>& y) {
  if (x.cols() != y.size()) {
    detail::fail<ShapeError>("fit_linear_filter(): {} samples in x but {} targets", x.cols(), y.size());
  }
  Eigen::MatrixXd design(x.cols(), x.rows() + 1);
  design.leftCols(x.rows()) = x.transpose().template cast<double>();
  design.col(x.rows()).setOnes();
  const Eigen::VectorXd coef = design.colPivHouseholderQr().solve(y.template cast<double>());
  Matrix<T> w = coef.head(x.rows()).transpose().template cast<T>();
  Vector<T> b = Vector<T>::Constant(1, static_cast<T>(coef(x.rows())));
  return Dense<T>(std::move(w), std::move(b));
}

}  // namespace patternnet
