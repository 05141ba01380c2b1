// PatternNet and PatternAttribution on a residual network with BatchNorm (which the paper,
// on chains, does not cover): a small ResNet trained on Fashion-MNIST, its BatchNorm
// folded into the convolutions, patterns fitted on every convolution and the dense head,
// rho(S) per node, and one figure with each method's explanation of ten test images.
//
//   stem    conv 1->16 3x3, BN, ReLU, max-pool 2                         14 x 14
//   block 1 conv 16->16, BN, ReLU, conv 16->16, BN, + stem, ReLU         14 x 14
//   block 2 conv 16->32 stride 2, BN, ReLU, conv 32->32, BN,
//           + projection (conv 16->32 1x1 stride 2, BN), ReLU            7 x 7
//   head    global average pooling, dense 32->10, softmax
//
// Training: BatchNorm in training mode (each mini-batch part of 16 images normalised by
// its own statistics; gamma and beta trained), then the running statistics set from 4096
// training images (training::update_batch_norm, as torch.optim.swa_utils.update_bn). The
// model is cached like the reference CNN's (support/fashion_mnist.hpp).
//
// Usage: residual_network [output directory] [--data DIR] [--cache DIR] [--retrain]
//                         [--pattern-samples N]
//   output directory   where residual_network.svg is written (default ".")
//   --data DIR         the Fashion-MNIST files (default: see examples/fashion_mnist.cpp)
//   --cache DIR        the trained model's cache
//   --retrain          train even if a cached model exists
//   --pattern-samples  fit the patterns on the first N training images (default 20000);
//                      rho is measured on the 10000 test images
//
// Run time and accuracy: see docs/graphs.md.

#include <patternnet/io/image_grid.hpp>
#include <patternnet/patternnet.hpp>
#include <patternnet/training/batch_norm_statistics.hpp>

#include "support/explanation_grid.hpp"
#include "support/fashion_mnist.hpp"
#include "support/progress.hpp"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace pn = patternnet;
namespace est = pn::estimators;
using Clock = std::chrono::steady_clock;
using F = float;

