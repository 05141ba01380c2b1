// AvgPool2D, GlobalAvgPool2D and BatchNorm2D: PyTorch's outputs (printed by
// tests/data/pytorch_reference.py with torch 1.13), direct-loop oracles, exact adjoints.

#include "support.hpp"

#include <patternnet/testing.hpp>

#include <catch2/catch.hpp>

#include <vector>

using Catch::Matchers::Contains;

namespace {

/// The input of pytorch_reference.py: x[i] = ((37 i) mod 190) / 100 - 0.6, shape 2 x 5 x 6.
pn::Matrix<double> reference_input() {
  pn::Matrix<double> x(60, 1);
  for (pn::Index i = 0; i < 60; ++i) x(i, 0) = static_cast<double>((37 * i) % 190) / 100 - 0.6;
  return x;
}

double max_abs_diff(const pn::Matrix<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == static_cast<pn::Index>(b.size()));
  double d = 0;
  for (pn::Index i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a.data()[i] - b[static_cast<std::size_t>(i)]));
  return d;
}

/// <f(x), r> = <x, f^T(r)> for a linear map without weights, relative to the terms' size.
template <class L>
double adjoint_error(const L& layer, pn::Index in, pn::Index out, unsigned seed) {
  const pn::Matrix<double> x = support::random_matrix<double>(in, 3, seed), r = support::random_matrix<double>(out, 3, seed + 1);
  const double lhs = (layer.forward(x).array() * r.array()).sum(), rhs = (x.array() * layer.transpose(r).array()).sum();
  const double scale = (layer.forward(x).array() * r.array()).abs().sum() + (x.array() * layer.transpose(r).array()).abs().sum();
  return std::abs(lhs - rhs) / scale;
}

}  // namespace

TEST_CASE("AvgPool2D equals PyTorch's avg_pool2d (padding, ceil_mode, count_include_pad, strides)") {
  const pn::Matrix<double> x = reference_input();
  struct Case {
    pn::AvgPool2D<double> pool;
    pn::Shape out;
    std::vector<double> expected;
  };
  const std::vector<Case> cases{
      // {'kernel_size': 3, 'stride': 2, 'padding': 1, 'ceil_mode': True, 'count_include_pad': True} -> (2, 3, 4)
      {pn::AvgPool2D<double>(3, pn::Stride{2}, pn::Padding{1}, pn::CeilMode{true}), {2, 3, 4},
       {-0.11333333333333334, 0.20000000000000004, 0.4822222222222222, 0.15333333333333335, 0.15000000000000002, 0.568888888888889, 0.25333333333333335, -0.004999999999999986, 0.3133333333333333, 0.2066666666666667, 0.0666666666666667, 0.15666666666666668, -0.03555555555555555, 1.2335811384723961e-17, 0.4933333333333333, 0.37000000000000005, -0.04999999999999997, 0.48000000000000004, 0.5866666666666667, 0.16166666666666665, 0.18000000000000002, 0.4288888888888888, 0.07777777777777779, 0.05666666666666668}},
      // {'kernel_size': 3, 'stride': 2, 'padding': 1, 'ceil_mode': True, 'count_include_pad': False} -> (2, 3, 4)
      {pn::AvgPool2D<double>(3, pn::Stride{2}, pn::Padding{1}, pn::CeilMode{true}, pn::CountIncludePad{false}), {2, 3, 4},
       {-0.255, 0.30000000000000004, 0.7233333333333333, 0.46, 0.225, 0.568888888888889, 0.25333333333333335, -0.009999999999999972, 0.705, 0.31000000000000005, 0.10000000000000003, 0.47000000000000003, -0.07999999999999999, 1.850371707708594e-17, 0.7399999999999999, 1.11, -0.07499999999999996, 0.48000000000000004, 0.5866666666666667, 0.3233333333333333, 0.405, 0.6433333333333332, 0.1166666666666667, 0.17000000000000004}},
      // {'kernel_size': (2, 3), 'stride': (1, 2), 'padding': (1, 1), 'ceil_mode': False, 'count_include_pad': False} -> (2, 6, 3)
      {pn::AvgPool2D<double>(pn::Kernel{2, 3}, pn::Stride{1, 2}, pn::Padding{1, 1}, pn::CountIncludePad{false}), {2, 6, 3},
       {-0.415, 0.14000000000000004, 0.88, -0.255, 0.30000000000000004, 0.7233333333333333, 0.06500000000000002, 0.62, 0.41, 0.385, 0.6233333333333334, 0.09666666666666668, 0.705, 0.31000000000000005, 0.10000000000000003, 0.865, 0.1533333333333333, 0.26, 0.235, -0.15999999999999995, 0.5800000000000001, -0.07999999999999999, 1.850371707708594e-17, 0.7399999999999999, -0.23499999999999996, 0.32, 0.7433333333333335, 0.08500000000000003, 0.64, 0.43, 0.405, 0.6433333333333332, 0.1166666666666667, 0.5650000000000001, 0.48666666666666675, -0.039999999999999945}},
      // {'kernel_size': 2, 'stride': None, 'padding': 0, 'ceil_mode': False, 'count_include_pad': True} -> (2, 2, 3)
      {pn::AvgPool2D<double>(2), {2, 2, 3},
       {-0.255, 0.4850000000000001, 0.75, 0.385, 0.6499999999999999, -0.034999999999999976, -0.07999999999999999, 0.185, 0.925, 0.08500000000000003, 0.825, 0.14000000000000004}},
  };
  for (const Case& c : cases) {
    pn::AvgPool2D<double> pool = c.pool;
    CHECK(pool.bind({2, 5, 6}, 0) == c.out);
    CHECK(max_abs_diff(pool.forward(x), c.expected) < 1e-15);
    CHECK(adjoint_error(pool, 60, c.out.size(), 3) < 1e-15);
  }
}

