#include "support.hpp"

#include <patternnet/testing.hpp>

#include <catch2/catch.hpp>

using Catch::Matchers::Contains;

namespace {

struct Geometry {
  pn::Shape in;
  pn::Index out_channels;
  pn::Kernel kernel;
  pn::Stride stride;
  pn::Padding padding;
  pn::Dilation dilation;
};

const Geometry geometries[] = {
    {{1, 5, 5}, 2, 3, pn::Stride{1}, pn::Padding{0}, pn::Dilation{1}},
    {{3, 7, 6}, 4, 3, pn::Stride{2}, pn::Padding{1}, pn::Dilation{1}},
    {{2, 8, 9}, 3, {2, 3}, pn::Stride{1, 2}, pn::Padding{1, 0}, pn::Dilation{2, 1}},
    {{2, 6, 5}, 2, 4, pn::Stride{1}, pn::Padding::same(), pn::Dilation{1}},
    {{1, 9, 7}, 2, 3, pn::Stride{1}, pn::Padding::same(), pn::Dilation{2}},
};

template <class T>
pn::Conv2D<T> make(const Geometry& g, unsigned seed, bool bias = true) {
  const pn::Index taps = g.in.c * g.kernel.h * g.kernel.w;
  pn::Conv2D<T> conv(support::random_matrix<T>(g.out_channels, taps, seed),
                     bias ? support::random_vector<T>(g.out_channels, seed + 1) : pn::Vector<T>{}, g.in.c,
                     g.kernel, g.stride, g.padding, g.dilation);
  conv.bind(g.in, 0);
  return conv;
}

}  // namespace

TEST_CASE("Conv2D forward equals a direct-loop convolution") {
  unsigned seed = 0;
  for (const auto& g : geometries) {
    for (bool bias : {true, false}) {
      const auto conv = make<double>(g, ++seed, bias);
      const auto x = support::random_matrix<double>(g.in.size(), 3, ++seed);
      const pn::Matrix<double> expected = support::naive_conv(conv.geometry(), conv.weight(), conv.bias(), x);
      const pn::Matrix<double> got = conv.forward(x);
      REQUIRE(got.rows() == expected.rows());
      CHECK((got - expected).cwiseAbs().maxCoeff() < 1e-13);
    }
  }
}

TEST_CASE("Conv2D 'same' padding keeps the spatial size, extra padding bottom/right") {
  const auto conv = make<double>(geometries[3], 1);
  CHECK(conv.geometry().out_h() == 6);
  CHECK(conv.geometry().out_w() == 5);
  CHECK(conv.geometry().pad_top == 1);
  CHECK(conv.geometry().pad_bottom == 2);
}

TEST_CASE("Conv2D hooks are adjoint for random kernels") {
  unsigned seed = 100;
  for (const auto& g : geometries) {
    const auto conv = make<double>(g, ++seed);
    const auto m = support::random_matrix<double>(conv.weight().rows(), conv.weight().cols(), seed + 1);
    const pn::Index out_size = conv.weight().rows() * conv.positions();
    const auto res = pn::testing::check_adjoint(conv, m, support::random_matrix<double>(g.in.size(), 3, seed + 2),
                                                support::random_matrix<double>(out_size, 3, seed + 3));
    seed += 3;
    CHECK(res.max_error < 1e-14);
  }
}

TEST_CASE("Conv2D computed in several blocks of output rows equals the direct loop and stays adjoint") {
  // 64 channels x 3 x 3 taps on wide images: the patch rows exceed one block (about 2^18
  // values), so the hooks run 3 blocks (7, 7, 6 rows) and 2 blocks (13, 2 rows).
  const Geometry blocked[] = {
      {{64, 20, 64}, 2, 3, pn::Stride{1}, pn::Padding{1}, pn::Dilation{1}},
      {{64, 30, 70}, 3, 3, pn::Stride{2}, pn::Padding{1}, pn::Dilation{1}},
  };
  unsigned seed = 300;
  for (const auto& g : blocked) {
    const auto conv = make<double>(g, ++seed);
    const auto x = support::random_matrix<double>(g.in.size(), 2, ++seed);
    const pn::Matrix<double> expected = support::naive_conv(conv.geometry(), conv.weight(), conv.bias(), x);
    CHECK((conv.forward(x) - expected).cwiseAbs().maxCoeff() < 1e-12);
    const auto m = support::random_matrix<double>(conv.weight().rows(), conv.weight().cols(), ++seed);
    const auto r = support::random_matrix<double>(conv.weight().rows() * conv.positions(), 2, ++seed);
    CHECK(pn::testing::check_adjoint(conv, m, x, r).max_error < 1e-14);
  }
}

TEST_CASE("Conv2D gradient matches finite differences") {
  unsigned seed = 200;
  for (const auto& g : geometries) {
    pn::Sequential<double> net{make<double>(g, seed + 1)};
    net.set_input_shape(g.in);
    const auto res = pn::testing::check_gradient(net, pn::Batch<double>(g.in, support::random_matrix<double>(g.in.size(), 2, seed + 2)));
    seed += 2;
    CHECK(res.max_error < 1e-8);
  }
}

TEST_CASE("Conv2D rejects bad hyper-parameters and shapes with clear messages") {
  CHECK_THROWS_AS(pn::Conv2D<float>(1, 4, 0), pn::ConfigError);
  CHECK_THROWS_WITH(pn::Conv2D<float>(1, 4, 3, pn::Stride{0}), Contains("stride 0x0"));
  CHECK_THROWS_WITH(pn::Conv2D<float>(1, 4, 3, pn::Padding{-1}), Contains("padding must be >= 0, got -1x-1"));
  CHECK_THROWS_WITH(pn::Conv2D<float>(1, 4, 3, pn::Dilation{0, 1}), Contains("dilation 0x1 must be >= 1"));
  // A huge kernel is a ConfigError, not a request for terabytes.
  CHECK_THROWS_WITH(pn::Conv2D<float>(512, 512, pn::Kernel{1 << 12, 1 << 12}),  // 512 * 4096^2 taps per filter
                    Contains("Conv2D::Conv2D(): the weight would hold 8589934592 values, more than the limit of 4294967296"));
  CHECK_THROWS_WITH(pn::Conv2D<float>(512, 1 << 20, pn::Kernel{3, 3}),  // 2^20 filters of 4608 taps
                    Contains("Conv2D::Conv2D(): the weight would hold 4831838208 values, more than the limit of 4294967296"));
  CHECK_THROWS_WITH(pn::Conv2D<float>(1, 1, pn::Kernel{pn::Index{1} << 32, pn::Index{1} << 32}),
                    Contains("the weight would hold more than 2^63 values"));
  CHECK_THROWS_WITH(pn::Conv2D<float>(pn::Matrix<float>::Ones(4, 8), pn::Vector<float>{}, 1, 3),
                    Contains("weight has 8 columns, expected C*kh*kw = 1*3*3 = 9"));
  pn::Conv2D<float> conv(3, 8, 3);
  CHECK_THROWS_WITH(conv.bind({1, 28, 28}, 2), Contains("layer 2 (Conv2D) expects 3 input channels, got 1"));
  CHECK_THROWS_WITH(conv.bind({3, 2, 5}, 0), Contains("smaller than the dilated kernel 3x3"));
  pn::Conv2D<float> strided(1, 1, 3, pn::Stride{2}, pn::Padding::same());
  CHECK_THROWS_AS(strided.bind({1, 8, 8}, 0), pn::ConfigError);
}
