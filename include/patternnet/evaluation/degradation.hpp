#pragma once
// Image degradation ("pixel flipping" by patches), the paper's Fig. 4a (docs/evaluation.md).
//
// Each image is split into square patches; patches are ranked by their summed attribution;
// the top-k patches (k = 0 .. steps, cumulatively) are replaced by perturbation values, and
// the classifier's softmax probability of the class it originally predicted is recorded.
// The faster the curve falls when the most relevant patches go first, the better the
// attribution ranks what the classifier uses. Every step of every image runs through the
// network as batches (at most max_batch samples per forward pass).

#include <patternnet/core/progress.hpp>
#include <patternnet/network/sequential.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

namespace patternnet {

struct DegradationOptions {
  enum class Order { most_relevant_first, least_relevant_first, random };
  enum class Perturbation {
    uniform,  // i.i.d. uniform values in [low, high] (default: the images' min and max)
    mean,     // the per-pixel mean of the images given
    blur,     // the image blurred by a box filter of the patch size (per channel, clamped at borders)
  };
  Index patch_size = 4;             // patches are patch_size x patch_size, over all channels
  Index steps = 10;                 // number of perturbation steps after the original
  Index patches_per_step = 1;       // patches replaced per step
  Order order = Order::most_relevant_first;
  Perturbation perturbation = Perturbation::uniform;
  double low = 0, high = 0;         // uniform range; low == high: the images' min and max
  std::uint64_t seed = 0;           // random values and random order
  Index max_batch = 32;             // samples per forward pass (memory bound; small is fast too)
  /// Called after every forward pass; a sample is one (image, step) pair, so
  /// total_samples = images x (steps + 1).
  ProgressCallback progress;
};

struct DegradationCurve {
  /// probability(k, n): softmax probability of image n's originally predicted class after
  /// k perturbation steps (k = 0 is the original image); (steps + 1) x N.
  Eigen::MatrixXd probability;
  Eigen::VectorXd mean, sd;   // over images, per step
  /// Mean over images of the Euclidean distance ||x_k - x_0|| of the perturbed input from
  /// the original, per step: how much input the perturbation changed (a perturbation that
  /// moves some patches much further than others biases the comparison of orders).
  Eigen::VectorXd distance;
  /// Area under the mean curve, trapezoidal, with the step axis scaled to [0, 1]
  /// (1 = the probability never falls, 0 = it is gone at once).
  double area = 0;
  std::vector<Index> targets;  // the originally predicted class per image
};

namespace detail {

/// Softmax per column (stable).
template <class D>
Eigen::MatrixXd softmax_columns(const Eigen::MatrixBase<D>& z) {
  Eigen::MatrixXd p = (z.rowwise() - z.colwise().maxCoeff()).array().exp().matrix();
  p.array().rowwise() /= p.colwise().sum().array();
  return p;
}

/// Probabilities of the network for a batch: its output if it ends in Softmax, else the
/// softmax of its output.
template <class T>
Eigen::MatrixXd probabilities(const Graph<T>& net, const Batch<T>& x) {
  const Eigen::MatrixXd out = net.forward(x).data.template cast<double>();
  return net.logits_end() < net.size() ? out : softmax_columns(out);
}

/// Box blur of width 2r+1 per channel, clamped at the borders.
template <class T>
Matrix<T> box_blur(const Matrix<T>& x, Shape s, Index r) {
  Matrix<T> out(x.rows(), x.cols());
  for (Index n = 0; n < x.cols(); ++n)
    for (Index c = 0; c < s.c; ++c)
      for (Index i = 0; i < s.h; ++i)
        for (Index j = 0; j < s.w; ++j) {
          double sum = 0;
          int count = 0;
          for (Index di = std::max<Index>(0, i - r); di <= std::min(s.h - 1, i + r); ++di)
            for (Index dj = std::max<Index>(0, j - r); dj <= std::min(s.w - 1, j + r); ++dj) sum += x(s.at(c, di, dj), n), ++count;
          out(s.at(c, i, j), n) = static_cast<T>(sum / count);
        }
  return out;
}

}  // namespace detail

/// Runs the degradation experiment for `images` (one per column) with one attribution map
/// per image (same shape). Throws ShapeError (shapes) or ConfigError (options).
template <class T>
[[nodiscard]] DegradationCurve degrade(const Graph<T>& net, const Batch<T>& images, const Batch<T>& attributions,
                                       const DegradationOptions& o = {}) {
  const Shape s = images.shape;
  if (!(attributions.shape == s) || attributions.size() != images.size()) {
    detail::fail<ShapeError>("degrade(): attributions have shape {} x {} samples, the images {} x {}", attributions.shape,
                             attributions.size(), s, images.size());
  }
  if (o.patch_size < 1 || o.patch_size > s.h || o.patch_size > s.w || s.h % o.patch_size != 0 || s.w % o.patch_size != 0) {
    detail::fail<ConfigError>("degrade(): patch size {} must be >= 1 and divide the image height {} and width {}", o.patch_size, s.h,
                              s.w);
  }
  const Index ph = s.h / o.patch_size, pw = s.w / o.patch_size, patches = ph * pw;
  if (o.steps < 1 || o.patches_per_step < 1 || o.steps * o.patches_per_step > patches) {
    detail::fail<ConfigError>("degrade(): steps ({}) and patches_per_step ({}) must be >= 1 with steps * patches_per_step <= {} patches",
                              o.steps, o.patches_per_step, patches);
  }
  if (o.max_batch < 1) detail::fail<ConfigError>("degrade(): max_batch must be >= 1, got {}", o.max_batch);
  if (o.low > o.high) detail::fail<ConfigError>("degrade(): low ({}) > high ({})", o.low, o.high);
  detail::require_finite(attributions.data, "degrade()", "the attributions");

  const Index n = images.size(), k_max = o.steps + 1;
  DegradationCurve curve;
  // The originally predicted classes, max_batch images per forward pass.
  curve.targets.resize(static_cast<std::size_t>(n));
  for (Index start = 0; start < n; start += o.max_batch) {
    const Index count = std::min(o.max_batch, n - start);
    const Matrix<T> out = net.forward(Batch<T>(s, Matrix<T>(images.data.middleCols(start, count)))).data;
    for (Index j = 0; j < count; ++j) out.col(j).maxCoeff(&curve.targets[static_cast<std::size_t>(start + j)]);
  }

  // Replacement values for every pixel of every image.
  Matrix<T> replacement;
  std::mt19937_64 rng(o.seed);
  switch (o.perturbation) {
    case DegradationOptions::Perturbation::uniform: {
      const double lo = o.low < o.high ? o.low : static_cast<double>(images.data.minCoeff());
      const double hi = o.low < o.high ? o.high : static_cast<double>(images.data.maxCoeff());
      std::uniform_real_distribution<double> u(lo, hi);
      replacement.resize(s.size(), n);
      for (Index i = 0; i < replacement.size(); ++i) replacement.data()[i] = static_cast<T>(u(rng));
      break;
    }
    case DegradationOptions::Perturbation::mean:
      replacement = images.data.rowwise().mean().replicate(1, n);
      break;
    case DegradationOptions::Perturbation::blur:
      replacement = detail::box_blur(images.data, s, o.patch_size / 2);
      break;
  }

  // Patch order per image (by summed attribution over the patch and all channels).
  std::vector<std::vector<Index>> order(static_cast<std::size_t>(n));
  for (Index j = 0; j < n; ++j) {
    std::vector<double> score(static_cast<std::size_t>(patches), 0.0);
    for (Index c = 0; c < s.c; ++c)
      for (Index y = 0; y < s.h; ++y)
        for (Index x = 0; x < s.w; ++x)
          score[static_cast<std::size_t>((y / o.patch_size) * pw + x / o.patch_size)] += attributions.data(s.at(c, y, x), j);
    auto& idx = order[static_cast<std::size_t>(j)];
    idx.resize(static_cast<std::size_t>(patches));
    std::iota(idx.begin(), idx.end(), Index{0});
    if (o.order == DegradationOptions::Order::random) {
      std::shuffle(idx.begin(), idx.end(), rng);
    } else {
      const bool descending = o.order == DegradationOptions::Order::most_relevant_first;
      std::stable_sort(idx.begin(), idx.end(), [&](Index a, Index b) {
        return descending ? score[static_cast<std::size_t>(a)] > score[static_cast<std::size_t>(b)]
                          : score[static_cast<std::size_t>(a)] < score[static_cast<std::size_t>(b)];
      });
    }
  }

  // All (image, step) samples in batches of at most max_batch: sample q = j * k_max + k.
  curve.probability.resize(k_max, n);
  curve.distance = Eigen::VectorXd::Zero(k_max);
  const Index total = n * k_max;
  for (Index start = 0; start < total; start += o.max_batch) {
    const Index count = std::min(o.max_batch, total - start);
    Batch<T> batch(s, count);
    for (Index q = start; q < start + count; ++q) {
      const Index j = q / k_max, k = q % k_max;
      auto col = batch.data.col(q - start);
      col = images.data.col(j);
      for (Index t = 0; t < k * o.patches_per_step; ++t) {
        const Index patch = order[static_cast<std::size_t>(j)][static_cast<std::size_t>(t)];
        const Index y0 = (patch / pw) * o.patch_size, x0 = (patch % pw) * o.patch_size;
        for (Index c = 0; c < s.c; ++c)
          for (Index y = y0; y < y0 + o.patch_size; ++y)
            for (Index x = x0; x < x0 + o.patch_size; ++x) col(s.at(c, y, x)) = replacement(s.at(c, y, x), j);
      }
      curve.distance(k) += (col - images.data.col(j)).template cast<double>().norm();
    }
    const Eigen::MatrixXd p = detail::probabilities(net, batch);
    for (Index q = start; q < start + count; ++q) {
      const Index j = q / k_max;
      curve.probability(q % k_max, j) = p(curve.targets[static_cast<std::size_t>(j)], q - start);
    }
    if (o.progress) o.progress(Progress{start / o.max_batch + 1, start + count, total});
  }
  curve.mean = curve.probability.rowwise().mean();
  curve.distance /= static_cast<double>(n);
  curve.sd = ((curve.probability.colwise() - curve.mean).array().square().rowwise().mean()).sqrt().matrix();
  curve.area = (curve.mean.sum() - 0.5 * (curve.mean(0) + curve.mean(k_max - 1))) / static_cast<double>(o.steps);
  return curve;
}

}  // namespace patternnet
