#pragma once
// Fashion-MNIST for the examples: the data, and the reference CNN trained on it once and
// then cached, so that every example explains the same model and reruns start at once.
// Not part of the library (it prints). Link patternnet::idx.
//
//   auto data  = examples::load_fashion_mnist();                     // throws, naming the package
//   auto model = examples::load_or_train_reference_cnn(data.train);  // cached after the first run
//
//   auto patterns = examples::load_or_fit_patterns(model, data.train.images);  // S_a, S_a+-
//
// The cache: <cache directory>/fashion_mnist_cnn_v1.pnm (a model file, docs/file-formats.md)
// and the patterns fitted on it, fashion_mnist_cnn_v1-<hash of the model file>-n<images>-
// {linear,two_component}.pnp (pattern files), where the cache directory is, first match: the
// argument, $PATTERNNET_CACHE_DIR, $XDG_CACHE_HOME/patternnet, $HOME/.cache/patternnet,
// ./patternnet-cache. A cached model that does not load into the reference architecture is
// ignored (and replaced after training); patterns are keyed by the model file's contents.

#include <patternnet/estimators/fit.hpp>
#include <patternnet/estimators/linear.hpp>
#include <patternnet/estimators/two_component.hpp>
#include <patternnet/io/fashion_mnist.hpp>
#include <patternnet/io/model_file.hpp>
#include <patternnet/io/pattern_file.hpp>
#include <patternnet/training/accuracy.hpp>
#include <patternnet/training/adam.hpp>
#include <patternnet/training/initialization.hpp>
#include <patternnet/training/train.hpp>

#include "progress.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace examples {

namespace pn = patternnet;

struct FashionMnist {
  pn::io::LabelledImages<float> train, test;
};

/// Both splits (see pn::io::load_fashion_mnist for the directory and the errors).
inline FashionMnist load_fashion_mnist(const std::filesystem::path& dir = {}) {
  return {pn::io::load_fashion_mnist<float>(pn::io::Split::train, dir),
          pn::io::load_fashion_mnist<float>(pn::io::Split::test, dir)};
}

/// The reference CNN (VGG-style: two blocks of conv-ReLU-conv-ReLU-maxpool with 3x3 "same"
/// convolutions, then two dense layers), bound to 1 x 28 x 28, weights zero:
///   conv 1->12, conv 12->12, pool 28->14, conv 12->24, conv 24->24, pool 14->7,
///   dense 1176->64, dense 64->10, softmax.
inline pn::Sequential<float> reference_cnn() {
  using F = float;
  const pn::Padding same = pn::Padding::same();
  pn::Sequential<F> net{pn::Conv2D<F>(1, 12, 3, same),  pn::ReLU<F>{}, pn::Conv2D<F>(12, 12, 3, same), pn::ReLU<F>{},
                        pn::MaxPool2D<F>(2),            pn::Conv2D<F>(12, 24, 3, same), pn::ReLU<F>{},
                        pn::Conv2D<F>(24, 24, 3, same), pn::ReLU<F>{},                 pn::MaxPool2D<F>(2),
                        pn::Flatten<F>{},               pn::Dense<F>(24 * 7 * 7, 64),   pn::ReLU<F>{},
                        pn::Dense<F>(64, 10),           pn::Softmax<F>{}};
  net.set_input_shape({1, 28, 28});
  return net;
}

/// The training recipe of the cached model (changing it requires a new cache file name).
struct ReferenceRecipe {
  pn::Index epochs = 4;
  pn::Index batch_size = 64;
  double learning_rate = 2e-3;  // Adam, multiplied by `decay` after every epoch
  double decay = 0.65;
  std::uint64_t init_seed = 1, shuffle_seed = 2;
  /// Mini-batch parts trained in parallel (TrainOptions::threads): parts of 16 samples keep
  /// the conv buffers in cache, which pays even on one core.
  pn::Index threads = 4;
};

inline constexpr const char* kReferenceModelFile = "fashion_mnist_cnn_v1.pnm";

/// The cache directory (see the file comment); `dir` wins if not empty.
inline std::filesystem::path cache_directory(const std::filesystem::path& dir = {}) {
  if (!dir.empty()) return dir;
  auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v != nullptr ? v : "";
  };
  if (const std::string d = env("PATTERNNET_CACHE_DIR"); !d.empty()) return d;
  if (const std::string d = env("XDG_CACHE_HOME"); !d.empty()) return std::filesystem::path(d) / "patternnet";
  if (const std::string d = env("HOME"); !d.empty()) return std::filesystem::path(d) / ".cache" / "patternnet";
  return "patternnet-cache";
}

struct ReferenceModel {
  pn::Sequential<float> net;
  std::filesystem::path file;  // the cache file
  bool trained = false;        // trained now (else loaded from the cache)
  double train_seconds = 0;    // wall-clock training time (0 when loaded)
};

