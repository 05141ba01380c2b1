#include "files.hpp"
#include "support.hpp"

#include <patternnet/io/moments_file.hpp>
#include <patternnet/patternnet.hpp>

#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <limits>

namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

/// conv 1 -> 2 3x3 on 6 x 6 (or, with side 4, padded by 1 on 4 x 4: the same weight
/// shapes), flatten, dense 32 -> 3.
pn::Sequential<double> moments_net(pn::Index side = 6) {
  pn::Sequential<double> net{pn::Conv2D<double>(1, 2, 3, pn::Padding{side == 6 ? 0 : 1}), pn::ReLU<double>{},
                             pn::Flatten<double>{}, pn::Dense<double>(2 * 4 * 4, 3)};
  net.set_input_shape({1, side, side});
  support::randomize(net, 1);
  return net;
}

const pn::Batch<double>& moments_data() {
  static const pn::Batch<double> data({1, 6, 6}, support::random_matrix<double>(36, 300, 2));
  return data;
}

pn::NetworkMoments moments_of(const pn::Sequential<double>& net, pn::Index first, pn::Index count, bool covariance) {
  const pn::Batch<double> part({1, 6, 6}, moments_data().data.middleCols(first, count));
  pn::MomentOptions o;
  o.input_covariance = covariance;
  return pn::compute_moments(net, pn::batches(part, 50), o);
}

/// The largest difference between two sets of moments, relative to the largest value.
double difference(const pn::NetworkMoments& a, const pn::NetworkMoments& b) {
  REQUIRE(a.layers().size() == b.layers().size());
  double diff = std::abs(a.samples() - b.samples()), scale = 1;
  const auto add = [&](const auto& x, const auto& y) {
    REQUIRE(x.rows() == y.rows());
    REQUIRE(x.cols() == y.cols());
    if (x.size() == 0) return;
    diff = std::max(diff, (x - y).cwiseAbs().maxCoeff());
    scale = std::max(scale, x.cwiseAbs().maxCoeff());
  };
  for (std::size_t l = 0; l < a.layers().size(); ++l) {
    const pn::LayerMoments &p = a.layers()[l], &q = b.layers()[l];
    CHECK(p.layer == q.layer);
    CHECK(p.with_input_covariance == q.with_input_covariance);
    diff = std::max(diff, std::abs(p.count - q.count));
    for (const auto* r : {&p.positive, &p.negative}) {
      const pn::RegimeMoments& s = r == &p.positive ? q.positive : q.negative;
      add(r->n, s.n), add(r->mean_x, s.mean_x), add(r->mean_y, s.mean_y), add(r->c_xy, s.c_xy), add(r->c_yy, s.c_yy);
    }
    add(p.mean_x, q.mean_x), add(p.c_xx, q.c_xx);
  }
  return diff / scale;
}

}  // namespace

TEST_CASE("moments files round-trip bit-exactly, with and without the input covariance") {
  support::TempDir dir;
  const auto net = moments_net();
  for (const bool covariance : {false, true}) {
    const auto m = moments_of(net, 0, 300, covariance);
    pn::io::save_moments(m, net, dir.path / "m.pnm");
    const auto back = pn::io::load_moments(dir.path / "m.pnm", net);
    CHECK(difference(m, back) == 0);
    CHECK(back.samples() == 300);
    // header 32; per record 8 * 3 + 1 + 8, then 2 regimes of 3F + 2KF doubles (+ K + K^2)
    const auto record = [&](std::uintmax_t k, std::uintmax_t f) {
      return 33 + 8 * (2 * (3 * f + 2 * k * f) + (covariance ? k + k * k : 0));
    };
    CHECK(fs::file_size(dir.path / "m.pnm") == 32 + record(9, 2) + record(32, 3) + 8);
  }
}

