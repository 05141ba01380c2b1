#include "support.hpp"

#include <patternnet/training/accuracy.hpp>
#include <patternnet/training/adam.hpp>
#include <patternnet/training/initialization.hpp>
#include <patternnet/training/loss.hpp>
#include <patternnet/training/random.hpp>
#include <patternnet/training/sgd.hpp>
#include <patternnet/training/train.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

using Catch::Matchers::Contains;
namespace tr = pn::training;

namespace {

/// 8 x 8 images of one of three strokes through a random position: a horizontal line
/// (class 0), a vertical line (1) or a diagonal (2), value 1 on a background of uniform
/// noise in [0, 0.3]. Separable by a 3 x 3 conv with max-pooling.
struct Strokes {
  pn::Batch<float> x;
  std::vector<pn::Index> y;
};
Strokes strokes(pn::Index n, std::uint64_t seed) {
  tr::Random random(seed);
  Strokes s{pn::Batch<float>({1, 8, 8}, n), std::vector<pn::Index>(static_cast<std::size_t>(n))};
  for (pn::Index j = 0; j < n; ++j) {
    const pn::Index c = random.below(3), at = random.below(6) + 1;
    s.y[static_cast<std::size_t>(j)] = c;
    for (pn::Index p = 0; p < 64; ++p) s.x.data(p, j) = static_cast<float>(0.3 * random.uniform());
    for (pn::Index k = 0; k < 8; ++k) {
      const pn::Index row = c == 0 ? at : k;
      const pn::Index col = c == 0 ? k : (c == 1 ? at : (k + at) % 8);  // c == 2: a wrapped diagonal
      s.x.data(s.x.shape.at(0, row, col), j) = 1;
    }
  }
  return s;
}

pn::Sequential<float> stroke_net() {
  pn::Sequential<float> net{pn::Conv2D<float>(1, 4, 3, pn::Padding{1}), pn::ReLU<float>{}, pn::MaxPool2D<float>(2),
                            pn::Flatten<float>{}, pn::Dense<float>(4 * 16, 16), pn::ReLU<float>{}, pn::Dense<float>(16, 3),
                            pn::Softmax<float>{}};
  net.set_input_shape({1, 8, 8});
  return net;
}

/// Four Gaussian blobs (sd 0.5) at the corners (+-2, +-2) of the plane: 4 classes whose
/// nearest-centre error rate is 2 P(N(0, 0.5) > 2) ~ 6e-5.
std::pair<pn::Batch<double>, std::vector<pn::Index>> blobs(pn::Index n, std::uint64_t seed) {
  tr::Random random(seed);
  pn::Batch<double> x({2, 1, 1}, n);
  std::vector<pn::Index> y(static_cast<std::size_t>(n));
  for (pn::Index j = 0; j < n; ++j) {
    const pn::Index c = random.below(4);
    y[static_cast<std::size_t>(j)] = c;
    x.data(0, j) = (c % 2 ? 2.0 : -2.0) + 0.5 * random.normal();
    x.data(1, j) = (c / 2 ? 2.0 : -2.0) + 0.5 * random.normal();
  }
  return {x, y};
}

template <class T>
bool same_weights(const pn::Sequential<T>& a, const pn::Sequential<T>& b) {
  for (pn::Index l = 0; l < a.size(); ++l) {
    const bool same = std::visit(
        [&](const auto& la) {
          using L = std::decay_t<decltype(la)>;
          if constexpr (pn::LinearLayer<L>) {
            const auto& lb = std::get<L>(b.layer(l));
            return la.weight() == lb.weight() && (la.bias().array() == lb.bias().array()).all();
          } else {
            return true;
          }
        },
        a.layer(l));
    if (!same) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("softmax cross-entropy: known values, stable for huge logits, gradient p - onehot") {
  pn::Matrix<double> z(3, 2);
  z << 0, 1000, 0, 1000, 0, -1000;
  const std::vector<pn::Index> labels{2, 0};
  const auto loss = tr::softmax_cross_entropy(z, std::span<const pn::Index>(labels));
  // sample 0: -log(1/3); sample 1: logits (1000, 1000, -1000), -log(1/2)
  CHECK(loss.value == Approx((std::log(3.0) + std::log(2.0)) / 2).epsilon(1e-15));
  CHECK(loss.gradient(2, 0) == Approx((1.0 / 3 - 1) / 2).epsilon(1e-15));
  CHECK(loss.gradient(0, 0) == Approx(1.0 / 6).epsilon(1e-15));
  CHECK(loss.gradient(0, 1) == Approx(-0.25).epsilon(1e-15));
  CHECK(loss.gradient(2, 1) == 0.0);  // exp(-2000) underflows to exactly 0
  CHECK(loss.correct == 1);           // sample 0: argmax is class 0 (first of the ties), label 2
  CHECK(std::abs(loss.gradient.col(0).sum()) < 1e-16);
  const std::vector<pn::Index> wrong{0, 3};
  CHECK_THROWS_WITH(tr::softmax_cross_entropy(z, std::span<const pn::Index>(wrong)),
                    Contains("label 3 of sample 1 is out of range [0, 3)"));
}

TEST_CASE("the seeded random source: uniform permutations and standard normal deviates") {
  tr::Random random(42);
  const auto p = random.permutation(1000);
  auto sorted = p;
  std::sort(sorted.begin(), sorted.end());
  std::vector<pn::Index> expected(1000);
  std::iota(expected.begin(), expected.end(), pn::Index{0});
  CHECK(sorted == expected);
  CHECK(p != expected);
  const int n = 100000;
  double sum = 0, sum_sq = 0;
  for (int i = 0; i < n; ++i) {
    const double v = random.normal();
    sum += v, sum_sq += v * v;
  }
  // standard errors: mean 1/sqrt(n) = 0.0032, variance sqrt(2/n) = 0.0045; 5 of them
  CHECK(std::abs(sum / n) < 0.016);
  CHECK(std::abs(sum_sq / n - 1) < 0.023);
  tr::Random a(7), b(7);
  CHECK(a.permutation(50) == b.permutation(50));
}

TEST_CASE("He initialisation: N(0, 2 / fan_in) weights, zero biases, repeatable") {
  pn::Sequential<double> net{pn::Conv2D<double>(8, 16, 5), pn::ReLU<double>{}, pn::Flatten<double>{},
                             pn::Dense<double>(16 * 4 * 4, 1000)};
  net.set_input_shape({8, 8, 8});
  support::randomize(net, 1);
  tr::initialize_he(net, 3);
  const auto& dense = std::get<pn::Dense<double>>(net.layer(3));
  const auto& conv = std::get<pn::Conv2D<double>>(net.layer(0));
  // 256000 dense weights: the sample standard deviation is within 1% (7 standard errors
  // of 1/sqrt(2n) = 0.14%) of sqrt(2/256); the 3200 conv weights within 10% (8 s.e.).
  const double sd_dense = std::sqrt(dense.weight().squaredNorm() / static_cast<double>(dense.weight().size()));
  CHECK(sd_dense == Approx(std::sqrt(2.0 / 256)).epsilon(0.01));
  const double sd_conv = std::sqrt(conv.weight().squaredNorm() / static_cast<double>(conv.weight().size()));
  CHECK(sd_conv == Approx(std::sqrt(2.0 / 200)).epsilon(0.1));
  CHECK(dense.bias().isZero(0));
  CHECK(conv.bias().isZero(0));
  auto again = net;
  support::randomize(again, 2);
  tr::initialize_he(again, 3);
  CHECK(same_weights(net, again));
}

TEST_CASE("SGD with momentum and Adam take the documented steps") {
  pn::Matrix<double> w0(1, 2);
  w0 << 1.0, -2.0;
  pn::Sequential<double> net{pn::Dense<double>(w0, pn::Vector<double>::Zero(1))};
  tr::ParameterGradient<double> g{0, pn::Matrix<double>(1, 2), pn::Vector<double>::Constant(1, 4.0)};
  g.weight << 0.5, -0.25;
  tr::Sgd<double> sgd(0.1, 0.9);
  sgd.step(net, {g});
  sgd.step(net, {g});  // v1 = g, v2 = 0.9 g + g: w2 = w0 - 0.1 (1 + 1.9) g
  const auto& dense = std::get<pn::Dense<double>>(net.layer(0));
  CHECK(dense.weight()(0, 0) == Approx(1.0 - 0.29 * 0.5).epsilon(1e-15));
  CHECK(dense.weight()(0, 1) == Approx(-2.0 + 0.29 * 0.25).epsilon(1e-15));
  CHECK(dense.bias()(0) == Approx(-0.29 * 4.0).epsilon(1e-15));

  pn::Sequential<double> net2{pn::Dense<double>(w0, pn::Vector<double>::Zero(1))};
  tr::Adam<double> adam({.learning_rate = 0.01});
  adam.step(net2, {g});  // step 1: m_hat = g, v_hat = g^2: w -= lr g / (|g| + eps)
  const auto& d2 = std::get<pn::Dense<double>>(net2.layer(0));
  CHECK(d2.weight()(0, 0) == Approx(1.0 - 0.01 * 0.5 / (0.5 + 1e-8)).epsilon(1e-14));
  CHECK(d2.weight()(0, 1) == Approx(-2.0 + 0.01 * 0.25 / (0.25 + 1e-8)).epsilon(1e-14));
  CHECK(adam.steps() == 1);
  pn::Sequential<double> other{pn::Dense<double>(3, 1)};
  tr::ParameterGradient<double> g3{0, pn::Matrix<double>::Ones(1, 3), pn::Vector<double>::Ones(1)};
  CHECK_THROWS_WITH(adam.step(other, {g3}), Contains("use one optimizer per network"));
  CHECK_THROWS_WITH(tr::Sgd<double>(0.1).step(other, {g}), Contains("the gradient of layer 0 (Dense) is 1x2"));
  CHECK_THROWS_AS(tr::Adam<double>({.learning_rate = -1}), pn::ConfigError);
}

TEST_CASE("a small CNN learns a separable stroke problem to > 95 % in a fixed number of steps") {
  const Strokes train = strokes(600, 1), test = strokes(300, 2);
  auto net = stroke_net();
  tr::initialize_he(net, 5);
  const double before = tr::accuracy(net, test.x, test.y);
  tr::Adam<float> adam({.learning_rate = 0.01});
  tr::TrainOptions options;
  options.epochs = 8;  // 8 x 20 = 160 Adam steps
  options.batch_size = 30;
  options.seed = 9;
  pn::Index calls = 0;
  options.progress = [&](const pn::Progress& p) { calls += p.samples <= 600; };
  const auto reports = tr::train(net, adam, train.x, train.y, options);
  REQUIRE(reports.size() == 8);
  CHECK(calls == 8 * 20);
  CHECK(reports.back().loss < reports.front().loss);
  const double after = tr::accuracy(net, test.x, test.y);
  INFO("test accuracy before " << before << ", after " << after);
  CHECK(before < 0.5);  // chance level is 1/3
  CHECK(after > 0.95);
}

TEST_CASE("an MLP learns four Gaussian blobs to > 95 % with SGD + momentum") {
  const auto [x, y] = blobs(800, 3);
  const auto [xt, yt] = blobs(400, 4);
  pn::Sequential<double> net{pn::Dense<double>(2, 16), pn::ReLU<double>{}, pn::Dense<double>(16, 4)};
  net.set_input_shape({2, 1, 1});
  tr::initialize_he(net, 1);
  tr::Sgd<double> sgd(0.05, 0.9);
  tr::TrainOptions options;
  options.epochs = 5;  // 5 x 25 = 125 steps
  options.batch_size = 32;
  const auto reports = tr::train(net, sgd, x, y, options);
  CHECK(reports.back().accuracy > 0.95);
  CHECK(tr::accuracy(net, xt, yt) > 0.95);
}

TEST_CASE("a mini-batch split over threads gives the one-thread gradients up to rounding") {
  const auto net = support::mixed_net<double>(4);
  const pn::Batch<double> x({2, 9, 8}, support::random_matrix<double>(144, 7, 5));
  const std::vector<pn::Index> y{0, 1, 2, 2, 1, 0, 1};
  const auto one = tr::detail::batch_gradients(net, net.logits_end(), x, std::span<const pn::Index>(y), 1);
  const auto three = tr::detail::batch_gradients(net, net.logits_end(), x, std::span<const pn::Index>(y), 3);
  CHECK(three.correct == one.correct);
  CHECK(three.loss_sum == Approx(one.loss_sum).epsilon(1e-14));
  REQUIRE(three.grads.size() == one.grads.size());
  // the same sums in another order (7 terms per entry, |g| <= 1): differences of a few ulps
  for (std::size_t i = 0; i < one.grads.size(); ++i) {
    CHECK((three.grads[i].weight - one.grads[i].weight).cwiseAbs().maxCoeff() < 1e-14);
    CHECK((three.grads[i].bias - one.grads[i].bias).cwiseAbs().maxCoeff() < 1e-14);
  }
}

TEST_CASE("the same seeds give bit-identical weights, another shuffling seed does not") {
  const Strokes data = strokes(200, 7);
  auto run = [&](std::uint64_t shuffle_seed, pn::Index threads) {
    auto net = stroke_net();
    tr::initialize_he(net, 11);
    tr::Adam<float> adam;
    tr::TrainOptions options;
    options.epochs = 2;
    options.batch_size = 16;
    options.seed = shuffle_seed;
    options.threads = threads;
    tr::train(net, adam, data.x, data.y, options);
    return net;
  };
  const auto a = run(1, 1), b = run(1, 1), c = run(2, 1);
  CHECK(same_weights(a, b));
  CHECK_FALSE(same_weights(a, c));
  CHECK(same_weights(run(1, 3), run(1, 3)));
  auto net = stroke_net();
  tr::Adam<float> adam;
  CHECK_THROWS_WITH(tr::train(net, adam, data.x, std::span<const pn::Index>(data.y).first(10)),
                    Contains("train(): 10 labels for 200 images"));
}
