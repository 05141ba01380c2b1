#pragma once
// One pass over the data fills the statistics of every linear layer at once; the
// estimators then turn them into patterns.
//
//   auto patterns = fit_patterns<estimators::TwoComponent>(net, batches(train, 256));
//   auto moments  = compute_moments(net, batches(train, 256));      // or: fit several
//   auto p_a      = make_patterns<estimators::Linear>(net, moments);  // estimators from
//   auto p_apm    = make_patterns<estimators::TwoComponent>(net, moments);  // one pass

#include <patternnet/core/batches.hpp>
#include <patternnet/core/progress.hpp>
#include <patternnet/estimators/estimator.hpp>
#include <patternnet/network/graph.hpp>

#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace patternnet {

struct MomentOptions {
  /// Also accumulate each layer's input covariance Sigma_x (K x K per layer), which the
  /// quality criterion rho needs and the estimators do not.
  bool input_covariance = false;
  /// Rows (neuron samples) per double-precision work block; bounds the extra memory at
  /// about chunk_rows * (K + 3F) doubles per layer.
  Index chunk_rows = 16384;
  /// Called after every batch (the library never prints).
  ProgressCallback progress;
};

/// The moments of every linear layer of a network, gathered in one pass.
class NetworkMoments {
public:
  NetworkMoments() = default;
  explicit NetworkMoments(std::vector<LayerMoments> layers) : layers_(std::move(layers)) {}

  [[nodiscard]] const std::vector<LayerMoments>& layers() const noexcept { return layers_; }
  [[nodiscard]] std::vector<LayerMoments>& layers() noexcept { return layers_; }
  /// Input samples seen.
  [[nodiscard]] double samples() const noexcept { return samples_; }
  void add_samples(double n) noexcept { samples_ += n; }

  /// Merges the moments of another pass over the same network's layers (another shard
  /// of the data): the result equals, to rounding, the moments of one pass over both
  /// (Chan et al.'s pairwise update, moments.hpp). Throws ShapeError naming the first
  /// layer whose record differs (index, size, input covariance); *this is then unchanged.
  void merge(const NetworkMoments& other) {
    if (other.layers_.size() != layers_.size()) {
      detail::fail<ShapeError>("NetworkMoments::merge(): {} layer records, these moments have {}", other.layers_.size(),
                               layers_.size());
    }
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      const LayerMoments &a = layers_[i], &b = other.layers_[i];
      if (a.layer != b.layer || a.inputs() != b.inputs() || a.neurons() != b.neurons() ||
          a.with_input_covariance != b.with_input_covariance) {
        detail::fail<ShapeError>("NetworkMoments::merge(): record {} is layer {} ({} neurons x {} inputs{}), here it is "
                                 "layer {} ({} x {}{})", i, b.layer, b.neurons(), b.inputs(),
                                 b.with_input_covariance ? ", input covariance" : "", a.layer, a.neurons(), a.inputs(),
                                 a.with_input_covariance ? ", input covariance" : "");
      }
    }
    for (std::size_t i = 0; i < layers_.size(); ++i) layers_[i].merge(other.layers_[i]);
    samples_ += other.samples_;
  }

  /// The moments of network layer `layer`; throws ConfigError if it has none.
  [[nodiscard]] const LayerMoments& at(Index layer) const {
    for (const auto& m : layers_) {
      if (m.layer == layer) return m;
    }
    detail::fail<ConfigError>("NetworkMoments::at(): no moments for layer {} (not a Dense or Conv2D layer?)", layer);
  }

private:
  std::vector<LayerMoments> layers_;
  double samples_ = 0;
};

/// Accumulates the moments of every Dense and Conv2D layer of `net` over all batches
/// of `source`, in one forward pass per batch.
template <class T, class S>
  requires BatchSource<S, T>
