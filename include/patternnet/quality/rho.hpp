#pragma once
// The signal-estimator quality criterion (Kindermans et al. 2018; docs/signal-quality.md):
//
//   rho(S) = 1 - max_v corr(y, v^T (x - S(x)))
//
// per neuron, computed exactly from second moments of held-out data. The max over v is
// the least-squares regression of y on the distractor estimate d = x - S(x) (with
// intercept): rho = 1 - R, R^2 = cov[d, y]^T Sigma_d^+ cov[d, y] / var(y).
//
// Every estimator with a pattern has d = x - sum_k a_k g_k(y) (g = y, or g_+ = y 1[+] and
// g_- = y 1[-] for the two-component estimator), so Sigma_d and cov[d, y] follow from
// Sigma_x (shared by the layer's neurons) and the per-neuron regime moments: no
// per-neuron pass over the data.
//
// The numerical trap: w^T d = 0 exactly for every valid estimator, so Sigma_d is singular
// along w, and in floating point d keeps a rounding-level component along w proportional
// to y, which a pseudo-inverse would use to "explain" y perfectly (rho ~ 0 for a perfect
// estimator). So the regression is restricted to the complement of w first
// (P = I - w w^T / |w|^2 applied to d), and R^2 is the explained variance from the normal
// equations. The remaining (K x K) system is first scaled to unit diagonal (Sigma_Pd becomes
// a correlation matrix; a feature with a tiny variance, e.g. one active in a single training
// image, would otherwise make it ill-conditioned by scale alone), then factorised by
// Cholesky with diagonal pivoting, stopped at the numerical rank r: the number of pivots
// before the first one <= rank_tolerance (on the unit-diagonal scale: a direction whose
// variance left after regressing on the earlier ones is below that fraction of its own), and
// only those r enter c^T S^+ c (a generalised inverse: since cov[Pd, y] lies in the range of
// Sigma_Pd, the quadratic form does not depend on which).
//
// Cost per evaluated neuron: O(K^2 r) to form the system (r <= 5) and K^3 / 3 flops for
// the factorisation; memory O(K^2). Per layer: Sigma_x, K^2 doubles.

#include <patternnet/estimators/fit.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace patternnet {

struct QualityOptions {
  /// The numerical rank of the projected distractor covariance, scaled to unit diagonal
  /// (a correlation matrix): factorisation stops at the first pivot <= rank_tolerance, i.e.
  /// at the first direction with less than this fraction of its variance left once the
  /// directions before it are regressed out.
  double rank_tolerance = 1e-10;
  /// Evaluate at most this many neurons per layer, a seeded random subset (-1 = all).
  Index max_neurons = -1;
  std::uint64_t seed = 0;
  /// Options of the pass over the data (progress, chunking); input_covariance is forced on.
  MomentOptions moments;
};

/// rho of one layer's neurons.
struct LayerSignalQuality {
  Index layer = -1;
  std::string layer_type;
  /// False for S_x (d = 0: rho is undefined); the statistics below are then empty.
  bool applicable = true;
  Index neurons = 0;                 // neurons in the layer
  std::vector<Index> evaluated;      // neuron indices evaluated (all, or a seeded subset)
  std::vector<double> rho;           // rho per evaluated neuron (same order); NaN for those in `constant`
  std::vector<Index> constant;       // evaluated neurons with var(y) = 0 (no rho, excluded)
  std::optional<double> mean, sd, min, max;  // over the evaluated neurons with a rho
  Index regressors = 0;  // K: the inputs of each neuron (Conv2D: channels x kernel)
  double samples = 0;    // n: the samples rho was measured on (Conv2D: positions x inputs)

  [[nodiscard]] bool subset() const noexcept { return static_cast<Index>(evaluated.size()) < neurons; }

