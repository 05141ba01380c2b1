#include "support.hpp"

#include <patternnet/training/batch_norm_statistics.hpp>
#include <patternnet/training/gradients.hpp>
#include <patternnet/training/loss.hpp>

#include <catch2/catch.hpp>

#include <cmath>

namespace {

/// The mean softmax cross-entropy of the network's logits on (x, labels).
double loss_of(const pn::Sequential<double>& net, const pn::Batch<double>& x, const std::vector<pn::Index>& labels) {
  const auto rec = net.record(x, net.logits_end());
  return pn::training::softmax_cross_entropy(rec.activations.back(), std::span<const pn::Index>(labels)).value;
}

/// max over every weight and bias of every linear layer of |analytic - numeric| /
/// max(1, |analytic|, |numeric|), numeric = central difference with step h.
double worst_parameter_error(pn::Sequential<double> net, const pn::Batch<double>& x, const std::vector<pn::Index>& labels,
                             pn::Index* checked) {
  const auto rec = net.record(x, net.logits_end());
  auto loss = pn::training::softmax_cross_entropy(rec.activations.back(), std::span<const pn::Index>(labels));
  const auto grads = pn::training::parameter_gradients(net, rec, net.logits_end(), loss.gradient);
  const double h = 1e-6;
  double worst = 0;
  *checked = 0;
  for (const auto& g : grads) {
    std::visit(
        [&](auto& layer) {
          if constexpr (pn::LinearLayer<std::decay_t<decltype(layer)>>) {
            auto check = [&](double& p, double analytic) {
              const double saved = p;
              p = saved + h;
              const double up = loss_of(net, x, labels);
              p = saved - h;
              const double down = loss_of(net, x, labels);
              p = saved;
              const double numeric = (up - down) / (2 * h);
              worst = std::max(worst, std::abs(analytic - numeric) / std::max({1.0, std::abs(analytic), std::abs(numeric)}));
              ++*checked;
            };
            REQUIRE(g.weight.rows() == layer.weight().rows());
            REQUIRE(g.weight.cols() == layer.weight().cols());
            REQUIRE(g.bias.size() == layer.bias().size());
            for (pn::Index k = 0; k < g.weight.size(); ++k) check(layer.weight().data()[k], g.weight.data()[k]);
            for (pn::Index k = 0; k < g.bias.size(); ++k) check(layer.bias()(k), g.bias(k));
          }
        },
        net.layer(g.layer));
  }
  return worst;
}

}  // namespace

// Tolerance: central differences have truncation error ~ h^2 |L'''| ~ 1e-12 and rounding
// error ~ eps |L| / h ~ 1e-10 for L ~ 1; 1e-7 leaves room for the piecewise-linear ReLU /
// max-pool, whose kinks random inputs keep farther than h = 1e-6 from (with overwhelming
// probability: a kink within h needs a pre-activation within 1e-6 of 0 or a pooling tie).
TEST_CASE("Dense parameter gradients match finite differences of the cross-entropy") {
  pn::Sequential<double> net{pn::Dense<double>(5, 4), pn::ReLU<double>{}, pn::Dense<double>(4, 3, pn::Bias{false}),
                             pn::Softmax<double>{}};
  net.set_input_shape({5, 1, 1});
  support::randomize(net, 11);
  const pn::Batch<double> x({5, 1, 1}, support::random_matrix<double>(5, 6, 12));
  pn::Index checked = 0;
  CHECK(worst_parameter_error(net, x, {0, 2, 1, 1, 0, 2}, &checked) < 1e-7);
  CHECK(checked == 5 * 4 + 4 + 4 * 3);
}

TEST_CASE("Conv2D parameter gradients (stride, padding, dilation, pooling) match finite differences") {
  const auto net = support::mixed_net<double>(21);
  const pn::Batch<double> x({2, 9, 8}, support::random_matrix<double>(144, 4, 22));
  pn::Index checked = 0;
  CHECK(worst_parameter_error(net, x, {0, 2, 1, 2}, &checked) < 1e-7);
  CHECK(checked == (3 * 18 + 3) + (4 * 27 + 4) + (5 * 16 + 5) + (3 * 5 + 3));
}

TEST_CASE("parameter_gradient is dW = r x^T for Dense and R^T X (patches) for Conv2D, one GEMM each") {
  const pn::Dense<double> dense(support::random_matrix<double>(3, 4, 1), support::random_vector<double>(3, 2));
  const auto x = support::random_matrix<double>(4, 5, 3), r = support::random_matrix<double>(3, 5, 4);
  const auto g = pn::training::parameter_gradient(dense, x, r);
  for (pn::Index i = 0; i < 3; ++i) {
    double bias = 0;
    for (pn::Index n = 0; n < 5; ++n) bias += r(i, n);
    CHECK(g.bias(i) == Approx(bias).epsilon(1e-14));
    for (pn::Index k = 0; k < 4; ++k) {
      double w = 0;
      for (pn::Index n = 0; n < 5; ++n) w += r(i, n) * x(k, n);
      CHECK(g.weight(i, k) == Approx(w).epsilon(1e-14));
    }
  }
  // Conv2D: dW[f, tap] = sum over samples and output positions of r * the input at the tap,
  // by the explicit Jacobian: z = J vec(W) for fixed x, so dW = J^T r.
  pn::Conv2D<double> conv(2, 3, 3, pn::Stride{2}, pn::Padding{1}, pn::Bias{false});
  conv.bind({2, 5, 6}, 0);
  const auto xc = support::random_matrix<double>(60, 2, 5);
  const auto rc = support::random_matrix<double>(3 * 3 * 3, 2, 6);
  const auto gc = pn::training::parameter_gradient(conv, xc, rc);
  CHECK(gc.bias.size() == 0);
  double worst = 0;
  for (pn::Index k = 0; k < conv.weight().size(); ++k) {
    pn::Matrix<double> unit = pn::Matrix<double>::Zero(3, 18);
    unit.data()[k] = 1;  // z is linear in W: dL/dW_k = <conv_with(unit_k)(x), r>
    const double expected = (conv.apply_with(unit, pn::Vector<double>{}, xc).array() * rc.array()).sum();
    worst = std::max(worst, std::abs(gc.weight.data()[k] - expected));
  }
  CHECK(worst < 1e-13);
}

