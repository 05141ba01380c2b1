#pragma once
// Stochastic gradient descent with momentum (PyTorch's torch.optim.SGD semantics).

#include <patternnet/training/optimizer.hpp>

namespace patternnet::training {

/// v <- momentum * v + g, w <- w - learning_rate * v, per parameter (v starts at 0).
/// momentum = 0 is plain SGD.
template <class T>
class Sgd {
public:
  explicit Sgd(double learning_rate, double momentum = 0.9) : learning_rate_(learning_rate), momentum_(momentum) {
    if (!(learning_rate > 0) || !(momentum >= 0 && momentum < 1)) {
      patternnet::detail::fail<ConfigError>("Sgd::Sgd(): need learning_rate > 0 and 0 <= momentum < 1, got {} and {}",
                                            learning_rate, momentum);
    }
  }

  void step(Graph<T>& net, const std::vector<ParameterGradient<T>>& grads) {
    const T lr = static_cast<T>(learning_rate_), mu = static_cast<T>(momentum_);
    detail::for_each_parameter(net, grads, "Sgd::step()", [&](std::size_t slot, auto w, auto g) {
      Matrix<T>& v = detail::state(velocity_, slot, w.rows(), w.cols(), "Sgd::step()");
      v = mu * v + g;
      w -= lr * v;
    });
  }

  [[nodiscard]] double learning_rate() const noexcept { return learning_rate_; }
  /// Changes the step size from the next step on (a schedule, e.g. from TrainOptions::on_epoch).
  void set_learning_rate(double learning_rate) {
    if (!(learning_rate > 0)) {
      patternnet::detail::fail<ConfigError>("Sgd::set_learning_rate(): need learning_rate > 0, got {}", learning_rate);
    }
    learning_rate_ = learning_rate;
  }

private:
  double learning_rate_, momentum_;
  std::vector<Matrix<T>> velocity_;
};

}  // namespace patternnet::training