TEST_CASE("merging the moments of three parts of the data gives the moments and patterns of one pass") {
  const auto net = moments_net();
  for (const bool covariance : {false, true}) {
    const auto whole = moments_of(net, 0, 300, covariance);
    auto merged = moments_of(net, 0, 120, covariance);
    merged.merge(moments_of(net, 120, 30, covariance));
    merged.merge(moments_of(net, 150, 150, covariance));
    CHECK(merged.samples() == 300);
    CHECK(difference(whole, merged) <= 1e-13);
    const auto a = pn::make_patterns<pn::estimators::TwoComponent>(net, whole);
    const auto b = pn::make_patterns<pn::estimators::TwoComponent>(net, merged);
    for (std::size_t l = 0; l < a.layers().size(); ++l) {
      CHECK((a.layers()[l].a - b.layers()[l].a).cwiseAbs().maxCoeff() <= 1e-12 * a.layers()[l].a.cwiseAbs().maxCoeff());
      CHECK((a.layers()[l].a_neg - b.layers()[l].a_neg).cwiseAbs().maxCoeff() <=
            1e-12 * a.layers()[l].a_neg.cwiseAbs().maxCoeff());
    }
  }
  auto held = moments_of(net, 0, 100, false);
  const auto before = held;
  CHECK_THROWS_AS(held.merge(moments_of(net, 100, 100, true)), pn::ShapeError);
  CHECK_THROWS_WITH(held.merge(moments_of(net, 100, 100, true)),
                    Contains("record 0 is layer 0 (2 neurons x 9 inputs, input covariance), here it is layer 0 (2 x 9)"));
  CHECK(difference(held, before) == 0);
}

TEST_CASE("corrupt moments files throw FormatError naming the field, and moments of another network a ShapeError") {
  support::TempDir dir;
  const auto net = moments_net();
  const fs::path file = dir.path / "good.pnm";
  pn::io::save_moments(moments_of(net, 0, 300, false), net, file);
  const auto bytes = support::read_bytes(file);
  const auto expect = [&](std::vector<char> b, const std::string& message) {
    support::write_bytes(dir.path / "bad.pnm", std::move(b), true);
    CHECK_THROWS_AS((void)pn::io::load_moments(dir.path / "bad.pnm", net), pn::FormatError);
    CHECK_THROWS_WITH((void)pn::io::load_moments(dir.path / "bad.pnm", net), Contains(message));
  };
  const auto put_double = [](std::vector<char>& b, std::size_t at, double v) { std::memcpy(b.data() + at, &v, 8); };
  SECTION("bad magic") {
    auto b = bytes;
    b[2] = 'X';
    expect(b, "not a patternnet moments file (bad magic)");
  }
  SECTION("a NaN mean") {
    auto b = bytes;
    put_double(b, 65 + 16, std::numeric_limits<double>::quiet_NaN());  // positive.mean_x(0, 0) of layer 0
    expect(b, "byte 81: regime input means holds NaN or Inf");
  }
  SECTION("regime counts that do not add up") {
    auto b = bytes;
    double n = 0;
    std::memcpy(&n, b.data() + 65, 8);
    put_double(b, 65, n + 1);
    expect(b, "the regime counts of layer 0 do not add up to its count 4800");
  }
  SECTION("an invalid covariance flag") {
    auto b = bytes;
    b[56] = 2;
    expect(b, "byte 56: invalid input covariance flag 2");
  }
  SECTION("a record cut short, with a valid checksum") {
    std::vector<char> b(bytes.begin(), bytes.begin() + 200);
    b.resize(208);
    expect(b, "truncated: the record of layer 0 needs 672 bytes, 143 are left");
  }
  SECTION("bytes after the last record") {
    auto b = bytes;
    b.insert(b.end() - 8, 8, '\0');
    expect(b, "unexpected bytes after the last record");
  }
  SECTION("the moments of another architecture with the same weight shapes") {
    const auto other = moments_net(4);  // padding 1 on 4 x 4: the same 4 x 4 conv output
    CHECK_THROWS_AS((void)pn::io::load_moments(file, other), pn::ShapeError);
    CHECK_THROWS_WITH((void)pn::io::load_moments(file, other), Contains("holds the moments of another network"));
  }
}