namespace {

/// conv -> BN -> ReLU -> conv -> BN -> Add(., ReLU) -> GAP -> Dense, with non-trivial BatchNorm
/// parameters and running statistics.
pn::Graph<double> batch_norm_net() {
  using D = double;
  pn::Graph<D> g;
  const auto c1 = g.add(pn::Conv2D<D>(1, 2, 3, pn::Padding{1}), pn::Graph<D>::input);
  const auto b1 = g.add(pn::BatchNorm2D<D>(support::random_vector<D>(2, 31), (support::random_vector<D>(2, 32).array() + 1.5).matrix(),
                                           support::random_vector<D>(2, 33), support::random_vector<D>(2, 34)),
                        c1);
  const auto r1 = g.add(pn::ReLU<D>{}, b1);
  const auto c2 = g.add(pn::Conv2D<D>(2, 2, 3, pn::Padding{1}), r1);
  const auto b2 = g.add(pn::BatchNorm2D<D>(support::random_vector<D>(2, 35), (support::random_vector<D>(2, 36).array() + 1.5).matrix(),
                                           support::random_vector<D>(2, 37), support::random_vector<D>(2, 38)),
                        c2);
  const auto sum = g.add(pn::Add<D>{}, {b2, r1});
  const auto flat = g.add(pn::Flatten<D>{}, g.add(pn::GlobalAvgPool2D<D>{}, sum));
  g.add(pn::Dense<D>(2, 3), flat);
  g.set_input_shape({1, 4, 4});
  support::randomize(g, 39);
  return g;
}

/// The loss with BatchNorm in `mode`: batch = normalised by the batch's own statistics.
double loss_in_mode(const pn::Graph<double>& net, const pn::Batch<double>& x, const std::vector<pn::Index>& labels,
                    pn::training::BatchNormMode mode, std::vector<pn::training::ParameterGradient<double>>* grads = nullptr) {
  pn::Graph<double> used = net;
  if (mode == pn::training::BatchNormMode::batch) pn::training::update_batch_norm(used, x, x.size());
  const auto rec = used.record(x);
  auto loss = pn::training::softmax_cross_entropy(rec.activations.back(), std::span<const pn::Index>(labels));
  if (grads != nullptr) *grads = pn::training::parameter_gradients(used, rec, used.size(), loss.gradient, mode);
  return loss.value;
}

}  // namespace

TEST_CASE("BatchNorm2D gamma, beta and everything below match finite differences, inference and batch mode") {
  const auto net = batch_norm_net();
  const pn::Batch<double> x({1, 4, 4}, support::random_matrix<double>(16, 5, 40, -1.0, 2.0));
  const std::vector<pn::Index> labels{0, 2, 1, 1, 2};
  for (const auto mode : {pn::training::BatchNormMode::inference, pn::training::BatchNormMode::batch}) {
    INFO("mode " << static_cast<int>(mode));
    std::vector<pn::training::ParameterGradient<double>> grads;
    (void)loss_in_mode(net, x, labels, mode, &grads);
    REQUIRE(grads.size() == 5);  // conv, BN, conv, BN, dense
    pn::Graph<double> probe = net;
    const double h = 1e-6;
    double worst = 0;
    pn::Index checked = 0;
    auto check = [&](double& p, double analytic) {
      const double saved = p;
      p = saved + h;
      const double up = loss_in_mode(probe, x, labels, mode);
      p = saved - h;
      const double down = loss_in_mode(probe, x, labels, mode);
      p = saved;
      const double numeric = (up - down) / (2 * h);
      worst = std::max(worst, std::abs(analytic - numeric) / std::max({1.0, std::abs(analytic), std::abs(numeric)}));
      ++checked;
    };
    for (const auto& g : grads) {
      std::visit(
          [&](auto& layer) {
            using L = std::decay_t<decltype(layer)>;
            if constexpr (pn::LinearLayer<L> || std::is_same_v<L, pn::BatchNorm2D<double>>) {
              for (pn::Index k = 0; k < g.weight.size(); ++k) check(layer.weight().data()[k], g.weight.data()[k]);
              for (pn::Index k = 0; k < g.bias.size(); ++k) check(layer.bias()(k), g.bias(k));
            }
          },
          probe.layer(g.layer));
    }
    CHECK(checked == 20 + 4 + 38 + 4 + 9);
    CHECK(worst < 1e-7);
  }
}
