#pragma once
// What an optimizer provides, and the walk over a network's parameters that the
// optimizers share.

#include <patternnet/training/gradients.hpp>

#include <concepts>
#include <type_traits>
#include <variant>
#include <vector>

namespace patternnet::training {

/// An optimizer updates a network's weights from parameter_gradients() of that network.
template <class O, class T>
concept Optimizer = requires(O& optimizer, Graph<T>& net, const std::vector<ParameterGradient<T>>& g) {
  optimizer.step(net, g);
};

namespace detail {

/// Calls f(slot, parameter, gradient) for every weight and bias (a BatchNorm2D's gamma and
/// beta) in `grads`, with the
/// parameter and gradient as column-major maps of the same shape, and slot = 2 * (position
/// in grads) + (0 for the weight, 1 for the bias): the index of the optimizer's state.
/// Throws ShapeError (naming `where` and the layer) if a gradient does not fit its layer.
template <class T, class F>
void for_each_parameter(Graph<T>& net, const std::vector<ParameterGradient<T>>& grads, const char* where, F&& f) {
  for (std::size_t i = 0; i < grads.size(); ++i) {
    const ParameterGradient<T>& g = grads[i];
    if (g.layer < 0 || g.layer >= net.size()) {
      patternnet::detail::fail<ShapeError>("{}: gradient for layer {}, the network has {} layers", where, g.layer, net.size());
    }
    std::visit(
        [&](auto& layer) {
          if constexpr (LinearLayer<std::decay_t<decltype(layer)>>) {
            if (g.weight.rows() != layer.weight().rows() || g.weight.cols() != layer.weight().cols() ||
                g.bias.size() != layer.bias().size()) {
              patternnet::detail::fail<ShapeError>(
                  "{}: the gradient of layer {} ({}) is {}x{} + bias {}, the layer has {}x{} + bias {}", where, g.layer,
                  layer.name, g.weight.rows(), g.weight.cols(), g.bias.size(), layer.weight().rows(),
                  layer.weight().cols(), layer.bias().size());
            }
            f(2 * i, Eigen::Map<Matrix<T>>(layer.weight().data(), g.weight.rows(), g.weight.cols()),
              Eigen::Map<const Matrix<T>>(g.weight.data(), g.weight.rows(), g.weight.cols()));
            if (g.bias.size() != 0) {
              f(2 * i + 1, Eigen::Map<Matrix<T>>(layer.bias().data(), g.bias.size(), 1),
                Eigen::Map<const Matrix<T>>(g.bias.data(), g.bias.size(), 1));
            }
          } else if constexpr (std::is_same_v<std::decay_t<decltype(layer)>, BatchNorm2D<T>>) {
            const Index c = layer.channels();
            if (g.weight.rows() != c || g.weight.cols() != 1 || g.bias.size() != c) {
              patternnet::detail::fail<ShapeError>(
                  "{}: the gradient of layer {} (BatchNorm2D) is {}x{} + bias {}, the layer has {} channels", where,
                  g.layer, g.weight.rows(), g.weight.cols(), g.bias.size(), c);
            }
            f(2 * i, Eigen::Map<Matrix<T>>(layer.weight().data(), c, 1), Eigen::Map<const Matrix<T>>(g.weight.data(), c, 1));
            f(2 * i + 1, Eigen::Map<Matrix<T>>(layer.bias().data(), c, 1), Eigen::Map<const Matrix<T>>(g.bias.data(), c, 1));
          } else {
            patternnet::detail::fail<ShapeError>("{}: gradient for layer {} ({}), which has no parameters", where, g.layer,
                                                 layer.name);
          }
        },
        net.layer(g.layer));
  }
}

/// The state matrix of `slot`, created as zeros of `rows x cols` on first use. Throws
/// ConfigError if the slot was created with another shape (another network).
template <class T>
Matrix<T>& state(std::vector<Matrix<T>>& states, std::size_t slot, Index rows, Index cols, const char* where) {
  if (states.size() <= slot) states.resize(slot + 1);
  Matrix<T>& s = states[slot];
  if (s.size() == 0) s = Matrix<T>::Zero(rows, cols);
  if (s.rows() != rows || s.cols() != cols) {
    patternnet::detail::fail<ConfigError>("{}: parameter {} is {}x{}, the optimizer's state for it is {}x{} "
                                          "(use one optimizer per network)",
                                          where, slot, rows, cols, s.rows(), s.cols());
  }
  return s;
}

}  // namespace detail
}  // namespace patternnet::training
