// DeConvNet and Guided Backprop: their ReLU backward against explicit matrices, and the
// identity with the gradient on a model without ReLUs (the paper's linear toy problem: on a linear
// model all three reduce to the weights).
#include "support.hpp"

#include <patternnet/rules/deconvnet.hpp>
#include <patternnet/rules/guided_backprop.hpp>

#include <catch2/catch.hpp>

TEST_CASE("DeConvNet and Guided Backprop equal the gradient on a purely linear model") {
  pn::Sequential<double> net{pn::Conv2D<double>(2, 3, 3, pn::Padding{1}), pn::MaxPool2D<double>(2), pn::Flatten<double>{},
                             pn::Dense<double>(3 * 3 * 3, 4), pn::Dense<double>(4, 3), pn::Softmax<double>{}};
  net.set_input_shape({2, 6, 7});
  support::randomize(net, 1);
  const pn::Batch<double> x({2, 6, 7}, support::random_matrix<double>(84, 4, 2));
  const auto gradient = pn::explain(net, pn::rules::Gradient{}, x);
  const auto deconvnet = pn::explain(net, pn::rules::DeConvNet{}, x);
  const auto guided = pn::explain(net, pn::rules::GuidedBackprop{}, x);
  // Without a ReLU the three rules run exactly the same operations.
  CHECK(deconvnet.attribution.data == gradient.attribution.data);
  CHECK(guided.attribution.data == gradient.attribution.data);
  CHECK(deconvnet.targets == gradient.targets);
  CHECK(pn::rules::DeConvNet{}.seed() == pn::Seed::one);
  CHECK(pn::rules::GuidedBackprop{}.seed() == pn::Seed::one);
}

TEST_CASE("DeConvNet and Guided Backprop through Dense-ReLU-Dense match explicit matrices") {
  // y = W2 relu(W1 x + b1) + b2, explained at logit c: with r = W2^T e_c and z = W1 x + b1,
  // gradient: W1^T (r .* 1[z > 0]); DeConvNet: W1^T max(r, 0); Guided: W1^T (max(r, 0) .* 1[z > 0]).
  const pn::Matrix<float> w1 = support::random_matrix<float>(6, 4, 3), w2 = support::random_matrix<float>(3, 6, 4);
  const pn::Vector<float> b1 = support::random_vector<float>(6, 5), b2 = support::random_vector<float>(3, 6);
  pn::Sequential<float> net{pn::Dense<float>(w1, b1), pn::ReLU<float>{}, pn::Dense<float>(w2, b2)};
  net.set_input_shape({4, 1, 1});
  const pn::Batch<float> x({4, 1, 1}, support::random_matrix<float>(4, 5, 7));
  const auto deconvnet = pn::explain(net, pn::rules::DeConvNet{}, x, pn::Target::index(1));
  const auto guided = pn::explain(net, pn::rules::GuidedBackprop{}, x, pn::Target::index(1));
  const auto gradient = pn::explain(net, pn::rules::Gradient{}, x, pn::Target::index(1));
  bool some_negative_r_in_active_unit = false, some_positive_r_in_dead_unit = false;
  for (pn::Index j = 0; j < 5; ++j) {
    const Eigen::VectorXd z = (w1 * x.data.col(j) + b1).cast<double>();
    const Eigen::VectorXd r = w2.row(1).transpose().cast<double>();
    Eigen::VectorXd grad_mid(6), deconv_mid(6), guided_mid(6);
    for (pn::Index i = 0; i < 6; ++i) {
      grad_mid(i) = z(i) > 0 ? r(i) : 0;
      deconv_mid(i) = std::max(r(i), 0.0);
      guided_mid(i) = z(i) > 0 ? std::max(r(i), 0.0) : 0;
      some_negative_r_in_active_unit |= z(i) > 0 && r(i) < 0;
      some_positive_r_in_dead_unit |= z(i) <= 0 && r(i) > 0;
    }
    const Eigen::MatrixXd w1d = w1.cast<double>();
    // float: 6 products summed, |terms| <= 1, so errors stay below 6 * 2^-24 ~ 4e-7.
    CHECK((deconvnet.attribution.data.col(j).cast<double>() - w1d.transpose() * deconv_mid).cwiseAbs().maxCoeff() < 1e-6);
    CHECK((guided.attribution.data.col(j).cast<double>() - w1d.transpose() * guided_mid).cwiseAbs().maxCoeff() < 1e-6);
    CHECK((gradient.attribution.data.col(j).cast<double>() - w1d.transpose() * grad_mid).cwiseAbs().maxCoeff() < 1e-6);
  }
  // The data exercise both differences between the three rules.
  CHECK(some_negative_r_in_active_unit);
  CHECK(some_positive_r_in_dead_unit);
}
