#include "support.hpp"

#include <patternnet/training/batch_norm_statistics.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

using Catch::Matchers::Contains;

namespace {

/// A residual block with two BatchNorms: conv -> BN -> ReLU -> conv -> BN -> Add(., ReLU) -> GAP -> Dense.
pn::Graph<double> residual_bn_net() {
  using D = double;
  pn::Graph<D> g;
  const auto conv1 = g.add(pn::Conv2D<D>(1, 2, 3, pn::Padding{1}), pn::Graph<D>::input);
  pn::BatchNorm2D<D> bn1(2);
  bn1.weight() << 2.0, 0.5;
  bn1.bias() << 0.5, -1.0;
  const auto b1 = g.add(bn1, conv1);
  const auto r1 = g.add(pn::ReLU<D>{}, b1);
  const auto conv2 = g.add(pn::Conv2D<D>(2, 2, 3, pn::Padding{1}), r1);
  const auto b2 = g.add(pn::BatchNorm2D<D>(2), conv2);
  const auto sum = g.add(pn::Add<D>{}, {b2, r1});
  const auto pool = g.add(pn::GlobalAvgPool2D<D>{}, sum);
  const auto flat = g.add(pn::Flatten<D>{}, pool);
  g.add(pn::Dense<D>(2, 3), flat);
  g.set_input_shape({1, 5, 5});
  support::randomize(g, 3);
  return g;
}

/// Per-channel mean and population variance of value v over all images (two passes, double).
std::vector<std::pair<double, double>> brute_stats(const pn::Graph<double>& net, const pn::Batch<double>& x,
                                                   pn::Index v) {
  const pn::Matrix<double> a = net.record(x).activations[static_cast<std::size_t>(v)];
  const pn::Shape s = net.shape_at(v);
  const pn::Index plane = s.h * s.w;
  std::vector<std::pair<double, double>> out;
  for (pn::Index c = 0; c < s.c; ++c) {
    double sum = 0, sq = 0;
    const auto n = static_cast<double>(plane * a.cols());
    for (pn::Index j = 0; j < a.cols(); ++j)
      for (pn::Index p = 0; p < plane; ++p) sum += a(c * plane + p, j);
    const double mean = sum / n;
    for (pn::Index j = 0; j < a.cols(); ++j)
      for (pn::Index p = 0; p < plane; ++p) sq += (a(c * plane + p, j) - mean) * (a(c * plane + p, j) - mean);
    out.emplace_back(mean, sq / n);
  }
  return out;
}

}  // namespace

TEST_CASE("update_batch_norm sets each BatchNorm2D to the statistics of its input, node by node") {
  pn::Graph<double> net = residual_bn_net();
  // Inputs far from zero mean and unit variance, so that the statistics matter.
  pn::Batch<double> x({1, 5, 5}, support::random_matrix<double>(25, 103, 4, 1.0, 7.0));
  const pn::Index bn1 = 1, bn2 = 4;

  REQUIRE(pn::training::update_batch_norm(net, x, 7) == 2);  // 7 does not divide 103
  // BN 1 reads conv 1 (value 1); BN 2 reads conv 2 (value 4), as produced with BN 1 updated.
  const auto s1 = brute_stats(net, x, 1), s2 = brute_stats(net, x, 4);
  for (pn::Index c = 0; c < 2; ++c) {
    const auto k = static_cast<std::size_t>(c);
    CHECK(std::abs(net.get<pn::BatchNorm2D<double>>(bn1).running_mean()(c) - s1[k].first) < 1e-12 * (1 + std::abs(s1[k].first)));
    CHECK(std::abs(net.get<pn::BatchNorm2D<double>>(bn1).running_var()(c) - s1[k].second) < 1e-12 * s1[k].second);
    CHECK(std::abs(net.get<pn::BatchNorm2D<double>>(bn2).running_mean()(c) - s2[k].first) < 1e-12 * (1 + std::abs(s2[k].first)));
    CHECK(std::abs(net.get<pn::BatchNorm2D<double>>(bn2).running_var()(c) - s2[k].second) < 1e-12 * s2[k].second);
  }

  // So each BatchNorm output has mean beta and variance gamma^2 var / (var + eps) per channel.
  const auto out1 = brute_stats(net, x, bn1 + 1), out2 = brute_stats(net, x, bn2 + 1);
  for (pn::Index c = 0; c < 2; ++c) {
    const auto k = static_cast<std::size_t>(c);
    for (const auto& [node, out, in] : {std::tuple{bn1, out1[k], s1[k]}, std::tuple{bn2, out2[k], s2[k]}}) {
      const auto& bn = net.get<pn::BatchNorm2D<double>>(node);
      const double gamma = bn.weight()(c), beta = bn.bias()(c);
      CHECK(std::abs(out.first - beta) < 1e-10);
      CHECK(std::abs(out.second - gamma * gamma * in.second / (in.second + bn.eps())) < 1e-10);
    }
  }

  // The batch size changes only the rounding.
  pn::Graph<double> other = residual_bn_net();
  pn::training::update_batch_norm(other, x, 1000);
  for (const pn::Index node : {bn1, bn2}) {
    const auto &a = net.get<pn::BatchNorm2D<double>>(node), &b = other.get<pn::BatchNorm2D<double>>(node);
    CHECK((a.running_mean() - b.running_mean()).cwiseAbs().maxCoeff() < 1e-12);
    CHECK((a.running_var() - b.running_var()).cwiseAbs().maxCoeff() < 1e-12 * a.running_var().maxCoeff());
  }
}

TEST_CASE("update_batch_norm: a network without BatchNorm is unchanged; bad arguments throw") {
  pn::Sequential<float> net{pn::Dense<float>(4, 3), pn::ReLU<float>{}, pn::Dense<float>(3, 2)};
  net.set_input_shape({4, 1, 1});
  support::randomize(net, 1);
  const pn::Batch<float> x({4, 1, 1}, support::random_matrix<float>(4, 10, 2));
  const pn::Matrix<float> before = net.forward(x).data;
  CHECK(pn::training::update_batch_norm(net, x) == 0);
  CHECK(net.forward(x).data == before);
  CHECK_THROWS_WITH(pn::training::update_batch_norm(net, x, 0), Contains("batch_size must be >= 1, got 0"));
  const pn::Batch<float> wrong({2, 2, 1}, support::random_matrix<float>(4, 10, 2));
  pn::Sequential<float> with_bn{pn::Dense<float>(4, 3), pn::BatchNorm2D<float>(3)};
  with_bn.set_input_shape({4, 1, 1});
  CHECK_THROWS_AS(pn::training::update_batch_norm(with_bn, wrong), pn::ShapeError);
}