namespace {

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

/// The network above, bound to 1 x 28 x 28, weights zero. Nodes are named for the summary.
pn::Graph<F> residual_network() {
  const pn::Padding same = pn::Padding::same();
  pn::Graph<F> g;
  auto conv_bn = [&](pn::Index in, pn::Conv2D<F> conv, const std::string& name) {
    const pn::Index channels = conv.out_channels();
    const pn::Index c = g.add(std::move(conv), in, name);
    return g.add(pn::BatchNorm2D<F>(channels), c, name + ".bn");
  };
  const pn::Index stem_relu = g.add(pn::ReLU<F>{}, conv_bn(pn::Graph<F>::input, pn::Conv2D<F>(1, 16, 3, same), "stem"),
                                    "stem.relu");
  const pn::Index stem = g.add(pn::MaxPool2D<F>(2), stem_relu, "stem.pool");
  // Block 1: identity shortcut.
  const pn::Index a1 = g.add(pn::ReLU<F>{}, conv_bn(stem, pn::Conv2D<F>(16, 16, 3, same), "block1.conv1"), "block1.relu1");
  const pn::Index b1 = conv_bn(a1, pn::Conv2D<F>(16, 16, 3, same), "block1.conv2");
  const pn::Index out1 = g.add(pn::ReLU<F>{}, g.add(pn::Add<F>{}, {b1, stem}, "block1.add"), "block1.relu2");
  // Block 2: stride 2, projection shortcut.
  const pn::Index a2 = g.add(pn::ReLU<F>{}, conv_bn(out1, pn::Conv2D<F>(16, 32, 3, pn::Padding{1}, pn::Stride{2}), "block2.conv1"),
                             "block2.relu1");
  const pn::Index b2 = conv_bn(a2, pn::Conv2D<F>(32, 32, 3, same), "block2.conv2");
  const pn::Index shortcut = conv_bn(out1, pn::Conv2D<F>(16, 32, 1, pn::Padding{0}, pn::Stride{2}), "block2.shortcut");
  const pn::Index out2 = g.add(pn::ReLU<F>{}, g.add(pn::Add<F>{}, {b2, shortcut}, "block2.add"), "block2.relu2");
  // Head.
  const pn::Index pooled = g.add(pn::Flatten<F>{}, g.add(pn::GlobalAvgPool2D<F>{}, out2, "pool"), "flatten");
  g.add(pn::Softmax<F>{}, g.add(pn::Dense<F>(32, 10), pooled, "fc"), "softmax");
  g.set_input_shape({1, 28, 28});
  return g;
}

struct Recipe {
  pn::Index epochs = 4, batch_size = 64, bn_samples = 4096, threads = 4;
  double learning_rate = 3e-3, decay = 0.6;  // Adam, times `decay` after every epoch
  std::uint64_t init_seed = 1, shuffle_seed = 2;
};

/// Loads the cached model, or trains it (and caches it).
pn::Graph<F> load_or_train(const pn::io::LabelledImages<F>& train, const std::filesystem::path& file, bool retrain,
                           const Recipe& recipe = {}) {
  pn::Graph<F> net = residual_network();
  if (!retrain && std::filesystem::exists(file)) {
    try {
      pn::io::load_weights(file, net);
      fmt::print("Loaded the cached model {} (delete it or pass --retrain to train again)\n", file.string());
      return net;
    } catch (const pn::Error& e) {
      fmt::print("Ignoring the cached model ({}); training a new one.\n", e.what());
    }
  }
  fmt::print("Training on {} images: {} epochs, batch {} in {} parts, Adam {} (x{} per epoch), BatchNorm in training "
             "mode.\n",
             train.images.size(), recipe.epochs, recipe.batch_size, recipe.threads, recipe.learning_rate, recipe.decay);
  const pn::Batch<F> bn_set(train.images.shape, pn::Matrix<F>(train.images.data.leftCols(recipe.bn_samples)));
  pn::training::initialize_he(net, recipe.init_seed);
  pn::training::Adam<F> adam({.learning_rate = recipe.learning_rate});
  const auto start = Clock::now();
  for (pn::Index epoch = 0; epoch < recipe.epochs; ++epoch) {
    pn::training::TrainOptions options;
    options.batch_size = recipe.batch_size;
    options.seed = recipe.shuffle_seed + static_cast<std::uint64_t>(epoch);
    options.threads = recipe.threads;
    pn::ProgressCallback bar = examples::progress_bar(fmt::format("epoch {}/{}", epoch + 1, recipe.epochs));
    options.progress = [&](const pn::Progress& p) { bar(p); };
    const auto report = pn::training::train(net, adam, train.images, train.labels, options).back();
    fmt::print("  epoch {}: loss {:.4f}, training accuracy {:.2f} % (during the epoch), {:.0f} s so far\n", epoch + 1,
               report.loss, 100 * report.accuracy, since(start));
    adam.set_learning_rate(adam.options().learning_rate * recipe.decay);
  }
  // The trainer does not track running statistics: set them from data.
  pn::training::update_batch_norm(net, bn_set);
  fmt::print("Trained in {:.0f} s (BatchNorm statistics from {} training images)\n", since(start), recipe.bn_samples);
  std::filesystem::create_directories(file.parent_path());
  pn::io::save_model(net, file);
  return net;
}

using examples::column;
using examples::Method;

struct Arguments {
  std::filesystem::path out = ".", data, cache;
  bool retrain = false;
  pn::Index pattern_samples = 20000;
};

Arguments parse(int argc, char** argv) {
  Arguments a;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) pn::detail::fail<pn::ConfigError>("residual_network: {} needs a value", arg);
      return argv[++i];
    };
    if (arg == "--data") a.data = value();
    else if (arg == "--cache") a.cache = value();
    else if (arg == "--retrain") a.retrain = true;
    else if (arg == "--pattern-samples") a.pattern_samples = std::stol(value());
    else if (!arg.empty() && arg[0] == '-') pn::detail::fail<pn::ConfigError>("residual_network: unknown option {}", arg);
    else a.out = arg;
  }
  if (a.pattern_samples < 1) pn::detail::fail<pn::ConfigError>("residual_network: --pattern-samples must be >= 1");
  return a;
}

}  // namespace

