// Integrated Gradients: both quadratures on a hand-computed example, exactness on a linear
// model, the completeness error falling with the steps on a small CNN, chunking.
#include "support.hpp"

#include <patternnet/methods/integrated_gradients.hpp>

#include <catch2/catch.hpp>

using Catch::Matchers::Contains;
namespace pm = patternnet::methods;

namespace {

/// f(x) = w2 relu(x0 - 0.3): along the path from 0 to x = (1, *) the gradient wrt x0 is
/// 1[alpha > 0.3] (times w2), so the exact integral is 0.7 * w2.
pn::Sequential<double> kink_net(double w2) {
  pn::Matrix<double> w1(1, 2);
  w1 << 1, 0;
  pn::Sequential<double> net{pn::Dense<double>(w1, pn::Vector<double>::Constant(1, -0.3)), pn::ReLU<double>{},
                             pn::Dense<double>(pn::Matrix<double>::Constant(1, 1, w2))};
  net.set_input_shape({2, 1, 1});
  return net;
}

/// A small CNN: conv, ReLU, max-pool, conv, ReLU, flatten, dense, ReLU, dense (4 classes).
template <class T>
pn::Sequential<T> small_cnn(unsigned seed) {
  pn::Sequential<T> net{pn::Conv2D<T>(1, 4, 3, pn::Padding{1}), pn::ReLU<T>{}, pn::MaxPool2D<T>(2),
                        pn::Conv2D<T>(4, 6, 3, pn::Padding{1}), pn::ReLU<T>{}, pn::Flatten<T>{},
                        pn::Dense<T>(6 * 4 * 4, 10),           pn::ReLU<T>{}, pn::Dense<T>(10, 4)};
  net.set_input_shape({1, 8, 8});
  support::randomize(net, seed, 0.5);
  return net;
}

/// |completeness error| / |f(x) - f(x-bar)|, per sample.
template <class T>
Eigen::VectorXd relative_error(const pm::IntegratedGradientsResult<T>& r) {
  const Eigen::VectorXd diff = (r.target_values - r.baseline_values).template cast<double>();
  return r.completeness_error.cwiseAbs().cwiseQuotient(diff.cwiseAbs());
}

}  // namespace

TEST_CASE("Integrated Gradients: Riemann-middle and trapezoid on a hand-computed kink") {
  const auto net = kink_net(2.0);
  pn::Batch<double> x({2, 1, 1}, 1);
  x.data << 1, 0.5;
  // m = 2, middle: alpha = 0.25, 0.75 -> mean gradient (0 + 2) / 2 = 1 -> attribution 1.
  const auto middle = pm::integrated_gradients(net, x, pn::Target::argmax(), {.steps = 2});
  CHECK(middle.attribution.data(0, 0) == Approx(1.0).epsilon(1e-15));
  CHECK(middle.attribution.data(1, 0) == 0);
  CHECK(middle.target_values(0) == Approx(1.4).epsilon(1e-15));
  CHECK(middle.baseline_values(0) == 0);
  CHECK(middle.completeness_error(0) == Approx(1.0 - 1.4).epsilon(1e-14));
  // m = 2, trapezoid: alpha = 0, 0.5, 1 with weights 1/4, 1/2, 1/4 -> 0 + 1 + 0.5 = 1.5.
  const auto trapezoid =
      pm::integrated_gradients(net, x, pn::Target::argmax(), {.steps = 2, .quadrature = pm::Quadrature::trapezoid});
  CHECK(trapezoid.attribution.data(0, 0) == Approx(1.5).epsilon(1e-15));
  CHECK(trapezoid.completeness_error(0) == Approx(1.5 - 1.4).epsilon(1e-13));
  // m = 10, middle: nodes 0.05, 0.15, ..., 0.95, seven of them above 0.3 -> 2 * 0.7 = 1.4, exact.
  const auto fine = pm::integrated_gradients(net, x, pn::Target::argmax(), {.steps = 10});
  CHECK(fine.attribution.data(0, 0) == Approx(1.4).epsilon(1e-14));
  CHECK(std::abs(fine.completeness_error(0)) < 1e-14);
}