  /// 1 - sqrt(K / n): about the rho, on n samples held out from the fit, of an estimator that
  /// leaves no correlation with y at all, since the regression of y on K inputs fits R^2 ~ K / n
  /// from n samples by chance (on the samples it was fitted on, rho can be higher: S_a removes
  /// their correlation exactly). 0 when n <= K: rho then says nothing about the patterns (the
  /// regression fits held-out y exactly, rho ~ 0; on the fitting samples rho can be 1).
  [[nodiscard]] double chance_floor() const noexcept {
    return too_few_samples() ? 0.0 : 1 - std::sqrt(static_cast<double>(regressors) / samples);
  }
  /// n <= K: too few samples for rho to say anything about the patterns (chance_floor()).
  [[nodiscard]] bool too_few_samples() const noexcept { return samples <= static_cast<double>(regressors); }
};

/// rho(S) of every Dense and Conv2D layer for one estimator's patterns.
struct SignalQuality {
  std::string estimator;
  double rank_tolerance = 0;
  std::vector<LayerSignalQuality> layers;
};

namespace detail {

struct NeuronMoments {
  Eigen::MatrixXd c;   // K x m: cov[x, g_k]
  Eigen::MatrixXd g;   // m x m: cov[g_k, g_l]
  Eigen::MatrixXd a;   // K x m: the patterns a_k
  double var_y = 0;
  Eigen::VectorXd cov_xy;
};

/// c^T S^+ c for a symmetric positive semi-definite S, by Cholesky with diagonal pivoting
/// (the largest diagonal of the remaining Schur complement first) stopped at the numerical
/// rank r: the first pivot <= tolerance. Then c^T S^+ c = |z|^2 with L_r z = (Pi c)_r,
/// Pi the pivots' permutation and L_r the leading r columns of the factor (a generalised
/// inverse of S). Left-looking: one
/// matrix-vector product per column; K^3 / 3 flops at full rank. S is overwritten. (A
/// template so that including it costs nothing.)
template <class S>
double pseudo_inverse_form(Eigen::MatrixBase<S>& s, Eigen::VectorXd c, double tolerance) {
  const Index n = s.rows();
  Eigen::VectorXd diag = s.diagonal();  // the Schur complement's diagonal
  double q = 0;
  for (Index k = 0; k < n; ++k) {
    Index j = 0;
    const double pivot = diag.tail(n - k).maxCoeff(&j);
    if (!(pivot > tolerance)) break;
    if (j += k; j != k) {
      s.row(k).swap(s.row(j));
      s.col(k).swap(s.col(j));
      std::swap(diag(k), diag(j));
      std::swap(c(k), c(j));
    }
    const double lkk = std::sqrt(pivot);
    const Index rest = n - k - 1;
    auto col = s.col(k).tail(rest);  // L(k+1:, k), from A(k+1:, k) and the columns before
    col.noalias() -= s.bottomLeftCorner(rest, k) * s.row(k).head(k).transpose();
    col /= lkk;
    diag.tail(rest) -= col.cwiseAbs2();
    c(k) = (c(k) - s.row(k).head(k).dot(c.head(k))) / lkk;  // forward substitution: z_k
    q += c(k) * c(k);
  }
  return q;
}

/// rho of one neuron with weight w from the layer's Sigma_x (K x K, population) and the
/// neuron's moments; nullopt if var(y) = 0. (A template so that including it costs nothing.)
template <class DS>
std::optional<double> neuron_rho(const Eigen::MatrixBase<DS>& sigma_x, const Eigen::VectorXd& w,
                                 const NeuronMoments& nm, double tolerance) {
  if (!(nm.var_y > 0)) return std::nullopt;
  // cov[d, y] = cov[x, y] - sum_k a_k cov[g_k, y];  cov[g_k, y] = sum_l cov[g_k, g_l].
  const Eigen::VectorXd g_y = nm.g.rowwise().sum();
  Eigen::VectorXd c = nm.cov_xy - nm.a * g_y;
  // Sigma_d = Sigma_x - A C^T - C A^T + A G A^T.
  Eigen::MatrixXd s = sigma_x;
  s.noalias() -= nm.a * nm.c.transpose();
  s.noalias() -= nm.c * nm.a.transpose();
  s.noalias() += nm.a * nm.g * nm.a.transpose();
  // Project out w: P S P = S - u t^T - t u^T + (u^T t) u u^T with t = S u; P c.
  const Eigen::VectorXd u = w / w.norm();
  const Eigen::VectorXd t = s * u;
  const double utu = u.dot(t);
  s -= u * t.transpose() + t * u.transpose() - utu * u * u.transpose();
  c -= u * u.dot(c);
  // Unit diagonal: S <- D^-1/2 S D^-1/2, c <- D^-1/2 c (directions without variance stay 0).
  const Eigen::VectorXd scale =
      s.diagonal().unaryExpr([](double v) { return v > 0 ? 1 / std::sqrt(v) : 0.0; });
  s.array().colwise() *= scale.array();  // in place: no second K x K matrix per neuron
  s.array().rowwise() *= scale.transpose().array();
  c.array() *= scale.array();
  const double q = pseudo_inverse_form(s, std::move(c), tolerance);  // R^2 var(y) = c^T S^+ c
  const double r2 = std::clamp(q / nm.var_y, 0.0, 1.0);
  return 1.0 - std::sqrt(r2);
}

/// The per-neuron moments of neuron f of a layer from its regime moments (population
/// normalisation, n = all samples):
///   cov[x, g+] = C+/n + p+ p- (E+x - E-x) E+y,  cov[x, g-] = C-/n + p+ p- (E-x - E+x) E-y,
///   var g+ = V+/n + p+ p- (E+y)^2,  var g- = V-/n + p+ p- (E-y)^2,  cov[g+, g-] = -p+ p- E+y E-y.
template <class T>
NeuronMoments neuron_moments(const LayerMoments& m, const LayerPatterns<T>& p, Index f) {
  const RegimeMoments &pos = m.positive, &neg = m.negative;
  const double n = pos.n(f) + neg.n(f), pp = pos.n(f) / n, pm = neg.n(f) / n, q = pp * pm;
  const Eigen::VectorXd dx = pos.mean_x.col(f) - neg.mean_x.col(f);
  const double yp = pos.mean_y(f), ym = neg.mean_y(f);
  const Eigen::VectorXd c_pos = pos.c_xy.col(f) / n + q * dx * yp;
  const Eigen::VectorXd c_neg = neg.c_xy.col(f) / n - q * dx * ym;
  const double v_pos = pos.c_yy(f) / n + q * yp * yp, v_neg = neg.c_yy(f) / n + q * ym * ym, v_pm = -q * yp * ym;
  NeuronMoments nm;
  nm.cov_xy = c_pos + c_neg;
  nm.var_y = v_pos + v_neg + 2 * v_pm;
  if (p.kind == PatternKind::two_component) {
    nm.c.resize(c_pos.size(), 2);
    nm.c << c_pos, c_neg;
    nm.g.resize(2, 2);
    nm.g << v_pos, v_pm, v_pm, v_neg;
    nm.a.resize(c_pos.size(), 2);
    nm.a << p.a.row(f).transpose().template cast<double>(), p.a_neg.row(f).transpose().template cast<double>();
  } else {
    nm.c = nm.cov_xy;
    nm.g = Eigen::MatrixXd::Constant(1, 1, nm.var_y);
    nm.a = p.a.row(f).transpose().template cast<double>();
  }
  return nm;
}

}  // namespace detail

