#include "files.hpp"
#include "support.hpp"

#include <patternnet/io/pattern_file.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <limits>

namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

template <class T>
pn::Sequential<T> net_a() {
  pn::Sequential<T> net{pn::Conv2D<T>(1, 2, 3), pn::ReLU<T>{}, pn::Flatten<T>{}, pn::Dense<T>(2 * 4 * 4, 3)};
  net.set_input_shape({1, 6, 6});
  support::randomize(net, 1);
  return net;
}

template <class T>
pn::Patterns<T> fitted(const pn::Sequential<T>& net) {
  static const pn::Batch<T> data({1, 6, 6}, support::random_matrix<T>(36, 300, 2));
  return pn::fit_patterns<pn::estimators::TwoComponent>(net, pn::batches(data, 100));
}

using support::read_bytes;
using support::TempDir;
using support::write_bytes;

}  // namespace

TEST_CASE("pattern files round-trip bit-exactly (float and double, every kind)") {
  TempDir dir;
  const auto netd = net_a<double>();
  const auto two = fitted(netd);
  pn::io::save_patterns(two, dir.path / "two.pnp");
  CHECK(pn::io::load_patterns(dir.path / "two.pnp", netd) == two);
  for (const auto& p : {pn::fit_patterns<pn::estimators::Identity>(netd), pn::fit_patterns<pn::estimators::Filter>(netd)}) {
    pn::io::save_patterns(p, dir.path / "p.pnp");
    CHECK(pn::io::load_patterns(dir.path / "p.pnp", netd) == p);
  }
  const auto netf = net_a<float>();
  const auto twof = fitted(netf);
  pn::io::save_patterns(twof, dir.path / "f.pnp");
  const auto back = pn::io::load_patterns(dir.path / "f.pnp", netf);
  CHECK(back == twof);
  CHECK(back.estimator() == "S_a+-");
  CHECK(back.architecture() == netf.architecture_fingerprint());
  CHECK(back.architecture() != 0);
  // 8 magic + 4 version + 4 scalar + 4+5 name + 8 fingerprint + 4 count + 2 records + 8 checksum
  const auto expected = 8 + 4 + 4 + 9 + 8 + 4 + 2 * (8 + 4 + 16) + 4 * (2 * 9 + 3 * 32) * 2 + 8;
  CHECK(fs::file_size(dir.path / "f.pnp") == static_cast<std::uintmax_t>(expected));
}

TEST_CASE("corrupt pattern files throw the documented error and leave the caller's patterns alone") {
  TempDir dir;
  const auto net = net_a<double>();
  const auto good = fitted(net);
  const fs::path file = dir.path / "good.pnp";
  pn::io::save_patterns(good, file);
  const auto bytes = read_bytes(file);
  pn::Patterns<double> held = pn::fit_patterns<pn::estimators::Filter>(net);
  const pn::Patterns<double> before = held;
  auto expect = [&](const std::vector<char>& b, bool fix, const std::string& message) {
    write_bytes(dir.path / "bad.pnp", b, fix);
    CHECK_THROWS_AS(held = pn::io::load_patterns(dir.path / "bad.pnp", net), pn::FormatError);
    CHECK_THROWS_WITH(held = pn::io::load_patterns(dir.path / "bad.pnp", net), Contains(message));
    CHECK(held == before);
  };
  SECTION("truncated") { expect({bytes.begin(), bytes.end() - 100}, false, "checksum mismatch"); }
  SECTION("truncated to almost nothing") { expect({bytes.begin(), bytes.begin() + 5}, false, "truncated"); }
  SECTION("flipped payload byte") {
    auto b = bytes;
    b[200] ^= 0x40;
    expect(b, false, "checksum mismatch");
  }
  SECTION("wrong magic") {
    auto b = bytes;
    b[0] = 'X';
    expect(b, true, "not a patternnet pattern file (bad magic)");
  }
  SECTION("wrong version") {
    auto b = bytes;
    b[8] = 7;
    expect(b, true, "format version 7 is not supported (this build reads versions 1 to 2)");
    b[8] = 0;
    expect(b, true, "format version 0 is not supported");
  }
  SECTION("truncated records with a valid checksum") {
    std::vector<char> b(bytes.begin(), bytes.end() - 108);
    b.resize(b.size() + 8);
    expect(b, true, "truncated while reading pattern values");
  }
  SECTION("wrong scalar type") {
    pn::io::save_patterns(good.cast<float>(), dir.path / "f.pnp");
    CHECK_THROWS_WITH(held = pn::io::load_patterns(dir.path / "f.pnp", net),
                      Contains("the file holds 4-byte scalars, the network uses 8-byte scalars"));
    CHECK(held == before);
  }
}

