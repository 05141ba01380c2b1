#include <patternnet/core/im2col.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>

#include <array>

TEST_CASE("im2col places every tap of every position, zero outside the image") {
  // 1 channel 3x4 image with values 1..12, kernel 2x3, stride (1,2), padding 1.
  pn::ConvGeometry g{pn::Shape{1, 3, 4}, 2, 3, 1, 2, 1, 1, 1, 1};
  pn::Matrix<double> x(12, 1);
  for (int i = 0; i < 12; ++i) x(i) = i + 1;
  pn::Matrix<double> cols;
  pn::im2col(g, x, cols);
  REQUIRE(g.out_h() == 4);
  REQUIRE(g.out_w() == 2);
  REQUIRE(cols.rows() == 8);
  REQUIRE(cols.cols() == 6);
  for (pn::Index oy = 0; oy < 4; ++oy)
    for (pn::Index ox = 0; ox < 2; ++ox)
      for (pn::Index i = 0; i < 2; ++i)
        for (pn::Index j = 0; j < 3; ++j) {
          const pn::Index iy = oy - 1 + i, ix = ox * 2 - 1 + j;
          const double expected = (iy >= 0 && iy < 3 && ix >= 0 && ix < 4) ? x(iy * 4 + ix) : 0.0;
          CHECK(cols(oy * 2 + ox, i * 3 + j) == expected);
        }
}

TEST_CASE("im2col matches the definition for strides, dilations and asymmetric padding") {
  // cols(p, (c*kh + i)*kw + j) = x[c, oy*sh + i*dh - pt, ox*sw + j*dw - pl], 0 outside.
  for (auto [sh, sw, dh, dw, pt, pb, pl, pr] : {std::array<pn::Index, 8>{1, 1, 1, 1, 0, 0, 0, 0},
                                                std::array<pn::Index, 8>{2, 3, 1, 2, 1, 0, 2, 1},
                                                std::array<pn::Index, 8>{3, 1, 2, 1, 0, 2, 3, 0},
                                                std::array<pn::Index, 8>{1, 4, 1, 3, 2, 2, 0, 4}}) {
    pn::ConvGeometry g{pn::Shape{2, 5, 7}, 2, 3, sh, sw, pt, pb, pl, pr, dh, dw};
    const auto x = support::random_matrix<double>(g.in.size(), 2, 3);
    pn::Matrix<double> cols;
    pn::im2col(g, x, cols);
    const pn::Index P = g.positions();
    REQUIRE(cols.rows() == 2 * P);
    for (pn::Index n = 0; n < 2; ++n)
      for (pn::Index oy = 0; oy < g.out_h(); ++oy)
        for (pn::Index ox = 0; ox < g.out_w(); ++ox)
          for (pn::Index c = 0; c < 2; ++c)
            for (pn::Index i = 0; i < 2; ++i)
              for (pn::Index j = 0; j < 3; ++j) {
                const pn::Index iy = oy * sh + i * dh - pt, ix = ox * sw + j * dw - pl;
                const double expected = (iy >= 0 && iy < 5 && ix >= 0 && ix < 7) ? x(c * 35 + iy * 7 + ix, n) : 0.0;
                CHECK(cols(n * P + oy * g.out_w() + ox, (c * 2 + i) * 3 + j) == expected);
              }
  }
}

TEST_CASE("col2im is the exact adjoint of im2col") {
  for (auto [stride, pad, dil] : {std::tuple{1, 0, 1}, std::tuple{2, 1, 1}, std::tuple{1, 2, 2}, std::tuple{3, 1, 2}}) {
    pn::ConvGeometry g{pn::Shape{2, 7, 6}, 3, 2, stride, stride, pad, pad, pad, pad, dil, dil};
    const auto x = support::random_matrix<double>(g.in.size(), 3, 1);
    pn::Matrix<double> cols;
    pn::im2col(g, x, cols);
    const auto c = support::random_matrix<double>(cols.rows(), cols.cols(), 2);
    pn::Matrix<double> back;
    pn::col2im(g, c, 3, back);
    const double lhs = (cols.array() * c.array()).sum(), rhs = (x.array() * back.array()).sum();
    CHECK(std::abs(lhs - rhs) <= 1e-12 * (cols.cwiseAbs().sum() * c.cwiseAbs().maxCoeff()));
  }
}

TEST_CASE("batch_to_positions puts one output position per row") {
  const auto b = support::random_matrix<float>(4 * 5, 3, 7);  // F = 4, P = 5, N = 3
  pn::Matrix<float> z;
  pn::batch_to_positions(b, 5, z);
  REQUIRE(z.rows() == 15);
  REQUIRE(z.cols() == 4);
  for (pn::Index n = 0; n < 3; ++n)
    for (pn::Index f = 0; f < 4; ++f)
      for (pn::Index p = 0; p < 5; ++p) CHECK(z(n * 5 + p, f) == b(f * 5 + p, n));
}