/// rho(S) of every Dense and Conv2D layer of `net` for `patterns`, from moments gathered
/// with MomentOptions::input_covariance on (ideally) data held out from pattern fitting.
/// Use this overload to evaluate several estimators from one pass over the data.
template <class T>
[[nodiscard]] SignalQuality signal_quality(const Graph<T>& net, const Patterns<T>& patterns,
                                           const NetworkMoments& moments, const QualityOptions& options = {}) {
  if (!(options.rank_tolerance >= 0 && options.rank_tolerance < 1)) {
    detail::fail<ConfigError>("signal_quality(): rank_tolerance must be in [0, 1), got {}", options.rank_tolerance);
  }
  if (options.max_neurons == 0 || options.max_neurons < -1) {
    detail::fail<ConfigError>("signal_quality(): max_neurons must be -1 (all) or >= 1, got {}", options.max_neurons);
  }
  SignalQuality result{patterns.estimator(), options.rank_tolerance, {}};
  for_each_linear(net, [&](Index l, const auto& layer) {
    const Matrix<T>& w = layer.weight();
    const LayerPatterns<T>& p = patterns.at(l, w.rows(), w.cols(), "signal_quality()");
    LayerSignalQuality q;
    q.layer = l;
    q.layer_type = std::string(std::decay_t<decltype(layer)>::name);
    q.neurons = w.rows();
    if (p.kind == PatternKind::identity) {
      q.applicable = false;
      result.layers.push_back(std::move(q));
      return;
    }
    const LayerMoments& m = moments.at(l);
    if (!m.with_input_covariance) {
      detail::fail<ConfigError>("signal_quality(): the moments of layer {} lack the input covariance; "
                                "compute them with MomentOptions::input_covariance = true", l);
    }
    if (m.inputs() != w.cols() || m.neurons() != w.rows()) {
      detail::fail<ShapeError>("signal_quality(): moments of layer {} are for {} neurons x {} inputs, the layer has {} x {}", l,
                               m.neurons(), m.inputs(), w.rows(), w.cols());
    }
    if (m.count == 0) detail::fail<ConfigError>("signal_quality(): the moments hold no samples");
    q.regressors = m.inputs();
    q.samples = static_cast<double>(m.count);
    q.evaluated.resize(static_cast<std::size_t>(w.rows()));
    std::iota(q.evaluated.begin(), q.evaluated.end(), Index{0});
    if (options.max_neurons > 0 && options.max_neurons < w.rows()) {
      std::mt19937_64 rng(options.seed + static_cast<std::uint64_t>(l));
      std::shuffle(q.evaluated.begin(), q.evaluated.end(), rng);
      q.evaluated.resize(static_cast<std::size_t>(options.max_neurons));
      std::sort(q.evaluated.begin(), q.evaluated.end());
    }
    const Eigen::MatrixXd sigma_x = m.c_xx / m.count;
    std::vector<double> values;
    for (const Index f : q.evaluated) {
      const auto rho = detail::neuron_rho(sigma_x, w.row(f).transpose().template cast<double>(),
                                          detail::neuron_moments(m, p, f), options.rank_tolerance);
      if (rho) {
        q.rho.push_back(*rho);
        values.push_back(*rho);
      } else {
        q.rho.push_back(std::numeric_limits<double>::quiet_NaN());
        q.constant.push_back(f);
      }
    }
    if (!values.empty()) {
      const double mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
      double ss = 0;
      for (double v : values) ss += (v - mean) * (v - mean);
      q.mean = mean;
      q.sd = std::sqrt(ss / static_cast<double>(values.size()));
      q.min = *std::min_element(values.begin(), values.end());
      q.max = *std::max_element(values.begin(), values.end());
    }
    result.layers.push_back(std::move(q));
  });
  return result;
}

/// rho(S) from one pass over `source` (held-out data: the documented default usage).
template <class T, class S>
  requires BatchSource<S, T>
[[nodiscard]] SignalQuality signal_quality(const Graph<T>& net, const Patterns<T>& patterns, const S& source,
                                           const QualityOptions& options = {}) {
  MomentOptions mo = options.moments;
  mo.input_covariance = true;
  return signal_quality(net, patterns, compute_moments(net, source, mo), options);
}

}  // namespace patternnet