TEST_CASE("Integrated Gradients: user-given path points and weights") {
  const auto net = kink_net(2.0);
  pn::Batch<double> x({2, 1, 1}, 1);
  x.data << 1, 0.5;
  // alpha 0.2, 0.5, 0.9 with weights 0.1, 0.2, 0.3: the gradient is 2 above 0.3 -> 2 * (0.2 + 0.3).
  pm::IntegratedGradientsOptions<double> given;
  given.alphas = {0.2, 0.5, 0.9};
  given.weights = {0.1, 0.2, 0.3};
  CHECK(pm::integrated_gradients(net, x, pn::Target::argmax(), given).attribution.data(0, 0) == Approx(1.0).epsilon(1e-15));
  // the Riemann-middle nodes and weights, given by hand, reproduce that rule bit for bit on a CNN
  const auto cnn = small_cnn<double>(4);
  const pn::Batch<double> images(cnn.input_shape(), support::random_matrix<double>(64, 3, 5, 0, 1));
  pm::IntegratedGradientsOptions<double> middle;
  middle.steps = 7;
  pm::IntegratedGradientsOptions<double> by_hand;
  for (int k = 0; k < 7; ++k) {
    by_hand.alphas.push_back((k + 0.5) / 7.0);
    by_hand.weights.push_back(1.0 / 7.0);
  }
  CHECK(pm::integrated_gradients(cnn, images, pn::Target::argmax(), by_hand).attribution.data ==
        pm::integrated_gradients(cnn, images, pn::Target::argmax(), middle).attribution.data);
  pm::IntegratedGradientsOptions<double> bad;
  bad.alphas = {0.5};
  CHECK_THROWS_WITH(pm::integrated_gradients(net, x, pn::Target::argmax(), bad),
                    Contains("1 path points (alphas) but 0 weights"));
  bad.weights = {std::nan("")};
  CHECK_THROWS_WITH(pm::integrated_gradients(net, x, pn::Target::argmax(), bad),
                    Contains("path point 0 has alpha 0.5 and weight nan; both must be finite"));
}

TEST_CASE("Integrated Gradients is exact on a linear model, with any baseline") {
  // f = W x + b is linear: the gradient is constant along the path, so the attribution is
  // (x - x-bar) .* w_c and completeness holds to rounding, for any m and either quadrature.
  pn::Sequential<double> net{pn::Conv2D<double>(2, 3, 3, pn::Padding{1}), pn::Flatten<double>{},
                             pn::Dense<double>(3 * 5 * 4, 3)};
  net.set_input_shape({2, 5, 4});
  support::randomize(net, 1);
  const pn::Batch<double> x({2, 5, 4}, support::random_matrix<double>(40, 3, 2));
  const pn::Matrix<double> per_sample = support::random_matrix<double>(40, 3, 3);
  const auto gradient = pn::explain(net, pn::rules::Gradient{}, x);
  for (const auto quadrature : {pm::Quadrature::riemann_middle, pm::Quadrature::trapezoid}) {
    for (const pn::Matrix<double>* baseline : {&per_sample, static_cast<const pn::Matrix<double>*>(nullptr)}) {
      pm::IntegratedGradientsOptions<double> options{.steps = 3, .quadrature = quadrature};
      if (baseline) options.baseline = *baseline;
      const auto ig = pm::integrated_gradients(net, x, pn::Target::argmax(), options);
      const pn::Matrix<double> delta = baseline ? pn::Matrix<double>(x.data - *baseline) : x.data;
      const pn::Matrix<double> expected = delta.cwiseProduct(gradient.attribution.data);
      // The gradient at each path point differs from the one at x only by rounding (~1e-16
      // relative per operation, a few dozen operations).
      CHECK((ig.attribution.data - expected).cwiseAbs().maxCoeff() <= 1e-13 * expected.cwiseAbs().maxCoeff());
      CHECK(ig.completeness_error.cwiseAbs().maxCoeff() <= 1e-12 * expected.cwiseAbs().sum());
      CHECK(ig.targets == gradient.targets);
    }
  }
  // A single-column baseline is shared by all samples.
  pm::IntegratedGradientsOptions<double> shared{.steps = 2};
  shared.baseline = per_sample.col(1);
  pm::IntegratedGradientsOptions<double> replicated{.steps = 2};
  replicated.baseline = per_sample.col(1).replicate(1, 3);
  CHECK(pm::integrated_gradients(net, x, pn::Target::argmax(), shared).attribution.data ==
        pm::integrated_gradients(net, x, pn::Target::argmax(), replicated).attribution.data);
}

