#include "support.hpp"

#include <patternnet/testing.hpp>

#include <catch2/catch.hpp>

namespace {

// Direct loop: max over the window cells inside the image, first maximum wins.
pn::Matrix<double> naive_pool(const pn::ConvGeometry& g, const pn::Matrix<double>& x, pn::IndexMatrix& arg) {
  const pn::Index oh = g.out_h(), ow = g.out_w();
  pn::Matrix<double> out(g.in.c * oh * ow, x.cols());
  arg.resize(out.rows(), out.cols());
  for (pn::Index n = 0; n < x.cols(); ++n)
    for (pn::Index c = 0; c < g.in.c; ++c)
      for (pn::Index oy = 0; oy < oh; ++oy)
        for (pn::Index ox = 0; ox < ow; ++ox) {
          double best = -1e300;
          pn::Index where = -1;
          for (pn::Index i = 0; i < g.kernel_h; ++i)
            for (pn::Index j = 0; j < g.kernel_w; ++j) {
              const pn::Index iy = oy * g.stride_h + i - g.pad_top, ix = ox * g.stride_w + j - g.pad_left;
              if (iy < 0 || iy >= g.in.h || ix < 0 || ix >= g.in.w) continue;
              if (x(g.in.at(c, iy, ix), n) > best) best = x(g.in.at(c, iy, ix), n), where = g.in.at(c, iy, ix);
            }
          out((c * oh + oy) * ow + ox, n) = best;
          arg((c * oh + oy) * ow + ox, n) = where;
        }
  return out;
}

}  // namespace

TEST_CASE("MaxPool2D forward and argmax equal a direct loop") {
  struct Case { pn::Shape in; pn::Kernel k; pn::Stride s; pn::Padding p; };
  const Case cases[] = {{{2, 6, 6}, 2, pn::Stride{2}, pn::Padding{}},
                        {{1, 7, 5}, 3, pn::Stride{2}, pn::Padding{1}},
                        {{3, 5, 8}, {2, 3}, pn::Stride{1, 2}, pn::Padding{1, 1}}};
  unsigned seed = 0;
  for (const auto& c : cases) {
    pn::MaxPool2D<double> pool(c.k, c.s, c.p);
    const pn::Shape out = pool.bind(c.in, 0);
    const auto x = support::random_matrix<double>(c.in.size(), 3, ++seed);
    pn::IndexMatrix arg, expected_arg;
    const pn::Matrix<double> got = pool.forward(x, arg);
    const pn::Matrix<double> expected = naive_pool(pool.geometry(), x, expected_arg);
    CHECK(got.rows() == out.size());
    CHECK(got == expected);
    CHECK(arg == expected_arg);
  }
}

TEST_CASE("MaxPool2D ties go to the first maximum in row-major window order") {
  pn::MaxPool2D<float> pool(2);
  pool.bind({1, 2, 2}, 0);
  pn::Matrix<float> x(4, 1);
  x << 1, 5, 5, 5;
  pn::IndexMatrix arg;
  CHECK(pool.forward(x, arg)(0, 0) == 5.0f);
  CHECK(arg(0, 0) == 1);
  const pn::Matrix<float> g = pool.gradient(arg, pn::Matrix<float>::Constant(1, 1, 2.0f));
  CHECK(g(1, 0) == 2.0f);
  CHECK(g.sum() == 2.0f);
}

TEST_CASE("MaxPool2D gradient matches finite differences, overlapping windows") {
  pn::Sequential<double> net{pn::MaxPool2D<double>(3, pn::Stride{2}, pn::Padding{1})};
  net.set_input_shape({2, 7, 6});
  const auto res = pn::testing::check_gradient(net, pn::Batch<double>({2, 7, 6}, support::random_matrix<double>(84, 2, 9)));
  CHECK(res.max_error < 1e-8);
}

TEST_CASE("MaxPool2D rejects bad hyper-parameters") {
  CHECK_THROWS_AS(pn::MaxPool2D<float>(0), pn::ConfigError);
  CHECK_THROWS_AS(pn::MaxPool2D<float>(2, pn::Stride{2}, pn::Padding{2}), pn::ConfigError);
  pn::MaxPool2D<float> pool(4);
  CHECK_THROWS_AS(pool.bind({1, 3, 8}, 1), pn::ShapeError);
}

TEST_CASE("MaxPool2D with ceil_mode: PyTorch's output sizes, each window the max of its input cells") {
  // Output sizes from torch.nn.functional.max_pool2d(..., ceil_mode=True) in PyTorch 1.13.
  struct Case { pn::Index h, w, k, s, p, out_h, out_w; };
  const Case cases[] = {{5, 5, 2, 2, 0, 3, 3}, {6, 7, 3, 2, 1, 4, 4}, {3, 4, 2, 2, 1, 2, 3}, {4, 4, 2, 3, 0, 2, 2}};
  unsigned seed = 40;
  for (const auto& c : cases) {
    pn::MaxPool2D<double> pool(pn::Kernel{c.k}, pn::Stride{c.s}, pn::Padding{c.p}, pn::CeilMode{true});
    CHECK(pool.ceil_mode());
    const pn::Shape in{2, c.h, c.w};
    REQUIRE(pool.bind(in, 0) == pn::Shape{2, c.out_h, c.out_w});
    const auto x = support::random_matrix<double>(in.size(), 2, ++seed);
    pn::IndexMatrix arg;
    const pn::Matrix<double> got = pool.forward(x, arg);
    for (pn::Index n = 0; n < x.cols(); ++n)
      for (pn::Index ch = 0; ch < 2; ++ch)
        for (pn::Index oy = 0; oy < c.out_h; ++oy)
          for (pn::Index ox = 0; ox < c.out_w; ++ox) {
            double best = -1e300;
            for (pn::Index iy = std::max<pn::Index>(oy * c.s - c.p, 0); iy < std::min(oy * c.s - c.p + c.k, c.h); ++iy)
              for (pn::Index ix = std::max<pn::Index>(ox * c.s - c.p, 0); ix < std::min(ox * c.s - c.p + c.k, c.w); ++ix)
                best = std::max(best, x(in.at(ch, iy, ix), n));
            CHECK(got((ch * c.out_h + oy) * c.out_w + ox, n) == best);
          }
  }
  // Without ceil_mode the partial windows are dropped.
  pn::MaxPool2D<double> floor_pool(pn::Kernel{2}, pn::Stride{2});
  CHECK(floor_pool.bind({1, 5, 5}, 0) == pn::Shape{1, 2, 2});
}