/// Loads the cached reference CNN, or trains it on `train` with `recipe` (printing one line
/// per epoch and a progress bar) and caches it. `retrain` ignores an existing cache file.
inline ReferenceModel load_or_train_reference_cnn(const pn::io::LabelledImages<float>& train,
                                                  const std::filesystem::path& cache_dir = {}, bool retrain = false,
                                                  const ReferenceRecipe& recipe = {}) {
  ReferenceModel model{reference_cnn(), cache_directory(cache_dir) / kReferenceModelFile};
  if (!retrain && std::filesystem::exists(model.file)) {
    try {
      pn::io::load_weights(model.file, model.net);
      return model;
    } catch (const pn::Error& e) {
      fmt::print("Ignoring the cached model ({}); training a new one.\n", e.what());
    }
  }
  fmt::print("Training the reference CNN on {} images: {} epochs, batch {}, Adam {} (x{} per epoch), {} parts "
             "in parallel.\n",
             train.images.size(), recipe.epochs, recipe.batch_size, recipe.learning_rate, recipe.decay, recipe.threads);
  pn::training::initialize_he(model.net, recipe.init_seed);
  pn::training::Adam<float> adam({.learning_rate = recipe.learning_rate});
  pn::training::TrainOptions options;
  options.epochs = recipe.epochs;
  options.batch_size = recipe.batch_size;
  options.seed = recipe.shuffle_seed;
  options.threads = recipe.threads;
  pn::Index epoch = 0;
  pn::ProgressCallback bar = progress_bar(fmt::format("epoch 1/{}", recipe.epochs));
  options.progress = [&](const pn::Progress& p) { bar(p); };
  const auto start = std::chrono::steady_clock::now();
  options.on_epoch = [&](const pn::training::EpochReport& r) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fmt::print("  epoch {}: loss {:.4f}, training accuracy {:.2f} % (during the epoch), {:.0f} s so far\n", r.epoch + 1,
               r.loss, 100 * r.accuracy, seconds);
    adam.set_learning_rate(adam.options().learning_rate * recipe.decay);
    bar = progress_bar(fmt::format("epoch {}/{}", ++epoch + 1, recipe.epochs));
  };
  pn::training::train(model.net, adam, train.images, train.labels, options);
  model.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  model.trained = true;
  std::filesystem::create_directories(model.file.parent_path());
  pn::io::save_model(model.net, model.file);
  return model;
}

/// compute_moments() over `threads` consecutive slices of `images`, each on its own thread,
/// merged with LayerMoments::merge (exact up to rounding: the patterns do not depend on the
/// number of threads beyond rounding). `progress` sees the samples of all slices.
inline pn::NetworkMoments parallel_moments(const pn::Sequential<float>& net, const pn::Batch<float>& images, int threads,
                                           const pn::ProgressCallback& progress) {
  const pn::Index n = images.size();
  std::vector<pn::Batch<float>> slices;
  for (int t = 0; t < threads; ++t) {
    const pn::Index begin = n * t / threads, end = n * (t + 1) / threads;
    slices.emplace_back(images.shape, pn::Matrix<float>(images.data.middleCols(begin, end - begin)));
  }
  std::mutex mutex;
  pn::Progress total{0, 0, n};
  std::vector<pn::NetworkMoments> parts(slices.size());
  std::vector<std::exception_ptr> errors(slices.size());
  {
    std::vector<std::jthread> workers;
    for (std::size_t t = 0; t < slices.size(); ++t) {
      workers.emplace_back([&, t] {
        try {
          pn::Index seen = 0;  // samples of this slice reported so far
          pn::MomentOptions options;
          options.progress = [&](const pn::Progress& p) {
            const std::lock_guard<std::mutex> lock(mutex);
            total.batches += 1;
            total.samples += p.samples - seen;
            seen = p.samples;
            if (progress) progress(total);
          };
          parts[t] = pn::compute_moments(net, pn::batches(slices[t], 256), options);
        } catch (...) {
          errors[t] = std::current_exception();
        }
      });
    }
  }
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  pn::NetworkMoments moments = std::move(parts[0]);
  for (std::size_t t = 1; t < parts.size(); ++t) {
    for (std::size_t l = 0; l < moments.layers().size(); ++l) moments.layers()[l].merge(parts[t].layers()[l]);
    moments.add_samples(parts[t].samples());
  }
  return moments;
}

struct ReferencePatterns {
  pn::Patterns<float> linear, two_component;  // S_a and S_a+-
  bool fitted = false;                         // fitted now (else loaded from the cache)
  double fit_seconds = 0;
};

/// The S_a and S_a+- patterns of `model`, fitted in one pass over `images` (with a progress
/// bar, on `threads` threads) or loaded from the cache (see the file comment) if they were
/// fitted before on the same model file and the same number of images.
inline ReferencePatterns load_or_fit_patterns(const ReferenceModel& model, const pn::Batch<float>& images,
                                              int threads = 2) {
  std::ifstream in(model.file, std::ios::binary);
  const std::vector<unsigned char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const std::string stem = fmt::format("{}-{:016x}-n{}-", model.file.stem().string(),
                                       pn::io::fnv1a(bytes.data(), bytes.size()), images.size());
  const auto linear_file = model.file.parent_path() / (stem + "linear.pnp");
  const auto two_component_file = model.file.parent_path() / (stem + "two_component.pnp");
  ReferencePatterns p;
  if (std::filesystem::exists(linear_file) && std::filesystem::exists(two_component_file)) {
    try {
      p.linear = pn::io::load_patterns(linear_file, model.net);
      p.two_component = pn::io::load_patterns(two_component_file, model.net);
      return p;
    } catch (const pn::Error& e) {
      fmt::print("Ignoring the cached patterns ({}); fitting them again.\n", e.what());
    }
  }
  const auto start = std::chrono::steady_clock::now();
  const pn::NetworkMoments moments = parallel_moments(model.net, images, threads, progress_bar("fitting patterns"));
  p.linear = pn::make_patterns<pn::estimators::Linear>(model.net, moments);
  p.two_component = pn::make_patterns<pn::estimators::TwoComponent>(model.net, moments);
  p.fit_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  p.fitted = true;
  pn::io::save_patterns(p.linear, linear_file);
  pn::io::save_patterns(p.two_component, two_component_file);
  return p;
}

}  // namespace examples