TEST_CASE("Integrated Gradients completeness error is bounded by TV / m and falls with the steps") {
  // Along the path the integrand phi(alpha) = grad f(x-bar + alpha (x - x-bar)) . (x - x-bar)
  // is piecewise constant (ReLU and max-pool switch at kinks), so both quadratures err by at
  // most TV(phi) / m, TV = the total variation of phi on [0, 1] (each of the m cells errs by
  // at most its width times the variation inside it): the error falls like 1/m, not 1/m^2.
  // TV is measured on a fine grid (4096 cells, a lower bound that converges to TV).
  const pn::Index grid = 4096;
  auto total_variation = [&](const pn::Sequential<double>& net, const pn::Batch<double>& x, const std::vector<pn::Index>& targets) {
    Eigen::VectorXd tv(x.size());
    for (pn::Index j = 0; j < x.size(); ++j) {
      pn::Batch<double> path(x.shape, grid + 1);
      for (pn::Index k = 0; k <= grid; ++k) path.data.col(k) = double(k) / double(grid) * x.data.col(j);
      const auto g = pn::explain(net, pn::rules::Gradient{}, path, pn::Target::index(targets[static_cast<std::size_t>(j)]));
      const Eigen::VectorXd phi = g.attribution.data.transpose() * x.data.col(j);
      tv(j) = (phi.tail(grid) - phi.head(grid)).cwiseAbs().sum();
    }
    return tv;
  };
  pn::Sequential<double> tiny{pn::Conv2D<double>(1, 3, 3, pn::Padding{1}), pn::ReLU<double>{}, pn::MaxPool2D<double>(2),
                              pn::Flatten<double>{}, pn::Dense<double>(3 * 3 * 3, 3)};
  tiny.set_input_shape({1, 6, 6});
  support::randomize(tiny, 1, 0.5);
  const pn::Batch<double> x_tiny({1, 6, 6}, support::random_matrix<double>(36, 4, 11, 0.0, 1.0));
  const auto net = small_cnn<double>(5);
  const pn::Batch<double> x({1, 8, 8}, support::random_matrix<double>(64, 4, 6, 0.0, 1.0));
  using Case = std::pair<const pn::Sequential<double>*, const pn::Batch<double>*>;
  for (const auto& [model, input] : {Case{&tiny, &x_tiny}, Case{&net, &x}}) {
    for (const auto quadrature : {pm::Quadrature::riemann_middle, pm::Quadrature::trapezoid}) {
      Eigen::VectorXd tv;
      double first_mean = 0, last_mean = 0;
      for (const pn::Index m : {4, 16, 64, 256}) {
        const auto ig = pm::integrated_gradients(*model, *input, pn::Target::argmax(), {.steps = m, .quadrature = quadrature});
        if (tv.size() == 0) tv = total_variation(*model, *input, ig.targets);
        INFO("quadrature " << int(quadrature) << ", m = " << m << ": |error| m / TV = "
                           << (ig.completeness_error.cwiseAbs() * double(m)).cwiseQuotient(tv).transpose()
                           << ", relative error " << relative_error(ig).transpose());
        CHECK((ig.completeness_error.cwiseAbs().array() <= tv.array() / double(m)).all());
        (m == 4 ? first_mean : last_mean) = relative_error(ig).mean();
      }
      CHECK(last_mean < first_mean / 10);  // 64 times the steps: the error falls (bound: 64x)
    }
  }
}