TEST_CASE("pattern files that do not fit the network throw ShapeError naming the layer") {
  TempDir dir;
  const auto net = net_a<double>();
  pn::io::save_patterns(fitted(net), dir.path / "p.pnp");
  pn::Sequential<double> other{pn::Conv2D<double>(1, 3, 3), pn::ReLU<double>{}, pn::Flatten<double>{}, pn::Dense<double>(3 * 4 * 4, 3)};
  other.set_input_shape({1, 6, 6});
  CHECK_THROWS_WITH(pn::io::load_patterns(dir.path / "p.pnp", other),
                    Contains("has 2x9 patterns for layer 0 (Conv2D), whose weight is 3x9"));
  pn::Sequential<double> deeper{pn::Conv2D<double>(1, 2, 3), pn::ReLU<double>{}, pn::Flatten<double>{}, pn::Dense<double>(32, 3),
                                pn::ReLU<double>{}, pn::Dense<double>(3, 2)};
  deeper.set_input_shape({1, 6, 6});
  CHECK_THROWS_WITH(pn::io::load_patterns(dir.path / "p.pnp", deeper), Contains("no patterns for layer 5 (Dense)"));
  pn::Sequential<double> shifted{pn::ReLU<double>{}, pn::Conv2D<double>(1, 2, 3), pn::Flatten<double>{}, pn::Dense<double>(32, 3)};
  shifted.set_input_shape({1, 6, 6});
  CHECK_THROWS_WITH(pn::io::load_patterns(dir.path / "p.pnp", shifted), Contains("layer 0 (ReLU), which has no weights"));
}

TEST_CASE("patterns of another architecture with the same weight shapes are recognised by the fingerprint") {
  TempDir dir;
  const auto net = net_a<double>();
  const auto patterns = fitted(net);
  pn::io::save_patterns(patterns, dir.path / "p.pnp");
  // Stride 2 and padding 1 on an 8x8 input: the same 2x9 and 3x32 weights, another network.
  pn::Sequential<double> strided{pn::Conv2D<double>(1, 2, 3, pn::Stride{2}, pn::Padding{1}), pn::ReLU<double>{},
                                 pn::Flatten<double>{}, pn::Dense<double>(32, 3)};
  strided.set_input_shape({1, 8, 8});
  CHECK(strided.architecture_fingerprint() != net.architecture_fingerprint());
  CHECK_THROWS_AS(pn::io::load_patterns(dir.path / "p.pnp", strided), pn::ShapeError);
  CHECK_THROWS_WITH(pn::io::load_patterns(dir.path / "p.pnp", strided),
                    Contains("holds patterns of another network: every record fits a weight, but its architecture fingerprint is 0x") &&
                        Contains(fmt::format("and this network's is {:#018x}", strided.architecture_fingerprint())));
  // The fingerprint ignores weights and names, and a graph built as a chain has the chain's.
  auto reweighted = net;
  support::randomize(reweighted, 99);
  CHECK(reweighted.architecture_fingerprint() == net.architecture_fingerprint());
  CHECK(pn::io::load_patterns(dir.path / "p.pnp", reweighted) == patterns);
  // A version 1 file (no fingerprint) still loads, with the architecture unknown.
  auto v1 = read_bytes(dir.path / "p.pnp");
  const std::size_t fingerprint_at = 8 + 4 + 4 + 4 + 5;  // after the name "S_a+-"
  v1.erase(v1.begin() + fingerprint_at, v1.begin() + fingerprint_at + 8);
  v1[8] = 1;
  write_bytes(dir.path / "v1.pnp", v1, true);
  const auto old = pn::io::load_patterns(dir.path / "v1.pnp", net);
  CHECK(old == patterns);
  CHECK(old.architecture() == 0);
  CHECK(pn::io::load_patterns(dir.path / "v1.pnp", strided).architecture() == 0);  // nothing to compare with
}

TEST_CASE("a failed save leaves the previous file and no temporary behind") {
  TempDir dir;
  const auto net = net_a<double>();
  const auto p = fitted(net);
  fs::create_directories(dir.path / "occupied.pnp");  // a directory where the file should go
  CHECK_THROWS_AS(pn::io::save_patterns(p, dir.path / "occupied.pnp"), pn::Error);
  CHECK_THROWS_AS(pn::io::save_patterns(p, dir.path / "missing" / "p.pnp"), pn::Error);
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator{}) == 1);
  pn::io::save_patterns(p, dir.path / "p.pnp");
  pn::io::save_patterns(pn::fit_patterns<pn::estimators::Filter>(net), dir.path / "p.pnp");  // replace
  CHECK(pn::io::load_patterns(dir.path / "p.pnp", net).estimator() == "S_w");
}

TEST_CASE("save_patterns refuses an incomplete or non-finite record, and writes nothing") {
  support::TempDir dir;
  const auto net = net_a<double>();
  const pn::Patterns<double> good = fitted(net);
  REQUIRE(good.layers().size() == 2);
  REQUIRE(good.layers()[0].kind == pn::PatternKind::two_component);

  auto layers = good.layers();
  layers[0].a_neg.resize(0, 0);  // two-component without a-
  CHECK_THROWS_WITH(pn::io::save_patterns(pn::Patterns<double>("S_a+-", layers), dir.path / "p.pnp"),
                    Contains("save_patterns(): the record of layer 0 is incomplete (kind 2, a 2x9, a_neg 0x0)"));
  layers = good.layers();
  layers[1].a(2, 5) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(pn::io::save_patterns(pn::Patterns<double>("S_a+-", layers), dir.path / "p.pnp"),
                    Contains("save_patterns(): layer 3 has NaN or Inf pattern values; nothing was written"));
  CHECK(!fs::exists(dir.path / "p.pnp"));
  pn::io::save_patterns(good, dir.path / "p.pnp");  // the complete record saves and loads
  CHECK(pn::io::load_patterns(dir.path / "p.pnp", net).layers()[1].a == good.layers()[1].a);
}
