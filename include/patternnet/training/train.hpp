#pragma once
// The training loop: epochs of shuffled mini-batches, softmax cross-entropy at the logits,
// parameter gradients by the backward pass, one optimizer step per mini-batch.
//
// BatchNorm2D layers are trained as in PyTorch's training mode (each mini-batch part is
// normalised by its own mean and population variance, and gamma and beta are trained), but
// their running statistics are not tracked: after training, set them from data with
// update_batch_norm() (training/batch_norm_statistics.hpp) before using the network.

#include <patternnet/core/progress.hpp>
#include <patternnet/training/batch_norm_statistics.hpp>
#include <patternnet/training/gradients.hpp>
#include <patternnet/training/loss.hpp>
#include <patternnet/training/optimizer.hpp>
#include <patternnet/training/random.hpp>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <functional>
#include <span>
#include <thread>
#include <vector>

namespace patternnet::training {

/// What one epoch saw (over the mini-batches as they were trained on).
struct EpochReport {
  Index epoch = 0;       // 0-based
  double loss = 0;       // mean cross-entropy
  double accuracy = 0;   // fraction of samples whose largest logit was their label
};

struct TrainOptions {
  Index epochs = 1;
  Index batch_size = 64;
  /// Seeds the shuffling: epoch e visits the samples in the e-th permutation drawn from
  /// Random(seed). With the same seed, initial weights and data, training is repeatable
  /// bit for bit (for a fixed Eigen thread count).
  std::uint64_t seed = 1;
  /// Each mini-batch is split into this many parts whose forward and backward passes run
  /// on their own std::thread (data parallelism: about `threads` times faster on as many
  /// free cores; keep Eigen single-threaded then). The parts' gradients are summed in a
  /// fixed order, so results are repeatable for a given value; different values differ by
  /// rounding only. Platforms whose std::thread needs a flag must link Threads::Threads.
  Index threads = 1;
  /// Called after every mini-batch (samples counted within the epoch).
  ProgressCallback progress;
  /// Called after every epoch.
  std::function<void(const EpochReport&)> on_epoch;
};

namespace detail {

/// The summed loss, correct count and parameter gradients of a mini-batch (x, y).
template <class T>
struct BatchGradients {
  double loss_sum = 0;
  Index correct = 0;
  std::vector<ParameterGradient<T>> grads;
};

/// The gradients of the mean loss over all m samples of (x, y), contributed by columns
/// [begin, begin + count).
/// A network with BatchNorm2D is trained in PyTorch's training mode: a copy normalises by
/// the part's own statistics (update_batch_norm) and is differentiated through them.
template <class T>
BatchGradients<T> part_gradients(const Graph<T>& net, Index top, const Batch<T>& x, std::span<const Index> y, Index begin,
                                 Index count) {
  const Batch<T> part(x.shape, Matrix<T>(x.data.middleCols(begin, count)));
  Graph<T> batch_mode;
  const bool batch_norm = has_batch_norm(net);
  if (batch_norm) {
    batch_mode = net;
    update_batch_norm(batch_mode, part, count);
  }
  const Graph<T>& used = batch_norm ? batch_mode : net;
  const ForwardRecord<T> rec = used.record(part, top);
  Loss<T> loss = softmax_cross_entropy(rec.activations.back(), y.subspan(static_cast<std::size_t>(begin), static_cast<std::size_t>(count)));
  if (count != x.size()) loss.gradient *= static_cast<T>(static_cast<double>(count) / static_cast<double>(x.size()));
  return {loss.value * static_cast<double>(count), loss.correct,
          parameter_gradients(used, rec, top, std::move(loss.gradient),
                              batch_norm ? BatchNormMode::batch : BatchNormMode::inference)};
}

/// part_gradients of `parts` consecutive column ranges, on parts - 1 extra threads, summed in order.
template <class T>
BatchGradients<T> batch_gradients(const Graph<T>& net, Index top, const Batch<T>& x, std::span<const Index> y, Index parts) {
  parts = std::min(parts, x.size());
  std::vector<BatchGradients<T>> results(static_cast<std::size_t>(parts));
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(parts));
  auto run = [&](Index p) {
    try {
      const Index begin = x.size() * p / parts, end = x.size() * (p + 1) / parts;
      results[static_cast<std::size_t>(p)] = part_gradients(net, top, x, y, begin, end - begin);
    } catch (...) {
      errors[static_cast<std::size_t>(p)] = std::current_exception();
    }
  };
  {
    std::vector<std::jthread> workers;
    for (Index p = 1; p < parts; ++p) workers.emplace_back(run, p);
    run(0);
  }
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  BatchGradients<T> total = std::move(results[0]);
  for (std::size_t p = 1; p < results.size(); ++p) {
    total.loss_sum += results[p].loss_sum;
    total.correct += results[p].correct;
    for (std::size_t i = 0; i < total.grads.size(); ++i) {
      total.grads[i].weight += results[p].grads[i].weight;
      total.grads[i].bias += results[p].grads[i].bias;
    }
  }
  return total;
}

}  // namespace detail

/// Trains `net` (its logits: below a final Softmax) on `images` with `labels` (one per
/// column) by minimising the softmax cross-entropy with `optimizer`. The last mini-batch
/// of an epoch may be smaller. Throws ConfigError for epochs, batch_size or threads < 1, ShapeError
/// for a label count != images.size() or a label out of range, and whatever the forward
/// or backward pass throws (e.g. NumericError when training diverges).
template <class T, Optimizer<T> O>
std::vector<EpochReport> train(Graph<T>& net, O& optimizer, const Batch<T>& images, std::span<const Index> labels,
                               const TrainOptions& options = {}) {
  if (options.epochs < 1 || options.batch_size < 1 || options.threads < 1) {
    patternnet::detail::fail<ConfigError>("train(): epochs, batch_size and threads must be >= 1, got {}, {} and {}",
                                          options.epochs, options.batch_size, options.threads);
  }
  const Index n = images.size();
  if (static_cast<Index>(labels.size()) != n) {
    patternnet::detail::fail<ShapeError>("train(): {} labels for {} images", labels.size(), n);
  }
  const Index top = net.logits_end();
  Random random(options.seed);
  std::vector<EpochReport> reports;
  Batch<T> x;
  std::vector<Index> y;
  for (Index epoch = 0; epoch < options.epochs; ++epoch) {
    const std::vector<Index> order = random.permutation(n);
    EpochReport report{epoch, 0, 0};
    Progress progress{0, 0, n};
    for (Index start = 0; start < n; start += options.batch_size) {
      const Index m = std::min(options.batch_size, n - start);
      x = Batch<T>(images.shape, m);
      y.resize(static_cast<std::size_t>(m));
      for (Index j = 0; j < m; ++j) {
        const Index k = order[static_cast<std::size_t>(start + j)];
        x.data.col(j) = images.data.col(k);
        y[static_cast<std::size_t>(j)] = labels[static_cast<std::size_t>(k)];
      }
      detail::BatchGradients<T> g = detail::batch_gradients(net, top, x, std::span<const Index>(y), options.threads);
      optimizer.step(net, g.grads);
      report.loss += g.loss_sum;
      report.accuracy += static_cast<double>(g.correct);
      progress.batches += 1;
      progress.samples += m;
      if (options.progress) options.progress(progress);
    }
    report.loss /= static_cast<double>(n);
    report.accuracy /= static_cast<double>(n);
    reports.push_back(report);
    if (options.on_epoch) options.on_epoch(report);
  }
  return reports;
}

}  // namespace patternnet::training