TEST_CASE("Integrated Gradients: chunked and unchunked agree, in double and float") {
  const auto net = small_cnn<double>(7);
  const pn::Batch<double> x({1, 8, 8}, support::random_matrix<double>(64, 3, 8));
  const auto whole = pm::integrated_gradients(net, x, pn::Target::argmax(), {.steps = 20, .chunk = 1000});
  const auto chunked = pm::integrated_gradients(net, x, pn::Target::argmax(), {.steps = 20, .chunk = 7});
  // Only the GEMM blocking (summation order) can differ between batch sizes: rounding.
  CHECK((chunked.attribution.data - whole.attribution.data).cwiseAbs().maxCoeff() <=
        1e-13 * whole.attribution.data.cwiseAbs().maxCoeff());
  CHECK(chunked.targets == whole.targets);
  const auto one_by_one = pm::integrated_gradients(net, x, pn::Target::index(2), {.steps = 20, .chunk = 1});
  const auto together = pm::integrated_gradients(net, x, pn::Target::index(2), {.steps = 20});
  CHECK((one_by_one.attribution.data - together.attribution.data).cwiseAbs().maxCoeff() <=
        1e-13 * together.attribution.data.cwiseAbs().maxCoeff());
  CHECK(one_by_one.targets == std::vector<pn::Index>{2, 2, 2});

  const auto net_float = small_cnn<float>(7);
  const pn::Batch<float> xf({1, 8, 8}, support::random_matrix<float>(64, 3, 8));
  const auto f_whole = pm::integrated_gradients(net_float, xf, pn::Target::argmax(), {.steps = 64});
  const auto f_chunked = pm::integrated_gradients(net_float, xf, pn::Target::argmax(), {.steps = 64, .chunk = 5});
  // float: each gradient carries ~1e-6 relative rounding; the sums are accumulated in double.
  CHECK((f_chunked.attribution.data - f_whole.attribution.data).cwiseAbs().maxCoeff() <=
        1e-5f * f_whole.attribution.data.cwiseAbs().maxCoeff());
  // float IG agrees with double IG on the same weights (float rounding, not a method error).
  const auto d = pm::integrated_gradients(net, x, pn::Target::argmax(), {.steps = 64});
  CHECK((f_whole.attribution.data.cast<double>() - d.attribution.data).cwiseAbs().maxCoeff() <=
        1e-4 * d.attribution.data.cwiseAbs().maxCoeff());
}

TEST_CASE("Integrated Gradients rejects bad options with clear messages") {
  const auto net = small_cnn<float>(9);
  const pn::Batch<float> x({1, 8, 8}, support::random_matrix<float>(64, 2, 10));
  CHECK_THROWS_AS(pm::integrated_gradients(net, x, pn::Target::argmax(), {.steps = 0}), pn::ConfigError);
  CHECK_THROWS_WITH(pm::integrated_gradients(net, x, pn::Target::argmax(), {.steps = 0}),
                    Contains("integrated_gradients(): steps must be in [1, 2^63 - 2], got 0"));
  const pn::Index most = std::numeric_limits<pn::Index>::max();
  CHECK_THROWS_WITH(pm::integrated_gradients(net, x, pn::Target::argmax(), {.steps = most, .quadrature = pm::Quadrature::trapezoid}),
                    Contains("integrated_gradients(): steps must be in [1, 2^63 - 2], got 9223372036854775807"));
  // 2^62 steps for 2 samples: 2^63 path points, an Index overflow, refused before any allocation.
  CHECK_THROWS_WITH(pm::integrated_gradients(net, x, pn::Target::argmax(), {.steps = pn::Index{1} << 62}),
                    Contains("integrated_gradients(): the points (samples x copies) would hold more than 2^63 values"));
  CHECK_THROWS_WITH(pm::integrated_gradients(net, x, pn::Target::argmax(), {.chunk = 0}),
                    Contains("integrated_gradients(): chunk must be >= 1, got 0"));
  pm::IntegratedGradientsOptions<float> options;
  options.baseline = pn::Matrix<float>::Zero(64, 3);
  CHECK_THROWS_AS(pm::integrated_gradients(net, x, pn::Target::argmax(), options), pn::ShapeError);
  CHECK_THROWS_WITH(pm::integrated_gradients(net, x, pn::Target::argmax(), options),
                    Contains("the baseline is 64 x 3; expected 64 rows and 1 or 2 columns"));
  options.baseline = pn::Matrix<float>::Constant(64, 1, std::numeric_limits<float>::infinity());
  CHECK_THROWS_AS(pm::integrated_gradients(net, x, pn::Target::argmax(), options), pn::NumericError);
}