[[nodiscard]] NetworkMoments compute_moments(const Graph<T>& net, const S& source,
                                             const MomentOptions& options = {}) {
  if (options.chunk_rows < 1) {
    detail::fail<ConfigError>("compute_moments(): chunk_rows must be >= 1, got {}", options.chunk_rows);
  }
  std::vector<LayerMoments> layers;
  Index end = 0;  // nodes up to the last linear one are needed
  for_each_linear(net, [&](Index n, const auto& layer) {
    layers.emplace_back(n, layer.weight().cols(), layer.weight().rows(), options.input_covariance);
    end = n + 1;
  });
  NetworkMoments moments(std::move(layers));
  Progress progress{0, 0, source_samples(source)};
  for (const Batch<T>& batch : source) {
    const ForwardRecord<T> rec = net.record(batch, end);
    for (LayerMoments& m : moments.layers()) {
      std::visit(
          [&](const auto& layer) {
            if constexpr (LinearLayer<std::decay_t<decltype(layer)>>) {
              const Matrix<T>& x = rec.activations[static_cast<std::size_t>(net.inputs(m.layer)[0] + 1)];
              Matrix<T> z = workspace::matrix<T>(x.cols() * layer.positions(), layer.weight().rows());
              batch_to_positions(rec.activations[static_cast<std::size_t>(m.layer + 1)], layer.positions(), z);
              Matrix<T> samples = layer.samples(x);  // (N*P) x K: one row per neuron sample
              m.add(samples, z, layer.bias().template cast<double>(), options.chunk_rows);
              workspace::recycle(samples);
              workspace::recycle(z);
            }
          },
          net.layer(m.layer));
    }
    moments.add_samples(static_cast<double>(batch.size()));
    progress.batches += 1;
    progress.samples += batch.size();
    if (options.progress) options.progress(progress);
  }
  return moments;
}

/// Patterns of every Dense and Conv2D layer of `net` from an estimator. `moments` may be
/// null for estimators that need no data; otherwise it must come from this network.
template <Estimator E, class T>
[[nodiscard]] Patterns<T> make_patterns(const Graph<T>& net, const NetworkMoments* moments, const E& estimator = {}) {
  if (E::needs_data && moments == nullptr) {
    detail::fail<ConfigError>("make_patterns(): estimator {} needs data: pass the moments of a data set", E::name);
  }
  std::vector<LayerPatterns<T>> layers;
  FitReport report;
  if (moments != nullptr) report.samples = moments->samples();
  for_each_linear(net, [&](Index l, const auto& layer) {
    const LayerMoments* m = E::needs_data ? &moments->at(l) : nullptr;
    if (m != nullptr && (m->inputs() != layer.weight().cols() || m->neurons() != layer.weight().rows())) {
      detail::fail<ShapeError>("make_patterns(): moments of layer {} are for {} neurons x {} inputs, the layer has {} x {}",
                               l, m->neurons(), m->inputs(), layer.weight().rows(), layer.weight().cols());
    }
    if (m != nullptr && m->count == 0) {
      detail::fail<ConfigError>("make_patterns(): estimator {} needs data, but the moments hold no samples", E::name);
    }
    const Eigen::MatrixXd w = layer.weight().template cast<double>();
    layers.push_back(estimator.layer_patterns(l, w, m, report).template cast<T>());
  });
  return Patterns<T>(std::string(E::name), std::move(layers), std::move(report),
                     net.ready() ? net.architecture_fingerprint() : 0);
}

template <Estimator E, class T>
[[nodiscard]] Patterns<T> make_patterns(const Graph<T>& net, const NetworkMoments& moments, const E& estimator = {}) {
  return make_patterns<E>(net, &moments, estimator);
}

/// Patterns for an estimator that needs no data (S_x, S_w, random).
template <Estimator E, class T>
  requires(!E::needs_data)
[[nodiscard]] Patterns<T> fit_patterns(const Graph<T>& net, const E& estimator = {}) {
  return make_patterns<E>(net, nullptr, estimator);
}

/// Fits patterns in one pass over `source` (ignored by estimators that need no data).
template <Estimator E, class T, class S>
  requires BatchSource<S, T>
[[nodiscard]] Patterns<T> fit_patterns(const Graph<T>& net, const S& source, const MomentOptions& options = {},
                                       const E& estimator = {}) {
  if constexpr (!E::needs_data) {
    return make_patterns<E>(net, nullptr, estimator);
  } else {
    const NetworkMoments moments = compute_moments(net, source, options);
    return make_patterns<E>(net, &moments, estimator);
  }
}

}  // namespace patternnet
