// Each LRP rule's linear hook against a slow oracle written from explicit matrices: a Dense
// layer's W, and a Conv2D layer's explicit Jacobian J (support::jacobian), whose entries are
// single kernel weights or 0, so W+ , W^2, ... of the kernel are J+, J^2, ... of J.
#include "support.hpp"

#include <patternnet/rules/lrp.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

using Catch::Matchers::Contains;

namespace {

enum class Kind { epsilon, zplus, alpha_beta, gamma, zbox, flat, wsquare };

struct Params {
  double eps = 1e-6;  // epsilon, or the stabiliser of the other rules
  double alpha = 2, beta = 1, gamma = 0.25;
  Eigen::VectorXd low, high;  // ZBox: one entry per input
  bool bias = true;           // false: the rule ignores the bias
};

double stab(double z, double eps) { return z >= 0 ? z + eps : z - eps; }
double pos(double v) { return v > 0 ? v : 0; }
double neg(double v) { return v < 0 ? v : 0; }

struct Oracle {
  Eigen::MatrixXd relevance;  // in x N
  Eigen::MatrixXd magnitude;  // in x N: sum over i and terms of |term|
  double condition = 1;       // max over neurons of sum_j |c_ij| / |stab(D_i)|
};

/// R_j = sum_i sum_t coef_t c^t_ij / stab(D^t_i) R_i in the per-contribution form of the
/// literature (docs/methods.md, Zennit's conventions), with explicit loops in double.
/// w: out x in (a Dense weight, or a conv Jacobian), b: out (per-output bias, expanded),
/// connected: out x in (1 where input j feeds output i), x: in x N, r: out x N.
Oracle oracle(Kind kind, const Params& p, const Eigen::MatrixXd& w, const Eigen::VectorXd& b_in,
              const Eigen::MatrixXd& connected, const Eigen::MatrixXd& x, const Eigen::MatrixXd& r) {
  const pn::Index out = w.rows(), in = w.cols(), n = x.cols();
  const Eigen::VectorXd b = p.bias ? b_in : Eigen::VectorXd::Zero(out);
  Oracle o{Eigen::MatrixXd::Zero(in, n), Eigen::MatrixXd::Zero(in, n), 1};
  for (pn::Index s = 0; s < n; ++s) {
    for (pn::Index i = 0; i < out; ++i) {
      // Up to two terms t, each with contributions c[t][j], a bias d[t] and a coefficient.
      std::vector<std::vector<double>> c(2, std::vector<double>(static_cast<std::size_t>(in), 0.0));
      double d[2] = {0, 0}, coef[2] = {1, 0};
      double z_true = b_in(i);
      for (pn::Index j = 0; j < in; ++j) z_true += w(i, j) * x(j, s);
      for (pn::Index j = 0; j < in; ++j) {
        const double wij = w(i, j), xj = x(j, s);
        const auto k = static_cast<std::size_t>(j);
        switch (kind) {
          case Kind::epsilon: c[0][k] = xj * wij; break;
          case Kind::zplus: c[0][k] = pos(xj) * pos(wij) + neg(xj) * neg(wij); break;
          case Kind::alpha_beta:
            c[0][k] = pos(xj) * pos(wij) + neg(xj) * neg(wij);
            c[1][k] = pos(xj) * neg(wij) + neg(xj) * pos(wij);
            break;
          case Kind::gamma:
            if (z_true > 0) c[0][k] = pos(xj) * (wij + p.gamma * pos(wij)) + neg(xj) * (wij + p.gamma * neg(wij));
            if (z_true < 0) c[0][k] = pos(xj) * (wij + p.gamma * neg(wij)) + neg(xj) * (wij + p.gamma * pos(wij));
            break;
          case Kind::zbox: c[0][k] = xj * wij - p.low(j) * pos(wij) - p.high(j) * neg(wij); break;
          case Kind::flat: c[0][k] = connected(i, j); break;
          case Kind::wsquare: c[0][k] = wij * wij; break;
        }
      }
      switch (kind) {
        case Kind::epsilon: d[0] = b(i); break;
        case Kind::zplus: d[0] = pos(b(i)); break;
        case Kind::alpha_beta:
          d[0] = pos(b(i)), d[1] = neg(b(i));
          coef[0] = p.alpha, coef[1] = -p.beta;
          break;
        case Kind::gamma:
          d[0] = z_true > 0 ? b(i) + p.gamma * pos(b(i)) : b(i) + p.gamma * neg(b(i));
          if (z_true == 0) coef[0] = 0;
          break;
        case Kind::wsquare: d[0] = b(i) * b(i); break;
        default: break;  // ZBox: the biases cancel; Flat: no bias
      }
      for (int t = 0; t < 2; ++t) {
        if (coef[t] == 0) continue;
        double denom = d[t], abs_sum = std::abs(d[t]);
        for (double v : c[static_cast<std::size_t>(t)]) denom += v, abs_sum += std::abs(v);
        denom = stab(denom, p.eps);
        o.condition = std::max(o.condition, abs_sum / std::abs(denom));
        for (pn::Index j = 0; j < in; ++j) {
          const double term = coef[t] * c[static_cast<std::size_t>(t)][static_cast<std::size_t>(j)] / denom * r(i, s);
          o.relevance(j, s) += term;
          o.magnitude(j, s) += std::abs(term);
        }
      }
    }
  }
  return o;
}

template <class R>
R make_rule(Kind kind, const Params& p) {
  const pn::Bias bias{p.bias};
  const pn::rules::Stabilizer st{p.eps};
  if constexpr (std::is_same_v<R, pn::rules::Epsilon>) return R{p.eps, bias};
  else if constexpr (std::is_same_v<R, pn::rules::AlphaBeta>) return R{p.alpha, p.beta, st, bias};
  else if constexpr (std::is_same_v<R, pn::rules::Gamma>) return R{p.gamma, bias, st};
  else if constexpr (std::is_same_v<R, pn::rules::ZBox>) return R{p.low, p.high, st, bias};
  else {
    (void)kind;
    return R{st, bias};
  }
}

/// Checks the rule's hook on `layer` (bound, weight w_explicit as its explicit matrix) against
/// the oracle, entry by entry: |hook - oracle| <= 4 (in + out + 4) * kappa * u * magnitude,
/// the standard bound for sums of (in + out) rounded terms whose denominators D carry a
/// relative rounding error of at most in * kappa * u (kappa = sum |c| / |D|, u = unit
/// roundoff of T).
template <class R, class L, class T>
void check_rule(Kind kind, const Params& p, const L& layer, const pn::Matrix<T>& x, const pn::Matrix<T>& r,
                const Eigen::MatrixXd& w_explicit, const Eigen::VectorXd& b_explicit,
                const Eigen::MatrixXd& connected) {
  const R rule = make_rule<R>(kind, p);
  const pn::Matrix<T> z = layer.forward(x);
  const pn::LayerCache<T> none;
  const pn::Matrix<T>* inputs[] = {&x};
  const pn::LayerContext<T> ctx{0, x, z, inputs, none};
  const pn::Matrix<T> got = rule.linear(layer, ctx, r);
  const Oracle o = oracle(kind, p, w_explicit, b_explicit, connected, x.template cast<double>(), r.template cast<double>());
  REQUIRE(got.rows() == o.relevance.rows());
  REQUIRE(got.cols() == o.relevance.cols());
  const double u = std::numeric_limits<T>::epsilon() / 2;
  const double factor = 4.0 * double(w_explicit.cols() + w_explicit.rows() + 4) * o.condition * u;
  CHECK(o.condition < 1e4);  // the data are not so ill-conditioned that the check is vacuous
  double worst = 0;
  for (pn::Index s = 0; s < got.cols(); ++s) {
    for (pn::Index j = 0; j < got.rows(); ++j) {
      const double err = std::abs(double(got(j, s)) - o.relevance(j, s));
      const double bound = factor * o.magnitude(j, s) + 1e-300;
      worst = std::max(worst, err / bound);
    }
  }
  INFO("worst error / bound = " << worst << ", kappa = " << o.condition);
  CHECK(worst <= 1.0);
  CHECK(o.relevance.cwiseAbs().maxCoeff() > 1e-3);  // not trivially zero
}

template <class T>
pn::Dense<T> dense(unsigned seed, bool bias) {
  return pn::Dense<T>(support::random_matrix<T>(5, 7, seed), bias ? support::random_vector<T>(5, seed + 1) : pn::Vector<T>{});
}

template <class T>
pn::Conv2D<T> conv(unsigned seed, bool bias) {
  pn::Conv2D<T> c(support::random_matrix<T>(3, 2 * 3 * 3, seed), bias ? support::random_vector<T>(3, seed + 1) : pn::Vector<T>{},
                  2, 3, pn::Padding{1}, pn::Stride{2});
  c.bind({2, 5, 6}, 0);
  return c;
}

/// Runs every rule on `layer` for mixed-sign and non-negative inputs, with the rule's bias
/// switch on and off.
template <class T, class L>
void check_all_rules(const L& layer, const Eigen::MatrixXd& w, const Eigen::VectorXd& b, const Eigen::MatrixXd& connected,
                     unsigned seed) {
  const pn::Index in = w.cols(), out = w.rows();
  const pn::Matrix<T> mixed = support::random_matrix<T>(in, 3, seed);
  const pn::Matrix<T> positive = support::random_matrix<T>(in, 3, seed + 1, 0.0, 1.0);
  const pn::Matrix<T> r = support::random_matrix<T>(out, 3, seed + 2);
  for (bool rule_bias : {true, false}) {
    for (const auto* x : {&mixed, &positive}) {
      Params p;
      p.bias = rule_bias;
      p.low = Eigen::VectorXd::LinSpaced(in, -1.5, -1.0);
      p.high = Eigen::VectorXd::LinSpaced(in, 1.0, 2.0);
      INFO("rule uses bias: " << rule_bias << ", input " << (x == &mixed ? "mixed-sign" : "non-negative"));
      {
        Params e = p;
        e.eps = 0.05;
        check_rule<pn::rules::Epsilon>(Kind::epsilon, e, layer, *x, r, w, b, connected);
      }
      check_rule<pn::rules::ZPlus>(Kind::zplus, p, layer, *x, r, w, b, connected);
      check_rule<pn::rules::AlphaBeta>(Kind::alpha_beta, p, layer, *x, r, w, b, connected);
      {
        Params ab = p;
        ab.alpha = 1.5, ab.beta = 0.5;
        check_rule<pn::rules::AlphaBeta>(Kind::alpha_beta, ab, layer, *x, r, w, b, connected);
      }
      check_rule<pn::rules::Gamma>(Kind::gamma, p, layer, *x, r, w, b, connected);
      check_rule<pn::rules::ZBox>(Kind::zbox, p, layer, *x, r, w, b, connected);
      check_rule<pn::rules::Flat>(Kind::flat, p, layer, *x, r, w, b, connected);
      check_rule<pn::rules::WSquare>(Kind::wsquare, p, layer, *x, r, w, b, connected);
    }
  }
}

}  // namespace

