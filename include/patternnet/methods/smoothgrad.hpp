#pragma once
// SmoothGrad (Smilkov et al. 2017) and its squared and VarGrad variants (Adebayo et al.
// 2018): statistics of the gradient of the selected logit over noisy copies of the input.

#include <patternnet/methods/gradient_batches.hpp>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>

namespace patternnet::methods {

/// mean: SmoothGrad, (1/n) sum_k g_k; squared: SmoothGrad^2, (1/n) sum_k g_k^2;
/// var: VarGrad, (1/n) sum_k (g_k - mean)^2 (the population variance). g_k = the gradient
/// at the k-th noisy copy, element-wise.
enum class SmoothGradVariant { mean, squared, var };

struct SmoothGradOptions {
  /// n >= 1 noisy copies per sample.
  Index samples = 50;
  /// Noise standard deviation relative to the input range: copy k of sample x is
  /// x + N(0, sigma_x^2) element-wise, sigma_x = sigma * (max(x) - min(x)) over the features
  /// of that sample (0 for a constant sample). >= 0; 0.15 is Smilkov et al.'s suggestion.
  double sigma = 0.15;
  SmoothGradVariant variant = SmoothGradVariant::mean;
  /// Seeds the noise: the same seed gives bitwise the same result (for the same chunk and
  /// platform). The noise is Box-Muller on std::mt19937_64, drawn sample by sample, copy by
  /// copy, feature by feature, whatever the chunk.
  std::uint64_t seed = 0;
  /// At most this many noisy copies per forward + backward pass (>= 1), as in
  /// IntegratedGradientsOptions::chunk.
  Index chunk = 32;
};

namespace detail {

/// Standard normal deviates by the Box-Muller transform on 53-bit uniforms of
/// std::mt19937_64 (whose output the C++ standard fixes, unlike std::normal_distribution's).
class NormalSource {
public:
  explicit NormalSource(std::uint64_t seed) : rng_(seed) {}
  double operator()() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = (double((rng_() >> 11) + 1)) * 0x1.0p-53;  // (0, 1]
    const double u2 = double(rng_() >> 11) * 0x1.0p-53;          // [0, 1)
    const double radius = std::sqrt(-2.0 * std::log(u1));
    spare_ = radius * std::sin(2.0 * std::numbers::pi * u2);
    has_spare_ = true;
    return radius * std::cos(2.0 * std::numbers::pi * u2);
  }

private:
  std::mt19937_64 rng_;
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace detail

/// SmoothGrad of the selected logit (below a final Softmax, selected at the clean x) of
/// every sample of x. Statistics are accumulated in double (Welford). target_values are
/// the logits at x. Throws ConfigError for samples or chunk < 1 or sigma < 0.
template <class T>
[[nodiscard]] Explanation<T> smoothgrad(const Graph<T>& net, const Batch<T>& x,
                                        const Target& target = Target::argmax(), const SmoothGradOptions& options = {}) {
  constexpr const char* where = "smoothgrad()";
  if (options.samples < 1) {
    patternnet::detail::fail<ConfigError>("{}: samples must be >= 1, got {}", where, options.samples);
  }
  if (!(options.sigma >= 0) || !std::isfinite(options.sigma)) {
    patternnet::detail::fail<ConfigError>("{}: sigma must be finite and >= 0, got {}", where, options.sigma);
  }
  detail::require_chunk(options.chunk, where);
  net.check_input(x, where);
  const Index n = x.size(), d = x.data.rows(), copies = options.samples;

  Explanation<T> result;
  auto [logits, targets] = detail::logits_and_targets(net, x, target, where);
  result.target_values.resize(n);
  for (Index j = 0; j < n; ++j) result.target_values(j) = logits(targets[static_cast<std::size_t>(j)], j);
  const Vector<double> sigma =
      options.sigma * (x.data.colwise().maxCoeff() - x.data.colwise().minCoeff()).transpose().template cast<double>();

  detail::NormalSource normal(options.seed);
  Matrix<double> mean = Matrix<double>::Zero(d, n), m2 = Matrix<double>::Zero(d, n);
  detail::chunked_gradients(
      where, net, n, copies, targets, options.chunk,
      [&](Index j, Index /*k*/, auto column) {
        for (Index i = 0; i < d; ++i) column(i) = x.data(i, j) + T(sigma(j) * normal());
      },
      [&](Index j, Index k, const auto& gradient) {  // Welford's update, copy k + 1 of n
        const Vector<double> g = gradient.template cast<double>();
        const Vector<double> before = g - mean.col(j);
        mean.col(j) += before / double(k + 1);
        m2.col(j) += before.cwiseProduct(g - mean.col(j));
      });

  const Matrix<double> variance = m2 / double(copies);
  Matrix<double> out;
  switch (options.variant) {
    case SmoothGradVariant::mean: out = mean; break;
    case SmoothGradVariant::squared: out = variance + mean.cwiseAbs2(); break;
    case SmoothGradVariant::var: out = variance; break;
  }
  result.attribution = Batch<T>(x.shape, out.template cast<T>());
  result.targets = std::move(targets);
  return result;
}

}  // namespace patternnet::methods
