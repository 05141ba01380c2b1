// Identities of the LRP rules on whole networks: AlphaBeta(1, 0) = ZPlus; LRP-0 = gradient
// x input on a bias-free ReLU network; Epsilon conserves relevance layer by layer up to
// what epsilon (and the bias) absorb.
#include "rules/lrp_support.hpp"

#include <patternnet/rules/lrp.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

namespace {

/// max over the linear layers' neurons with z > 0 of sum_j |w_ij x_j| / |z_i|: how much
/// cancellation the LRP denominators z carry (neurons with z <= 0 below a ReLU receive no
/// relevance; for the top layer only the explained logits count).
template <class T>
double cancellation(const pn::Sequential<T>& net, const pn::ForwardRecord<T>& rec, const std::vector<pn::Index>& targets) {
  double kappa = 1;
  for (pn::Index l = 0; l < net.logits_end(); ++l) {
    std::visit(
        [&](const auto& layer) {
          if constexpr (pn::LinearLayer<std::decay_t<decltype(layer)>>) {
            const auto i = static_cast<std::size_t>(l);
            const pn::Matrix<T> abs_sum = layer.apply_with(pn::Matrix<T>(layer.weight().cwiseAbs()), pn::Vector<T>{},
                                                           pn::Matrix<T>(rec.activations[i].cwiseAbs()));
            const pn::Matrix<T>& z = rec.activations[i + 1];
            for (pn::Index j = 0; j < z.cols(); ++j)
              for (pn::Index k = 0; k < z.rows(); ++k) {
                const bool top = l == net.logits_end() - 1;
                if ((top && k == targets[static_cast<std::size_t>(j)]) || (!top && z(k, j) > 0))
                  kappa = std::max(kappa, double(abs_sum(k, j)) / std::abs(double(z(k, j))));
              }
          }
        },
        net.layer(l));
  }
  return kappa;
}

/// The first-order rounding bound of LRP-0 against gradient x input, relative to the largest
/// attribution: each layer's denominators carry a relative error <= fan-in * u * kappa, and
/// these add up over the layers (F = the sum of the fan-ins); factor 8 for the products and
/// the sums of the backward pass itself.
template <class T>
double lrp0_tolerance(const pn::Graph<T>& net, double kappa) {
  double fan_in = 0;
  pn::for_each_linear(net, [&](pn::Index, const auto& l) { fan_in += double(l.weight().cols()); });
  return 8 * (std::numeric_limits<T>::epsilon() / 2) * kappa * fan_in;
}

}  // namespace

TEST_CASE("AlphaBeta(1, 0) equals ZPlus on a network with biases and mixed-sign inputs") {
  const auto net = support::mixed_net<double>(1);
  const pn::Batch<double> x({2, 9, 8}, support::random_matrix<double>(144, 4, 2));
  const auto zplus = pn::explain(net, pn::rules::ZPlus{}, x);
  const auto ab = pn::explain(net, pn::rules::AlphaBeta{1, 0}, x);
  CHECK(ab.attribution.data == zplus.attribution.data);
  const auto zplus_one = pn::explain(net, pn::rules::ZPlus{pn::Seed::one, pn::Bias{false}}, x);
  const auto ab_one = pn::explain(net, pn::rules::AlphaBeta{1, 0, pn::Bias{false}, pn::Seed::one}, x);
  CHECK(ab_one.attribution.data == zplus_one.attribution.data);
  // Seed::one differs from the default seed y_c by the factor y_c only.
  const auto zplus_logit = pn::explain(net, pn::rules::ZPlus{pn::Bias{false}}, x);
  for (pn::Index j = 0; j < 4; ++j) {
    const auto a = zplus_logit.attribution.data.col(j);
    CHECK((a - zplus_one.target_values(j) * zplus_one.attribution.data.col(j)).cwiseAbs().maxCoeff() <=
          1e-13 * a.cwiseAbs().maxCoeff());  // a few ulps per layer
  }
}

TEST_CASE("LRP-0 (Epsilon with epsilon = 0) is gradient x input on a bias-free ReLU network") {
  // Relevance a .* d y_c / d a at every layer (seed y_c = z_c * 1): exact in exact arithmetic;
  // rounding is bounded by lrp0_tolerance (about 1e-10 here).
  const auto net = lrp_support::bias_free_net<double>(3);
  const pn::Batch<double> x({2, 8, 7}, support::random_matrix<double>(112, 5, 4));
  const auto lrp0 = pn::explain(net, pn::rules::Epsilon{0}, x);
  const auto ixg = pn::explain(net, pn::rules::InputTimesGradient{}, x);
  const double kappa = cancellation(net, net.record(x, net.logits_end()), lrp0.targets);
  INFO("kappa = " << kappa);
  CHECK(kappa < 1e4);  // the bound stays far below the epsilon = 0.1 difference checked next
  CHECK((lrp0.attribution.data - ixg.attribution.data).cwiseAbs().maxCoeff() <=
        lrp0_tolerance(net, kappa) * ixg.attribution.data.cwiseAbs().maxCoeff());
  // ...and not for epsilon > 0 (the check can fail):
  const auto eps = pn::explain(net, pn::rules::Epsilon{0.1}, x);
  CHECK((eps.attribution.data - ixg.attribution.data).cwiseAbs().maxCoeff() >
        1e-3 * ixg.attribution.data.cwiseAbs().maxCoeff());
}