TEST_CASE("LRP rules on Dense equal the explicit-matrix oracle, with and without bias") {
  for (bool bias : {true, false}) {
    INFO("layer bias: " << bias);
    const auto layer = dense<double>(11, bias);
    const Eigen::VectorXd b = bias ? Eigen::VectorXd(layer.bias()) : Eigen::VectorXd::Zero(5);
    check_all_rules<double>(layer, layer.weight(), b, Eigen::MatrixXd::Ones(5, 7), 12);
  }
}

TEST_CASE("LRP rules on a padded, strided Conv2D equal the oracle on its explicit Jacobian") {
  for (bool bias : {true, false}) {
    INFO("layer bias: " << bias);
    const auto layer = conv<double>(21, bias);
    const pn::Index in = 2 * 5 * 6, positions = layer.positions();
    const Eigen::MatrixXd j = support::jacobian(layer, layer.weight(), in);
    // Flat counts only in-image taps: the Jacobian of the all-ones kernel is that pattern.
    const Eigen::MatrixXd connected = support::jacobian(layer, pn::Matrix<double>(pn::Matrix<double>::Ones(3, 18)), in);
    CHECK(connected.rowwise().sum().minCoeff() < 18);  // padding is really excluded somewhere
    Eigen::VectorXd b = Eigen::VectorXd::Zero(3 * positions);
    for (pn::Index f = 0; f < 3 && bias; ++f) b.segment(f * positions, positions).setConstant(layer.bias()(f));
    check_all_rules<double>(layer, j, b, connected, 22);
  }
}