int main(int argc, char** argv) try {
  const auto start = Clock::now();
  const Arguments args = parse(argc, argv);
  std::filesystem::create_directories(args.out);
  auto t = Clock::now();
  const examples::FashionMnist data = examples::load_fashion_mnist(args.data);
  fmt::print("Fashion-MNIST: {} training and {} test images ({:.1f} s)\n", data.train.images.size(),
             data.test.images.size(), since(t));

  const auto file = examples::cache_directory(args.cache) / "fashion_mnist_resnet_v1.pnm";
  const pn::Graph<F> trained = load_or_train(data.train, file, args.retrain);
  t = Clock::now();
  const double test_accuracy = pn::training::accuracy(trained, data.test.images, data.test.labels, 64);
  fmt::print("Test accuracy: {:.2f} % on {} images ({:.1f} s)\n", 100 * test_accuracy, data.test.images.size(), since(t));

  // ---- BatchNorm folded into the convolutions: the network the rules see -------------
  pn::CanonizeReport folding;
  const pn::Graph<F> net = pn::canonize(trained, &folding);
  fmt::print("canonize(): {} BatchNorm2D folded into their convolutions, {} kept; test accuracy after folding {:.2f} %\n\n",
             folding.folded.size(), folding.kept.size(),
             100 * pn::training::accuracy(net, data.test.images, data.test.labels, 64));
  fmt::print("{}\n", pn::summary(net));

  // ---- Patterns on every Dense and Conv2D node, and rho(S) on held-out data ----------
  const pn::Index n_fit = std::min(args.pattern_samples, data.train.images.size());
  const pn::Batch<F> fit_set(data.train.images.shape, pn::Matrix<F>(data.train.images.data.leftCols(n_fit)));
  t = Clock::now();
  const pn::NetworkMoments moments = pn::compute_moments(net, pn::batches(fit_set, 256));
  const auto two_component = pn::make_patterns<est::TwoComponent>(net, moments);
  const auto linear = pn::make_patterns<est::Linear>(net, moments);
  const auto filter = pn::fit_patterns<est::Filter>(net);
  fmt::print("Fitted S_a and S_a+- on {} training images in {:.1f} s\n", n_fit, since(t));
  t = Clock::now();
  pn::MomentOptions held_out_options;
  held_out_options.input_covariance = true;
  const pn::NetworkMoments held_out = pn::compute_moments(net, pn::batches(data.test.images, 256), held_out_options);
  const std::vector<pn::SignalQuality> quality{pn::signal_quality(net, filter, held_out),
                                               pn::signal_quality(net, linear, held_out),
                                               pn::signal_quality(net, two_component, held_out)};
  fmt::print("rho(S) per node on the {} test images (mean over neurons; higher is better; {:.1f} s):\n",
             data.test.images.size(), since(t));
  fmt::print("  {:<18} {:>8} {:>8} {:>8}\n", "node", "S_w", "S_a", "S_a+-");
  for (std::size_t l = 0; l < quality[0].layers.size(); ++l) {
    const pn::Index node = quality[0].layers[l].layer;
    fmt::print("  {:<18}", net.name(node));
    for (const auto& q : quality) fmt::print(" {:>8.4f}", q.layers[l].mean.value_or(0.0));
    fmt::print("\n");
  }

  // ---- Ten test images, the first of each class, explained by each method -------------
  const std::vector<pn::Index> picked = examples::first_of_each_class(data.test);
  const pn::Batch<F> x = examples::gather(data.test, picked);
  const pn::Matrix<F> probabilities = net.forward(x).data;

  using K = Method::Kind;
  pn::methods::IntegratedGradientsOptions<F> integrated;
  integrated.steps = 32;
  const std::vector<Method> methods{
      column("Gradient", K::signal, net, pn::rules::Gradient{}),
      column("Guided\nBackprop", K::signal, net, pn::rules::GuidedBackprop{}),
      column("PatternNet\nS_a+-", K::signal, net, pn::rules::PatternNet{two_component}),
      column("Input x\nGradient", K::heatmap, net, pn::rules::InputTimesGradient{}),
      {"Integrated\nGradients", K::heatmap,
       [&](const auto& b) { return pn::methods::integrated_gradients(net, b, pn::Target::argmax(), integrated).attribution; }},
      column("LRP\nε+ / flat", K::heatmap, net, pn::composites::EpsilonPlusFlat{}),
      column("PatternAttr.\nS_a", K::heatmap, net, pn::rules::PatternAttribution{linear}),
      column("PatternAttr.\nS_a+-", K::heatmap, net, pn::rules::PatternAttribution{two_component}),
  };
  t = Clock::now();
  std::vector<pn::Batch<F>> results;
  for (const Method& m : methods) results.push_back(m.explain(x));
  const double explain_seconds = since(t);

  pn::io::ImageGrid grid = examples::explanation_grid("Fashion-MNIST: a residual network with BatchNorm, explained",
                                                     data.test, picked, x, probabilities, methods, results);
  grid.notes = {
      fmt::format("ResNet (stem and block 1 16 channels, block 2 32, BatchNorm folded into the convolutions), test accuracy {:.2f} %. "
                  "Every column explains the predicted class; every tile is scaled to its own maximum.",
                  100 * test_accuracy),
      fmt::format("Patterns fitted on {} training images; at an Add the backward quantity is split as the gradient splits "
                  "it (PatternNet, PatternAttribution) or in proportion to the contributions (LRP: Norm). Red: misclassified.",
                  n_fit),
  };
  const auto figure = args.out / "residual_network.svg";
  pn::io::write_grid_svg(grid, figure);
  fmt::print("\nExplained {} images with {} methods in {:.1f} s\nWrote {} (open it in a browser)\nTotal run time {:.1f} s\n",
             picked.size(), methods.size(), explain_seconds, figure.string(), since(start));
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "residual_network: {}\n", e.what());
  return 1;
}
