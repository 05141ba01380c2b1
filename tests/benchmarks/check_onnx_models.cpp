// Loads torchvision's vgg16, vgg16_bn, resnet18, resnet50, densenet121 and squeezenet1_1
// (exported by tests/data/onnx/make_fixtures.py --real DIR, random weights, 224 x 224) and
// compares the forward output and the input gradient of each sample's top logit with
// PyTorch's. Prints per model: load time, the errors relative to the reference's largest
// value, and the forward time of the same 2-image batch next to PyTorch's (one thread each
// when run with OMP_NUM_THREADS=1). --double imports and computes in double, and compares
// with PyTorch's float64 results (NAME.logits64.npy, NAME.grad64.npy) where they exist.
//
//   /usr/bin/python3 tests/data/onnx/make_fixtures.py --real /tmp/onnx-real
//   OMP_NUM_THREADS=1 build/bench/tests/benchmarks/check_onnx_models /tmp/onnx-real
#include <patternnet/io/npy.hpp>
#include <patternnet/io/onnx.hpp>
#include <patternnet/patternnet.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <type_traits>
#include <vector>

namespace pn = patternnet;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

template <class T>
double relative_error(const pn::Matrix<T>& a, const pn::Matrix<T>& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) return INFINITY;
  return static_cast<double>((a - b).cwiseAbs().maxCoeff()) / std::max(1e-30, static_cast<double>(b.cwiseAbs().maxCoeff()));
}

}  // namespace

template <class T>
int check(const std::filesystem::path& dir, std::vector<std::string> names) {
  if (names.empty()) names = {"vgg16", "vgg16_bn", "resnet18", "resnet50", "densenet121", "squeezenet1_1"};
  fmt::print("{:<14} {:>6} {:>7} {:>10} {:>10} {:>11} {:>11} {:>7}\n", "model", "nodes", "load s", "fwd err",
             "grad err", "fwd ms", "torch ms", "ratio");
  int failures = 0;
  for (const auto& name : names) {
    try {
      const auto base = dir / name;
      auto start = std::chrono::steady_clock::now();
      const auto net = pn::io::load_onnx<T>(base.string() + ".onnx");
      const double load = seconds_since(start);
      const auto x = pn::io::load_npy<T>(base.string() + ".input.npy");
      const std::string ref = std::is_same_v<T, double> && std::filesystem::exists(base.string() + ".logits64.npy") ? "64" : "";
      const auto logits = pn::io::load_npy<T>(base.string() + ".logits" + ref + ".npy");
      const auto grad = pn::io::load_npy<T>(base.string() + ".grad" + ref + ".npy");
      double best = INFINITY;
      pn::Batch<T> out;
      for (int run = 0; run < 3; ++run) {
        start = std::chrono::steady_clock::now();
        out = net.forward(x);
        best = std::min(best, seconds_since(start));
      }
      const auto e = pn::explain(net, pn::rules::Gradient{}, x);
      double torch_ms = NAN;
      std::ifstream(base.string() + ".torch.txt") >> torch_ms;
      const double fe = relative_error(out.data, logits.data), ge = relative_error(e.attribution.data, grad.data);
      fmt::print("{:<14} {:>6} {:>7.2f} {:>10.2e} {:>10.2e} {:>11.1f} {:>11.1f} {:>7.2f}{}\n", name, net.size(), load, fe, ge,
                 best * 1e3, torch_ms, torch_ms / (best * 1e3), ref.empty() ? "" : "  (vs PyTorch in float64)");
      if (!(fe <= 1e-4 && ge <= 1e-4)) ++failures;
    } catch (const std::exception& err) {
      fmt::print("{:<14} failed: {}\n", name, err.what());
      ++failures;
    }
  }
  fmt::print("(errors: max |ours - PyTorch's| / max |PyTorch's|; ratio: PyTorch's time / ours, > 1 = faster)\n");
  return failures == 0 ? 0 : 1;
}

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const bool in_double = !args.empty() && args[0] == "--double";
  if (in_double) args.erase(args.begin());
  if (args.empty()) {
    fmt::print(stderr, "usage: {} [--double] DIR [MODEL...]   (DIR from make_fixtures.py --real DIR)\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = args[0];
  args.erase(args.begin());
  return in_double ? check<double>(dir, args) : check<float>(dir, args);
}