TEST_CASE("AvgPool2D rejects invalid hyper-parameters and inputs smaller than the kernel") {
  CHECK_THROWS_WITH(pn::AvgPool2D<double>(0), Contains("AvgPool2D::AvgPool2D(): kernel 0x0 and stride 0x0 must be >= 1"));
  CHECK_THROWS_WITH(pn::AvgPool2D<double>(2, pn::Padding{2}),
                    Contains("padding must be explicit, >= 0 and at most half the kernel (2x2), got 2x2"));
  // A padding near 2^62 (as a file can hold) is rejected without overflowing 2 * padding.
  const pn::Index huge = pn::Index{1} << 62;
  CHECK_THROWS_WITH(pn::AvgPool2D<double>(3, pn::Padding{huge}), Contains("at most half the kernel (3x3)"));
  CHECK_THROWS_WITH(pn::MaxPool2D<double>(pn::Kernel{3, 3}, pn::Stride{1, 1}, pn::Padding{1, huge}),
                    Contains("at most half the kernel (3x3)"));
  CHECK_NOTHROW(pn::MaxPool2D<double>(pn::Kernel{3, 3}, pn::Stride{1, 1}, pn::Padding{1, 1}));
  pn::AvgPool2D<double> pool(4);
  CHECK_THROWS_WITH(pool.bind({1, 3, 8}, 5), Contains("layer 5 (AvgPool2D): input 3x8 with padding 0x0 is smaller than the kernel 4x4"));
}

TEST_CASE("GlobalAvgPool2D is the mean of every channel, and its transpose is exact") {
  pn::GlobalAvgPool2D<double> pool;
  CHECK(pool.bind({3, 4, 5}, 0) == pn::Shape{3, 1, 1});
  const pn::Matrix<double> x = support::random_matrix<double>(60, 2, 7);
  const pn::Matrix<double> z = pool.forward(x);
  for (pn::Index n = 0; n < 2; ++n) {
    for (pn::Index c = 0; c < 3; ++c) CHECK(std::abs(z(c, n) - x.col(n).segment(20 * c, 20).mean()) < 1e-16);
  }
  CHECK(adjoint_error(pool, 60, 3, 9) < 1e-15);
}