TEST_CASE("Epsilon conserves relevance layer by layer up to what epsilon and the bias absorb") {
  // For a linear layer, sum_j R_j = <x, W^T s> = <W x, s> with s = R_out / stab(z), z = W x + b.
  // Without bias W x = z, so the layer keeps sum_i z_i / (z_i + eps sign z_i) R_i of sum_i R_i.
  // ReLU (Pass), max-pool (winner takes all) and Flatten keep the sum exactly (up to rounding).
  for (bool with_bias : {false, true}) {
    INFO("network with biases: " << with_bias);
    const auto net = with_bias ? support::mixed_net<double>(5) : lrp_support::bias_free_net<double>(5);
    const pn::Shape shape = net.input_shape();
    const pn::Batch<double> x(shape, support::random_matrix<double>(shape.size(), 4, 6));
    const pn::rules::Epsilon rule{0.05};
    pn::ExplainOptions options;
    options.layer_sums = true;
    const auto e = pn::explain(net, rule, x, pn::Target::argmax(), options);
    const pn::Index top = net.logits_end();
    REQUIRE(e.layer_sums.rows() == top + 1);
    REQUIRE(e.layer_sums.cols() == 4);
    const auto rec = net.record(x, top);
    const auto r = lrp_support::replay(net, rec, top, lrp_support::seed(rec.activations.back(), e.targets, true),
                                       [&](pn::Index, const auto& layer, const auto& ctx, const auto& rin) {
                                         return lrp_support::hook(rule, layer, ctx, rin);
                                       });
    CHECK(r[0] == e.attribution.data);  // the replay is the backward pass of explain()
    for (pn::Index j = 0; j < 4; ++j) CHECK(e.layer_sums(top, j) == Approx(e.target_values(j)).epsilon(1e-15));
    double absorbed = 0;
    for (pn::Index l = top - 1; l >= 0; --l) {
      const auto i = static_cast<std::size_t>(l);
      for (pn::Index j = 0; j < 4; ++j) {
        double expected = e.layer_sums(l + 1, j);  // conserved, unless l is linear
        std::visit(
            [&](const auto& layer) {
              if constexpr (pn::LinearLayer<std::decay_t<decltype(layer)>>) {
                const pn::Matrix<double> wx = layer.apply_with(layer.weight(), pn::Vector<double>{}, rec.activations[i]);
                const pn::Matrix<double> z = pn::stabilize(rec.activations[i + 1], 0.05);
                expected = (wx.col(j).array() * r[i + 1].col(j).array() / z.col(j).array()).sum();
              }
            },
            net.layer(l));
        // Sums of ~100 terms of size <= max |R|: rounding < 1e-13 relative to sum |R|.
        const double scale = r[i].col(j).cwiseAbs().sum() + r[i + 1].col(j).cwiseAbs().sum();
        CHECK(std::abs(e.layer_sums(l, j) - expected) <= 1e-13 * scale);
        absorbed = std::max(absorbed, std::abs(e.layer_sums(l, j) - e.layer_sums(l + 1, j)) / scale);
      }
    }
    CHECK(absorbed > 1e-4);  // epsilon = 0.05 (and the bias) do absorb: the identity is not vacuous
  }
}

TEST_CASE("LRP identities hold in float") {
  // float: the same bound as in double, with u = 6e-8.
  const auto net = lrp_support::bias_free_net<float>(7);
  const pn::Batch<float> x({2, 8, 7}, support::random_matrix<float>(112, 3, 8));
  const auto lrp0 = pn::explain(net, pn::rules::Epsilon{0}, x);
  const auto ixg = pn::explain(net, pn::rules::InputTimesGradient{}, x);
  const double kappa = cancellation(net, net.record(x, net.logits_end()), lrp0.targets);
  INFO("kappa = " << kappa);
  CHECK(lrp0_tolerance(net, kappa) < 0.05);
  CHECK((lrp0.attribution.data - ixg.attribution.data).cwiseAbs().maxCoeff() <=
        lrp0_tolerance(net, kappa) * ixg.attribution.data.cwiseAbs().maxCoeff());
  CHECK(pn::explain(net, pn::rules::AlphaBeta{1, 0}, x).attribution.data ==
        pn::explain(net, pn::rules::ZPlus{}, x).attribution.data);
}
