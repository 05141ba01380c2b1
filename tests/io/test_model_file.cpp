#include "files.hpp"
#include "support.hpp"

#include <patternnet/io/model_file.hpp>
#include <patternnet/io/pattern_file.hpp>

#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <variant>

namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

using support::read_bytes;
using support::TempDir;
using support::write_bytes;

template <class V>
void poke(std::vector<char>& b, std::size_t offset, V value) {
  std::memcpy(b.data() + offset, &value, sizeof(V));
}

/// Bit-exact equality of two networks: layer descriptions, weights, biases, input shape.
template <class T>
bool identical(const pn::Graph<T>& a, const pn::Graph<T>& b) {
  if (a.size() != b.size() || a.ready() != b.ready()) return false;
  if (a.ready() && !(a.input_shape() == b.input_shape())) return false;
  for (pn::Index l = 0; l < a.size(); ++l) {
    if (pn::describe(a.layer(l)) != pn::describe(b.layer(l))) return false;
    const bool same = std::visit(
        [&](const auto& la) {
          using L = std::decay_t<decltype(la)>;
          if constexpr (pn::LinearLayer<L>) {
            const auto& lb = std::get<L>(b.layer(l));
            return la.weight() == lb.weight() && la.bias().size() == lb.bias().size() &&
                   (la.bias().array() == lb.bias().array()).all();
          } else {
            return true;
          }
        },
        a.layer(l));
    if (!same) return false;
  }
  return true;
}

// Node 0 of support::mixed_net's file starts at offset 44: its name (u32 length 0), its
// inputs (u32 count 1, i64 -1), then the layer, Conv2D(2->3, 3x3, same, dilation 2): the tag
// (u32), then in, out, kh, kw, sh, sw, dh, dw, ph, pw (i64 each).
constexpr std::size_t kFirstNode = 8 + 4 + 4 + 24 + 4;
constexpr std::size_t kFirstLayer = kFirstNode + 4 + 4 + 8;

}  // namespace

TEST_CASE("model files round-trip bit-exactly (every layer type and option, float and double)") {
  TempDir dir;
  const auto net = support::mixed_net<double>(3);
  pn::io::save_model(net, dir.path / "m.pnm");
  const auto back = pn::io::load_model<double>(dir.path / "m.pnm");
  CHECK(identical(net, back));
  REQUIRE(back.ready());
  const pn::Batch<double> x({2, 9, 8}, support::random_matrix<double>(144, 5, 4));
  CHECK(back.forward(x).data == net.forward(x).data);

  // no bias, unbound, float
  pn::Sequential<float> small{pn::Conv2D<float>(1, 2, pn::Kernel{2, 3}, pn::Stride{2, 1}, pn::Padding{1, 0}, pn::Bias{false}),
                              pn::MaxPool2D<float>(pn::Kernel{2}, pn::Stride{1}, pn::Padding{1}), pn::Flatten<float>{},
                              pn::Dense<float>(2 * 4 * 4, 3, pn::Bias{false})};
  support::randomize(small, 5);
  pn::io::save_model(small, dir.path / "s.pnm");
  const auto small_back = pn::io::load_model<float>(dir.path / "s.pnm");
  CHECK_FALSE(small_back.ready());
  CHECK(identical(small, small_back));
  // 8 magic + 4 version + 4 scalar + 24 shape + 4 count + per node 16 (empty name, one
  // input) + conv (4 + 80 + 2 + 2*6 floats) + pool (4 + 48 + 1 ceil_mode) + flatten 4 + dense (4 + 16 + 1
  // + 96 floats) + 8 checksum
  const auto expected =
      8 + 4 + 4 + 24 + 4 + 4 * 16 + (4 + 80 + 2 + 4 * 12) + (4 + 48 + 1) + 4 + (4 + 16 + 1 + 4 * 96) + 8;
  CHECK(fs::file_size(dir.path / "s.pnm") == static_cast<std::uintmax_t>(expected));
}

