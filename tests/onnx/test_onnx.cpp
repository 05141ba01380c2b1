// ONNX import against PyTorch: the fixtures of tests/data/onnx (make_fixtures.py) hold
// each model, an input batch, PyTorch's output and the input gradient of every sample's
// top logit.
#include "files.hpp"
#include "onnx/pytorch_reference.hpp"
#include "support.hpp"

#include <patternnet/io/npy.hpp>
#include <patternnet/io/onnx.hpp>
#include <patternnet/patternnet.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

namespace {

const std::string kDir = std::string(PATTERNNET_TEST_DATA) + "/onnx/";

/// Loads fixture `name`, checks its forward output and input gradient against PyTorch's.
template <class T>
pn::Graph<T> check_against_pytorch(const std::string& name, double tolerance, pn::io::OnnxOptions options = {}) {
  INFO(name);
  const auto net = pn::io::load_onnx<T>(kDir + name + ".onnx", options);
  const auto x = pn::io::load_npy<T>(kDir + name + ".input.npy");
  const auto logits = pn::io::load_npy<T>(kDir + name + ".logits.npy");
  const auto grad = pn::io::load_npy<T>(kDir + name + ".grad.npy");
  CHECK(net.input_shape() == x.shape);
  const auto out = net.forward(x);
  CHECK(out.shape.size() == logits.shape.size());
  CHECK(support::scaled_error(out.data, logits.data) <= tolerance);
  const auto e = pn::explain(net, pn::rules::Gradient{}, x);
  CHECK(support::scaled_error(e.attribution.data, grad.data) <= tolerance);
  return net;
}

template <class L, class T>
pn::Index count(const pn::Graph<T>& net) {
  pn::Index k = 0;
  for (pn::Index n = 0; n < net.size(); ++n) k += std::holds_alternative<L>(net.layer(n)) ? 1 : 0;
  return k;
}

template <class E>
void expect_error(const std::string& file, const std::string& needle) {
  INFO(file);
  try {
    (void)pn::io::load_onnx<float>(kDir + file);
    FAIL("no exception");
  } catch (const E& e) {
    CHECK_THAT(e.what(), Catch::Contains(needle));
  }
}

}  // namespace

TEST_CASE("ONNX: a chain (Conv, MaxPool, the Shape/Gather/Unsqueeze/Concat/Reshape of view(), Gemm, Softmax) "
          "matches PyTorch at opsets 11 and 17") {
  for (const char* name : {"chain_opset11", "chain_opset17"}) {
    const auto net = check_against_pytorch<float>(name, 1e-5);
    CHECK(net.size() == 10);  // conv relu pool conv relu flatten gemm relu gemm softmax
    CHECK(net.name(0) == "/conv1/Conv");
    CHECK(std::holds_alternative<pn::Softmax<float>>(net.layer(net.size() - 1)));
    CHECK(count<pn::Flatten<float>>(net) == 1);
  }
}

TEST_CASE("ONNX: a residual network (BatchNormalization, Add, AveragePool and MaxPool with ceil_mode, "
          "GlobalAveragePool) matches PyTorch, with its BatchNorms folded or kept") {
  const auto folded = check_against_pytorch<float>("residual", 1e-5);
  CHECK(count<pn::BatchNorm2D<float>>(folded) == 0);
  CHECK(count<pn::Add<float>>(folded) == 1);
  CHECK(folded.get<pn::MaxPool2D<float>>(folded.find("/maxp/MaxPool")).ceil_mode());
  const auto& avg = folded.get<pn::AvgPool2D<float>>(folded.find("/avg/AveragePool"));
  CHECK(avg.ceil_mode());
  CHECK_FALSE(avg.count_include_pad());
  pn::io::OnnxOptions keep;
  keep.fold_batch_norm = false;
  const auto kept = check_against_pytorch<float>("residual", 1e-5, keep);
  CHECK(count<pn::BatchNorm2D<float>>(kept) == 4);
  CHECK(kept.size() == folded.size() + 4);
}

TEST_CASE("ONNX: a float64 model with Concat (one input read twice), a BatchNorm after it, MatMul + Add "
          "matches PyTorch to 1e-12") {
  const auto net = check_against_pytorch<double>("concat_f64", 1e-12);
  CHECK(count<pn::BatchNorm2D<double>>(net) == 1);  // after a Concat: not foldable
  CHECK(count<pn::Concat<double>>(net) == 1);
  const auto& head = net.get<pn::Dense<double>>(net.size() - 1);  // MatMul with the Add as its bias
  CHECK(head.has_bias());
  CHECK(head.out_features() == 3);
}

