#include <patternnet/core/im2col.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>

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

TEST_CASE("positions_to_batch and batch_to_positions are inverse permutations") {
  const auto z = support::random_matrix<float>(3 * 5, 4, 7);  // N = 3, P = 5, F = 4
  pn::Matrix<float> b, back;
  pn::positions_to_batch(z, 5, b);
  REQUIRE(b.rows() == 20);
  REQUIRE(b.cols() == 3);
  CHECK(b(2 * 5 + 4, 1) == z(1 * 5 + 4, 2));
  pn::batch_to_positions(b, 5, back);
  CHECK(back == z);
}