TEST_CASE("corrupt model files throw FormatError and leave the caller's network untouched") {
  TempDir dir;
  const fs::path file = dir.path / "good.pnm", bad = dir.path / "bad.pnm";
  pn::io::save_model(support::mixed_net<double>(3), file);
  const auto bytes = read_bytes(file);
  pn::Sequential<double> held = support::mixed_net<double>(8);
  const pn::Sequential<double> before = held;
  auto expect = [&](std::vector<char> b, bool fix, const std::string& message) {
    write_bytes(bad, std::move(b), fix);
    CHECK_THROWS_AS(held = pn::io::load_model<double>(bad), pn::FormatError);
    CHECK_THROWS_WITH(held = pn::io::load_model<double>(bad), Contains("model file '" + bad.string() + "'") && Contains(message));
    CHECK(identical(held, before));
  };
  SECTION("truncated") {
    expect({bytes.begin(), bytes.end() - 100}, false, "byte " + std::to_string(bytes.size() - 108) + ": checksum mismatch");
  }
  SECTION("truncated to almost nothing") { expect({bytes.begin(), bytes.begin() + 5}, false, "truncated"); }
  SECTION("flipped byte") {
    auto b = bytes;
    b[300] ^= 0x10;
    expect(b, false, "checksum mismatch");
  }
  SECTION("wrong magic") {
    auto b = bytes;
    b[0] = 'X';
    expect(b, true, "not a patternnet model file (bad magic)");
  }
  SECTION("wrong version") {
    auto b = bytes;
    poke<std::uint32_t>(b, 8, 7);
    expect(b, true, "byte 8: format version 7 is not supported (this build reads versions 1 to 3)");
  }
  SECTION("unknown layer type") {
    auto b = bytes;
    poke<std::uint32_t>(b, kFirstLayer, 99);
    expect(b, true, "byte " + std::to_string(kFirstLayer) + ": layer 0 has unknown type 99");
  }
  SECTION("a node reading a later node") {
    auto b = bytes;
    poke<std::int64_t>(b, kFirstNode + 8, 3);
    expect(b, true, "layer 0: Graph::add(): node 0 (Conv2D) reads node 3, which is not an earlier node");
  }
  SECTION("more inputs than the file has bytes") {
    auto b = bytes;
    poke<std::uint32_t>(b, kFirstNode + 4, 0x7fffffff);
    expect(b, true, "byte " + std::to_string(kFirstNode + 4) + ": truncated: layer 0 has 2147483647 inputs");
  }
  SECTION("a name longer than the file") {
    auto b = bytes;
    poke<std::uint32_t>(b, kFirstNode, 0x7fffffff);
    expect(b, true, "truncated: a node name has 2147483647 bytes");
  }
  SECTION("invalid hyper-parameter") {
    auto b = bytes;
    poke<std::int64_t>(b, kFirstLayer + 4 + 16, 0);  // kernel height
    expect(b, true, "layer 0: the kernel height is 0, expected 1..");
  }
  SECTION("a size larger than the file") {
    auto b = bytes;
    poke<std::int64_t>(b, kFirstLayer + 4 + 8, std::int64_t{1} << 30);  // output channels
    expect(b, true, "truncated: layer 0 needs");
  }
  SECTION("channels that do not fit the stored input shape") {
    auto b = bytes;
    poke<std::int64_t>(b, 16, 5);  // input channels 2 -> 5
    expect(b, true, "the layers do not fit the stored input shape [5, 9, 8]");
  }
  SECTION("non-finite weight") {
    auto b = bytes;
    poke<double>(b, kFirstLayer + 4 + 80 + 2, std::numeric_limits<double>::quiet_NaN());
    expect(b, true, "layer 0 has non-finite weights");
  }
  SECTION("trailing bytes") {
    auto b = bytes;
    b.insert(b.end() - 8, 4, '\0');
    expect(b, true, "unexpected bytes after the last layer");
  }
  SECTION("another scalar type") {
    pn::io::save_model(support::mixed_net<float>(3), bad);
    CHECK_THROWS_WITH(held = pn::io::load_model<double>(bad),
                      Contains("the file holds 4-byte scalars, the network uses 8-byte scalars"));
    CHECK(identical(held, before));
  }
  SECTION("a pattern file") {
    const auto net = support::mixed_net<double>(3);
    pn::io::save_patterns(pn::fit_patterns<pn::estimators::Filter>(net), bad);
    CHECK_THROWS_WITH(held = pn::io::load_model<double>(bad), Contains("not a patternnet model file (bad magic)"));
    CHECK(identical(held, before));
  }
}