TEST_CASE("LRP rules work in float (Dense and Conv2D against the oracle)") {
  const auto d = dense<float>(31, true);
  check_all_rules<float>(d, d.weight().cast<double>(), d.bias().cast<double>(), Eigen::MatrixXd::Ones(5, 7), 32);
  const auto c = conv<float>(33, true);
  const pn::Index in = 2 * 5 * 6, positions = c.positions();
  const Eigen::MatrixXd j = support::jacobian(c, c.weight(), in).cast<double>();
  const Eigen::MatrixXd connected =
      support::jacobian(c, pn::Matrix<float>(pn::Matrix<float>::Ones(3, 18)), in).cast<double>();
  Eigen::VectorXd b(3 * positions);
  for (pn::Index f = 0; f < 3; ++f) b.segment(f * positions, positions).setConstant(double(c.bias()(f)));
  check_all_rules<float>(c, j, b, connected, 34);
}

TEST_CASE("ZBox accepts scalar bounds and checks per-input bounds against the layer") {
  const auto layer = dense<double>(41, true);
  const pn::Matrix<double> x = support::random_matrix<double>(7, 2, 42, -0.5, 0.5);
  const pn::Matrix<double> r = support::random_matrix<double>(5, 2, 43);
  const pn::Matrix<double> z = layer.forward(x);
  const pn::LayerCache<double> none;
  const pn::Matrix<double>* inputs[] = {&x};
  const pn::LayerContext<double> ctx{4, x, z, inputs, none};
  const pn::Matrix<double> scalar = pn::rules::ZBox{-1, 1}.linear(layer, ctx, r);
  const pn::Matrix<double> vector =
      pn::rules::ZBox{Eigen::VectorXd::Constant(7, -1), Eigen::VectorXd::Constant(7, 1)}.linear(layer, ctx, r);
  CHECK(scalar == vector);
  CHECK_THROWS_AS(pn::rules::ZBox(Eigen::VectorXd::Zero(3), Eigen::VectorXd::Ones(3)).linear(layer, ctx, r), pn::ShapeError);
  CHECK_THROWS_WITH(pn::rules::ZBox(Eigen::VectorXd::Zero(3), Eigen::VectorXd::Ones(3)).linear(layer, ctx, r),
                    Contains("ZBox: layer 4 (Dense) has 7 input features but the bounds have 3 entries"));
}

