// Explanations on real images: the paper's Fig. 5 at small scale (Kindermans et al. 2018).
//
// Trains (or loads from the cache) a VGG-style CNN on Fashion-MNIST, fits the S_a+- and S_a
// patterns on the training set in one pass, explains ten test images (the first of each
// class) with every method of the library, and writes one grid: rows = images, columns =
// methods, signals in input colours and attributions as heat maps.
//
// Usage: fashion_mnist [output directory] [--data DIR] [--cache DIR] [--retrain]
//                      [--pattern-samples N]
//   output directory   where fashion_mnist.svg is written (default ".")
//   --data DIR         the Fashion-MNIST files (default $PATTERNNET_FASHION_MNIST_DIR, else
//                      /usr/share/datasets/fashion-mnist: apt-get install dataset-fashion-mnist)
//   --cache DIR        the trained model's cache (see support/fashion_mnist.hpp)
//   --retrain          train even if a cached model exists
//   --pattern-samples  fit the patterns on the first N training images (default: all 60000)
//
// Run time and accuracy: see docs/fashion-mnist.md.

#include <patternnet/io/image_grid.hpp>
#include <patternnet/patternnet.hpp>

#include "support/explanation_grid.hpp"
#include "support/fashion_mnist.hpp"
#include "support/progress.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace pn = patternnet;
namespace est = pn::estimators;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

using examples::column;
using examples::Method;

struct Arguments {
  std::filesystem::path out = ".", data, cache;
  bool retrain = false;
  pn::Index pattern_samples = 0;  // 0 = all
};

