#pragma once
// Adam (Kingma & Ba, ICLR 2015), with the bias-corrected moments of the paper's Algorithm 1.

#include <patternnet/training/optimizer.hpp>

#include <cmath>

namespace patternnet::training {

struct AdamOptions {
  double learning_rate = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-8;
};

/// Per parameter, at step t = 1, 2, ...: m <- b1 m + (1 - b1) g, v <- b2 v + (1 - b2) g^2,
/// w <- w - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
template <class T>
class Adam {
public:
  explicit Adam(AdamOptions options = {}) : options_(options) {
    if (!(options.learning_rate > 0) || !(options.beta1 >= 0 && options.beta1 < 1) ||
        !(options.beta2 >= 0 && options.beta2 < 1) || !(options.epsilon > 0)) {
      patternnet::detail::fail<ConfigError>(
          "Adam::Adam(): need learning_rate > 0, 0 <= beta1, beta2 < 1 and epsilon > 0, got {}, {}, {}, {}",
          options.learning_rate, options.beta1, options.beta2, options.epsilon);
    }
  }

  void step(Graph<T>& net, const std::vector<ParameterGradient<T>>& grads) {
    ++t_;
    const double c1 = 1 - std::pow(options_.beta1, static_cast<double>(t_));
    const double c2 = 1 - std::pow(options_.beta2, static_cast<double>(t_));
    const T b1 = static_cast<T>(options_.beta1), b2 = static_cast<T>(options_.beta2);
    const T step = static_cast<T>(options_.learning_rate / c1), scale = static_cast<T>(1 / std::sqrt(c2));
    const T eps = static_cast<T>(options_.epsilon);
    detail::for_each_parameter(net, grads, "Adam::step()", [&](std::size_t slot, auto w, auto g) {
      Matrix<T>& m = detail::state(m_, slot, w.rows(), w.cols(), "Adam::step()");
      Matrix<T>& v = detail::state(v_, slot, w.rows(), w.cols(), "Adam::step()");
      m = b1 * m + (T(1) - b1) * g;
      v = b2 * v + (T(1) - b2) * g.cwiseAbs2();
      w.array() -= step * m.array() / (v.array().sqrt() * scale + eps);
    });
  }

  [[nodiscard]] const AdamOptions& options() const noexcept { return options_; }
  /// Changes the step size from the next step on (a schedule, e.g. from TrainOptions::on_epoch).
  void set_learning_rate(double learning_rate) {
    if (!(learning_rate > 0)) {
      patternnet::detail::fail<ConfigError>("Adam::set_learning_rate(): need learning_rate > 0, got {}", learning_rate);
    }
    options_.learning_rate = learning_rate;
  }
  /// Steps taken so far.
  [[nodiscard]] long long steps() const noexcept { return t_; }

private:
  AdamOptions options_;
  long long t_ = 0;
  std::vector<Matrix<T>> m_, v_;
};

}  // namespace patternnet::training