TEST_CASE("invalid LRP hyper-parameters throw ConfigError naming the rule and the value") {
  using pn::rules::AlphaBeta, pn::rules::Epsilon, pn::rules::Gamma, pn::rules::ZBox, pn::rules::Stabilizer;
  CHECK_THROWS_AS(AlphaBeta(2, 2), pn::ConfigError);
  CHECK_THROWS_WITH(AlphaBeta(2, 2), Contains("AlphaBeta: alpha - beta must equal 1, got alpha = 2, beta = 2"));
  CHECK_THROWS_WITH(AlphaBeta(0.5, -0.5), Contains("AlphaBeta: alpha and beta must be >= 0, got alpha = 0.5, beta = -0.5"));
  CHECK_NOTHROW(AlphaBeta(1.1, 0.1));  // decimal inputs whose difference rounds
  CHECK_NOTHROW(AlphaBeta(3.3, 2.3));
  CHECK_THROWS_AS(Epsilon(-0.1), pn::ConfigError);
  CHECK_THROWS_WITH(Epsilon(-0.1), Contains("Epsilon: epsilon must be >= 0, got -0.1"));
  CHECK_THROWS_WITH(Epsilon(std::nan("")), Contains("Epsilon: epsilon must be >= 0, got nan"));
  CHECK_NOTHROW(Epsilon(0));
  CHECK_THROWS_AS(ZBox(1, 0), pn::ConfigError);
  CHECK_THROWS_WITH(ZBox(1, 0), Contains("ZBox: low must be <= high, got low = 1 > high = 0"));
  Eigen::VectorXd low = Eigen::VectorXd::Zero(4), high = Eigen::VectorXd::Ones(4);
  low(2) = 2;
  CHECK_THROWS_WITH(ZBox(low, high), Contains("ZBox: low must be <= high, got low = 2 > high = 1 at input 2"));
  CHECK_THROWS_WITH(ZBox(Eigen::VectorXd::Zero(3), Eigen::VectorXd::Ones(4)),
                    Contains("ZBox: low has 3 entries and high has 4"));
  CHECK_THROWS_WITH(Gamma(-0.25), Contains("Gamma: gamma must be >= 0, got -0.25"));
  CHECK_THROWS_WITH(pn::rules::ZPlus(Stabilizer{-1e-6}), Contains("ZPlus: the stabilizer must be >= 0, got -1e-06"));
}