Arguments parse(int argc, char** argv) {
  Arguments a;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw pn::ConfigError(fmt::format("{} needs a value", arg));
      return argv[++i];
    };
    if (arg == "--data") a.data = value();
    else if (arg == "--cache") a.cache = value();
    else if (arg == "--retrain") a.retrain = true;
    else if (arg == "--pattern-samples") a.pattern_samples = std::stol(value());
    else if (!arg.empty() && arg[0] == '-') throw pn::ConfigError(fmt::format("unknown option {}", arg));
    else a.out = arg;
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) try {
  const auto start = Clock::now();
  const Arguments args = parse(argc, argv);
  std::filesystem::create_directories(args.out);

  // ---- Data and model ----------------------------------------------------------------
  auto t = Clock::now();
  const examples::FashionMnist data = examples::load_fashion_mnist(args.data);
  fmt::print("Fashion-MNIST from {}: {} training and {} test images ({:.1f} s)\n",
             pn::io::fashion_mnist_directory(args.data).string(), data.train.images.size(), data.test.images.size(),
             since(t));
  const examples::ReferenceModel model = examples::load_or_train_reference_cnn(data.train, args.cache, args.retrain);
  const pn::Sequential<float>& net = model.net;
  if (model.trained) {
    fmt::print("Trained in {:.0f} s; cached as {}\n", model.train_seconds, model.file.string());
  } else {
    fmt::print("Loaded the cached model {} (delete it or pass --retrain to train again)\n", model.file.string());
  }
  fmt::print("{}", pn::summary(net));
  t = Clock::now();
  const double test_accuracy = pn::training::accuracy(net, data.test.images, data.test.labels, 32);
  fmt::print("Test accuracy: {:.2f} % on {} images ({:.1f} s)\n\n", 100 * test_accuracy, data.test.images.size(), since(t));

  // ---- Patterns: one pass over the training set gives S_a and S_a+- (cached) ---------
  const pn::Index n_fit = args.pattern_samples > 0 ? std::min(args.pattern_samples, data.train.images.size())
                                                   : data.train.images.size();
  const pn::Batch<float> fit_set(data.train.images.shape, pn::Matrix<float>(data.train.images.data.leftCols(n_fit)));
  const examples::ReferencePatterns patterns = examples::load_or_fit_patterns(model, fit_set);
  const pn::Patterns<float>& two_component = patterns.two_component;
  const pn::Patterns<float>& linear = patterns.linear;
  const auto filter = pn::fit_patterns<est::Filter>(net);
  const auto identity = pn::fit_patterns<est::Identity>(net);
  if (patterns.fitted) {
    fmt::print("Fitted S_a and S_a+- patterns on {} training images in {:.1f} s\n", n_fit, patterns.fit_seconds);
    using Reason = pn::DegenerateNeuron::Reason;
    const pn::FitReport& report = two_component.report();
    fmt::print("S_a+-: {} neurons never active on these images (dead ReLUs: a+ = 0), {} never inactive, {} with a "
               "degenerate denominator\n",
               report.count(Reason::never_positive), report.count(Reason::never_negative),
               report.count(Reason::tiny_denominator));
  } else {
    fmt::print("Loaded the cached S_a and S_a+- patterns (fitted on {} training images)\n", n_fit);
  }

  // ---- The images: the first test image of each class --------------------------------
  const std::vector<pn::Index> picked = examples::first_of_each_class(data.test);
  const pn::Batch<float> x = examples::gather(data.test, picked);
  const pn::Matrix<float> probabilities = net.forward(x).data;

  // ---- The methods: one column each. To add one, add a line. --------------------------
  using K = Method::Kind;
  pn::methods::SmoothGradOptions smooth;
  smooth.samples = 32;
  smooth.seed = 1;
  pn::methods::IntegratedGradientsOptions<float> integrated;
  integrated.steps = 32;
  const std::vector<Method> methods{
      column("Gradient", K::signal, net, pn::rules::Gradient{}),
      {"SmoothGrad", K::signal, [&](const auto& b) { return pn::methods::smoothgrad(net, b, pn::Target::argmax(), smooth).attribution; }},
      column("DeConvNet", K::signal, net, pn::rules::DeConvNet{}),
      column("Guided\nBackprop", K::signal, net, pn::rules::GuidedBackprop{}),
      column("PatternNet\nS_a+-", K::signal, net, pn::rules::PatternNet{two_component}),
      column("PatternNet\nS_a", K::signal, net, pn::rules::PatternNet{linear}),
      column("Input x\nGradient", K::heatmap, net, pn::rules::InputTimesGradient{}),
      {"Integrated\nGradients", K::heatmap,
       [&](const auto& b) { return pn::methods::integrated_gradients(net, b, pn::Target::argmax(), integrated).attribution; }},
      column("LRP\nε+ / flat", K::heatmap, net, pn::composites::EpsilonPlusFlat{}),
      column("Deep Taylor\nbox [0, 1]", K::heatmap, net, pn::composites::DeepTaylor{0.0, 1.0}),
      column("PatternAttr.\nS_x\n(= LRP-z)", K::heatmap, net, pn::rules::PatternAttribution{identity}),
      column("PatternAttr.\nS_w\n(= w² rule)", K::heatmap, net, pn::rules::PatternAttribution{filter}),
      column("PatternAttr.\nS_a", K::heatmap, net, pn::rules::PatternAttribution{linear}),
      column("PatternAttr.\nS_a+-", K::heatmap, net, pn::rules::PatternAttribution{two_component}),
  };

  t = Clock::now();
  std::vector<pn::Batch<float>> results;
  for (const Method& m : methods) results.push_back(m.explain(x));
  const double explain_seconds = since(t);

  // ---- The figure --------------------------------------------------------------------
  pn::io::ImageGrid grid = examples::explanation_grid("Fashion-MNIST: what the reference CNN sees in its predicted class",
                                                     data.test, picked, x, probabilities, methods, results);
  grid.notes = {
      fmt::format("Reference CNN (conv 12-12-pool-24-24-pool, dense 64-10), test accuracy {:.2f} %. Every column explains the "
                  "predicted class (its logit); every tile is scaled to its own maximum.",
                  100 * test_accuracy),
      fmt::format("Patterns (S_a, S_a+-) fitted on {} training images. SmoothGrad: {} noisy copies, sigma 15 % of the input "
                  "range. Integrated Gradients: {} steps from a black image. Red labels: misclassified.",
                  n_fit, smooth.samples, integrated.steps),
  };
  const auto figure = args.out / "fashion_mnist.svg";
  pn::io::write_grid_svg(grid, figure);
  fmt::print("Explained {} images with {} methods in {:.1f} s\nWrote {} (open it in a browser)\nTotal run time {:.1f} s\n",
             picked.size(), methods.size(), explain_seconds, figure.string(), since(start));
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "fashion_mnist: {}\n", e.what());
  return 1;
}