TEST_CASE("load_weights fills a network of the same architecture, and rejects another one untouched") {
  TempDir dir;
  const fs::path file = dir.path / "m.pnm";
  const auto source = support::mixed_net<double>(3);
  pn::io::save_model(source, file);
  auto target = support::mixed_net<double>(9);
  REQUIRE_FALSE(identical(target, source));
  pn::io::load_weights(file, target);
  CHECK(identical(target, source));

  pn::Sequential<double> wider{pn::Conv2D<double>(2, 4, 3, pn::Padding::same(), pn::Dilation{2}), pn::ReLU<double>{}};
  wider.set_input_shape({2, 9, 8});
  const auto wider_before = wider;
  CHECK_THROWS_WITH(pn::io::load_weights(file, wider), Contains("holds 10 layers, the network has 2"));
  wider.add(pn::MaxPool2D<double>(2));
  for (int i = 0; i < 7; ++i) wider.add(pn::ReLU<double>{});
  CHECK_THROWS_AS(pn::io::load_weights(file, wider), pn::ShapeError);
  CHECK_THROWS_WITH(pn::io::load_weights(file, wider),
                    Contains("layer 0 of '" + file.string() +
                             "' is Conv2D(2 -> 3, kernel 3x3, stride 1x1, padding same, dilation 2x2, bias), the "
                             "network's is Conv2D(2 -> 4,"));
  CHECK(std::get<pn::Conv2D<double>>(wider.layer(0)).weight() == std::get<pn::Conv2D<double>>(wider_before.layer(0)).weight());

  auto rebound = support::mixed_net<double>(9);
  rebound.set_input_shape({2, 8, 8});
  CHECK_THROWS_WITH(pn::io::load_weights(file, rebound),
                    Contains("was saved for input shape [2, 9, 8], the network is bound to [2, 8, 8]"));
}

TEST_CASE("a failed model save leaves the previous file and no temporary behind") {
  TempDir dir;
  const auto net = support::mixed_net<float>(1);
  fs::create_directories(dir.path / "occupied.pnm");
  CHECK_THROWS_AS(pn::io::save_model(net, dir.path / "occupied.pnm"), pn::Error);
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator{}) == 1);
  pn::io::save_model(net, dir.path / "m.pnm");
  pn::io::save_model(support::mixed_net<float>(2), dir.path / "m.pnm");  // replace
  CHECK(identical(pn::io::load_model<float>(dir.path / "m.pnm"), support::mixed_net<float>(2)));
}

TEST_CASE("saving keeps the replaced file's mode, refuses read-only files and directories, and follows links") {
  TempDir dir;
  const auto net = support::mixed_net<float>(1);
  const fs::path m = dir.path / "m.pnm";
  pn::io::save_model(net, m);
  fs::permissions(m, fs::perms::owner_read | fs::perms::owner_write);  // 0600
  pn::io::save_model(support::mixed_net<float>(2), m);
  CHECK(fs::status(m).permissions() == (fs::perms::owner_read | fs::perms::owner_write));
  CHECK(identical(pn::io::load_model<float>(m), support::mixed_net<float>(2)));

  // Read-only (0444): refused, the file and its contents stay, no temporary is left.
  fs::permissions(m, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  const auto before = read_bytes(m);
  CHECK_THROWS_WITH(pn::io::save_model(net, m), Contains("the file is read-only (it was left as it is)"));
  CHECK(read_bytes(m) == before);
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator{}) == 1);
  fs::permissions(m, fs::perms::owner_read | fs::perms::owner_write);

  // A symbolic link: the file it points to is replaced, the link stays a link.
  const fs::path link = dir.path / "link.pnm";
  fs::create_symlink(m, link);
  pn::io::save_model(support::mixed_net<float>(3), link);
  CHECK(fs::is_symlink(fs::symlink_status(link)));
  CHECK(identical(pn::io::load_model<float>(m), support::mixed_net<float>(3)));

  // Directories: neither written nor read, each a patternnet::Error naming the path.
  CHECK_THROWS_WITH(pn::io::save_model(net, dir.path), Contains("it is a directory"));
  CHECK_THROWS_WITH(pn::io::load_model<float>(dir.path), Contains("cannot read model file '" + dir.path.string() + "': it is a directory"));
}

TEST_CASE("save_model refuses what load_model would reject, and writes nothing") {
  TempDir dir;
  auto net = support::mixed_net<float>(1);
  REQUIRE(std::holds_alternative<pn::Conv2D<float>>(net.layer(0)));
  net.get<pn::Conv2D<float>>(0).weight()(1, 2) = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_WITH(pn::io::save_model(net, dir.path / "nan.pnm"),
                    Contains("save_model(): layer 0 (Conv2D) has NaN or Inf weights; nothing was written"));
  // A flat input of 70 000 features is stored as 70 000 channels (allowed); as 70 000
  // columns it cannot be stored.
  pn::Sequential<float> wide{pn::Dense<float>{70000, 2}};
  wide.set_input_shape({70000, 1, 1});
  pn::io::save_model(wide, dir.path / "wide.pnm");
  CHECK(pn::io::load_model<float>(dir.path / "wide.pnm").input_shape() == pn::Shape{70000, 1, 1});
  wide.set_input_shape({1, 1, 70000});
  CHECK_THROWS_WITH(pn::io::save_model(wide, dir.path / "long.pnm"),
                    Contains("save_model(): the input shape [1, 1, 70000] cannot be stored"));
  CHECK(!fs::exists(dir.path / "nan.pnm"));
  CHECK(!fs::exists(dir.path / "long.pnm"));
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator{}) == 1);
}