TEST_CASE("BatchNorm2D equals PyTorch's BatchNorm2d in eval mode, and its transpose is exact") {
  pn::Vector<double> mean(2), var(2), weight(2), bias(2);
  mean << 0.25, -0.5;
  var << 0.8, 2.5;
  weight << 1.5, -0.7;
  bias << 0.1, 0.3;
  pn::BatchNorm2D<double> bn(mean, var, weight, bias, 1e-3);
  CHECK(bn.bind({2, 5, 6}, 0) == pn::Shape{2, 5, 6});
  // BatchNorm2d(2, eps=1e-3), eval
  const std::vector<double> expected{-1.3246032367022307, -0.7044818277847891, -0.0843604188673475, 0.5357609900500943, 1.1558823989675358, 1.7760038078849774, -0.788282018179038, -0.16816060926159643, 0.45196079965584535, 1.0720822085732866, 1.6922036174907287, -0.8720822085732868, -0.25196079965584517, 0.3681606092615964, 0.9882820181790378, 1.6084034270964793, -0.9558823989675357, -0.33576099005009413, 0.2843604188673475, 0.9044818277847892, 1.5246032367022309, -1.0396825893617845, -0.4195611804443429, 0.2005602284730987, 0.8206816373905402, 1.4408030463079815, -1.1234827797560334, -0.5033613708385918, 0.11676003807884977, 0.7368814469962913, -0.3639455328050542, 0.3132789106561011, 0.14950567923085437, -0.014267552194392363, -0.17804078361963901, -0.3418140150448858, 0.3354104284162695, 0.17163719699102284, 0.00786396556577613, -0.1559092658594705, -0.31968249728471726, -0.48345572870996395, 0.19376871475119128, 0.029995483325944622, -0.13377774809930212, -0.2975509795245488, -0.4613242109497956, 0.21590023251135979, 0.05212700108611307, -0.11164623033913364, -0.27541946176438026, -0.439192693189627, 0.23803175027152826, 0.07425851884628155, -0.08951471257896514, -0.2532879440042119, -0.4170611754294586, 0.2601632680316967, 0.09639003660645, -0.06738319481879669};
  CHECK(max_abs_diff(bn.forward(reference_input()), expected) < 1e-15);
  // the adjoint of the linear part x -> scale .* x (forward(x) - forward(0))
  const pn::Matrix<double> x = support::random_matrix<double>(60, 3, 11), r = support::random_matrix<double>(60, 3, 12);
  const pn::Matrix<double> linear = bn.forward(x) - bn.forward(pn::Matrix<double>::Zero(60, 3));
  CHECK(std::abs((linear.array() * r.array()).sum() - (x.array() * bn.transpose(r).array()).sum()) < 1e-14);
  CHECK_THROWS_WITH(bn.bind({3, 5, 6}, 2), Contains("layer 2 (BatchNorm2D) expects 2 channels, got 3"));
  CHECK_THROWS_WITH(pn::BatchNorm2D<double>(0), Contains("channels must be >= 1, got 0"));
  CHECK_THROWS_WITH(pn::BatchNorm2D<double>(pn::Index{1} << 40),
                    Contains("the channel statistics would hold 1099511627776 values, more than the limit of 4294967296"));
  CHECK_THROWS_WITH(pn::BatchNorm2D<double>(mean, -var, weight, bias), Contains("the running variance must be >= 0"));
  CHECK_THROWS_AS(pn::BatchNorm2D<double>(mean, var, weight, pn::Vector<double>(3)), pn::ShapeError);
}

TEST_CASE("Gradients through AvgPool2D, GlobalAvgPool2D and BatchNorm2D equal finite differences") {
  pn::Vector<double> mean = support::random_vector<double>(3, 1), var = support::random_vector<double>(3, 2).cwiseAbs();
  pn::Sequential<double> net{pn::Conv2D<double>(2, 3, 3, pn::Padding{1}),
                             pn::BatchNorm2D<double>(mean, var, support::random_vector<double>(3, 3), support::random_vector<double>(3, 4)),
                             pn::ReLU<double>{},
                             pn::AvgPool2D<double>(3, pn::Stride{2}, pn::Padding{1}, pn::CeilMode{true}, pn::CountIncludePad{false}),
                             pn::GlobalAvgPool2D<double>{},
                             pn::Dense<double>(3, 2)};
  net.set_input_shape({2, 7, 6});
  support::randomize(net, 5);
  const pn::Batch<double> x(net.input_shape(), support::random_matrix<double>(84, 3, 6));
  const auto check = pn::testing::check_gradient(net, x);
  INFO("feature " << check.feature << " sample " << check.sample << ": " << check.analytic << " vs " << check.numeric);
  CHECK(check.max_error < 1e-8);
}