TEST_CASE("ONNX: Gemm with transB = 0, alpha and beta, Conv with auto_pad SAME_UPPER, Identity and Dropout") {
  const auto net = check_against_pytorch<float>("handmade", 1e-5);
  CHECK(net.size() == 4);  // conv relu flatten gemm: Identity, Dropout and Constant leave no node
  CHECK(net.get<pn::Conv2D<float>>(0).padding().h == 1);
}

TEST_CASE("ONNX: a float model loads as double too") {
  const auto net = pn::io::load_onnx<double>(kDir + "chain_opset17.onnx");
  const auto x = pn::io::load_npy<double>(kDir + "chain_opset17.input.npy");
  const auto logits = pn::io::load_npy<double>(kDir + "chain_opset17.logits.npy");
  CHECK(support::scaled_error(net.forward(x).data, logits.data) <= 1e-5);
}

TEST_CASE("ONNX: unsupported models give one ConfigError naming the node and what is wrong") {
  expect_error<pn::ConfigError>("bad_group.onnx", "node 0 'grouped' (Conv): attribute group = 2 is not supported");
  expect_error<pn::ConfigError>("bad_op.onnx", "node 0 'squash' (Sigmoid): the op is not supported; supported: Conv, Gemm");
  expect_error<pn::ConfigError>("bad_two_inputs.onnx", "the graph has a second input 'other'");
  expect_error<pn::ConfigError>("bad_weight.onnx",
                                "node 1 'conv' (Conv): the weight (input 1, 'wr') is computed at run time");
  expect_error<pn::ConfigError>("bad_shape.onnx", "dimension 2 of the input 'input' is symbolic ('H')");
  expect_error<pn::ConfigError>("bad_opset.onnx", "opset 9 is not supported (11 to 17 are");
  expect_error<pn::ConfigError>("bad_pads.onnx", "node 0 'conv' (Conv): pads [0, 0, 1, 1] are asymmetric");
}

TEST_CASE("ONNX: malformed files give a FormatError or Error naming the file") {
  const support::TempDir dir;
  const auto bytes = support::read_bytes(kDir + "residual.onnx");
  const auto truncated = dir.path / "truncated.onnx";
  support::write_bytes(truncated, std::vector<char>(bytes.begin(), bytes.begin() + static_cast<long>(bytes.size() / 2)), false);
  CHECK_THROWS_MATCHES(pn::io::load_onnx<float>(truncated), pn::FormatError,
                       Catch::Message("ONNX model '" + truncated.string() +
                                      "': not a valid ONNX protobuf (truncated or corrupt)"));
  const auto empty = dir.path / "empty.onnx";
  support::write_bytes(empty, {}, false);
  CHECK_THROWS_MATCHES(pn::io::load_onnx<float>(empty), pn::FormatError,
                       Catch::Message("ONNX model '" + empty.string() + "': the model holds no graph"));
  CHECK_THROWS_MATCHES(pn::io::load_onnx<float>(dir.path), pn::Error,
                       Catch::Message("cannot read ONNX model '" + dir.path.string() + "': it is a directory"));
  CHECK_THROWS_AS(pn::io::load_onnx<float>(dir.path / "missing.onnx"), pn::Error);
  // from memory
  std::vector<std::byte> mem(bytes.size());
  std::memcpy(mem.data(), bytes.data(), bytes.size());
  const auto net = pn::io::load_onnx<float>(std::span<const std::byte>(mem));
  CHECK(net.input_shape() == pn::Shape{3, 15, 15});
}

TEST_CASE("ONNX: every input fuzz_onnx once found is rejected with the library's error (tests/fuzz/regressions/onnx)") {
  const auto dir = std::filesystem::path(PATTERNNET_TEST_DATA).parent_path() / "fuzz" / "regressions" / "onnx";
  pn::Index n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    INFO(entry.path().filename().string());
    CHECK_THROWS_AS(pn::io::load_onnx<float>(entry.path()), pn::Error);
    ++n;
  }
  CHECK(n >= 1);
  // A Shape node with its input deleted: protobuf's input(0) on an empty list was read.
  CHECK_THROWS_WITH(pn::io::load_onnx<float>(dir / "node-without-inputs"),
                    Catch::Contains("node 5 '/Shape' (Shape): input 0 is missing"));
}
