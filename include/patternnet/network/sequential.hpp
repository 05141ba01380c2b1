#pragma once
// Sequential<T>: a runtime chain of layers from a closed set (std::variant).
//
// The architecture is runtime data (so a model can be loaded from a file); only the
// scalar type is a template parameter. set_input_shape() validates the whole chain once;
// forward() runs inference; record() runs the forward pass that explanations and pattern
// fitting read from (every layer's input and output, and the max-pool argmaxes).

#include <patternnet/layers/concepts.hpp>
#include <patternnet/layers/conv2d.hpp>
#include <patternnet/layers/dense.hpp>
#include <patternnet/layers/flatten.hpp>
#include <patternnet/layers/max_pool2d.hpp>
#include <patternnet/layers/relu.hpp>
#include <patternnet/layers/softmax.hpp>

#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace patternnet {

/// The closed set of layer types.
template <class T>
using Layer = std::variant<Dense<T>, Conv2D<T>, ReLU<T>, MaxPool2D<T>, Softmax<T>, Flatten<T>>;

/// The name of a layer's type ("Dense", "Conv2D", ...).
template <class T>
[[nodiscard]] std::string_view layer_name(const Layer<T>& layer) {
  return std::visit([](const auto& l) { return std::decay_t<decltype(l)>::name; }, layer);
}

/// Everything a backward pass needs from the forward pass.
template <class T>
struct ForwardRecord {
  /// activations[l] is the input of layer l; activations[L] is the network output.
  std::vector<Matrix<T>> activations;
  /// argmax[l] is filled for MaxPool2D layers, empty otherwise.
  std::vector<IndexMatrix> argmax;
};

template <class T>
class Sequential {
public:
  using Scalar = T;

  Sequential() = default;
  template <class... Layers>
    requires(sizeof...(Layers) > 0 && (std::is_constructible_v<Layer<T>, Layers> && ...))
  explicit Sequential(Layers... layers) {
    layers_.reserve(sizeof...(Layers));
    (layers_.emplace_back(std::move(layers)), ...);
  }

  /// Appends a layer; the network must be bound again with set_input_shape().
  void add(Layer<T> layer) {
    layers_.push_back(std::move(layer));
    shapes_.clear();
  }

  /// Validates the chain on this input shape. Throws ShapeError naming the first layer
  /// that does not fit; the network stays unbound (ready() is false) after a failure.
  void set_input_shape(Shape in) {
    if (layers_.empty()) detail::fail<ShapeError>("Sequential::set_input_shape(): the network has no layers");
    if (in.c < 1 || in.h < 1 || in.w < 1) {
      detail::fail<ShapeError>("Sequential::set_input_shape(): input shape {} has an empty axis", in);
    }
    std::vector<Shape> shapes{in};
    try {
      for (Index l = 0; l < size(); ++l) {
        shapes.push_back(std::visit([&](auto& layer) { return layer.bind(shapes.back(), l); },
                                    layers_[static_cast<std::size_t>(l)]));
      }
    } catch (const Error& e) {
      shapes_.clear();
      rethrow_with_prefix(e, "Sequential::set_input_shape(): ");
    }
    shapes_ = std::move(shapes);
  }

  [[nodiscard]] bool ready() const noexcept { return !shapes_.empty(); }
  [[nodiscard]] Index size() const noexcept { return static_cast<Index>(layers_.size()); }
  [[nodiscard]] const Layer<T>& layer(Index l) const { return layers_.at(static_cast<std::size_t>(l)); }
  /// Mutable access (e.g. to set weights). Changing a layer's sizes requires set_input_shape().
  [[nodiscard]] Layer<T>& layer(Index l) { return layers_.at(static_cast<std::size_t>(l)); }
  [[nodiscard]] const std::vector<Layer<T>>& layers() const noexcept { return layers_; }

  /// Shape of the input of layer l (l = size() gives the output shape).
  [[nodiscard]] Shape shape_at(Index l) const {
    require_ready("Sequential::shape_at()");
    return shapes_.at(static_cast<std::size_t>(l));
  }
  [[nodiscard]] Shape input_shape() const { return shape_at(0); }
  [[nodiscard]] Shape output_shape() const { return shape_at(size()); }

  /// Number of layers below a final Softmax: the output of layer logits_end()-1 is the
  /// logits that explanations start from (= size() if the network ends without Softmax).
  [[nodiscard]] Index logits_end() const noexcept {
    return (!layers_.empty() && std::holds_alternative<Softmax<T>>(layers_.back())) ? size() - 1
                                                                                   : size();
  }

  /// Inference. Throws ShapeError if x does not have the bound input shape, and
  /// NumericError if x holds NaN or Inf (naming the feature and sample).
  [[nodiscard]] Batch<T> forward(const Batch<T>& x) const {
    check_input(x, "Sequential::forward()");
    Matrix<T> a = x.data;
    for (const auto& layer : layers_) {
      a = std::visit([&](const auto& l) { return l.forward(a); }, layer);
    }
    return Batch<T>(output_shape(), std::move(a));
  }

  /// The forward pass with every intermediate kept (for explanations and statistics).
  /// Same checks as forward(). `end` < size() stops after layer end-1.
  [[nodiscard]] ForwardRecord<T> record(const Batch<T>& x, Index end = -1) const {
    check_input(x, "Sequential::record()");
    if (end < 0) end = size();
    ForwardRecord<T> rec;
    rec.activations.reserve(static_cast<std::size_t>(end + 1));
    rec.argmax.resize(static_cast<std::size_t>(end));
    rec.activations.push_back(x.data);
    for (Index l = 0; l < end; ++l) {
      const Matrix<T>& in = rec.activations.back();
      Matrix<T> out = std::visit(
          [&](const auto& layer) -> Matrix<T> {
            if constexpr (std::is_same_v<std::decay_t<decltype(layer)>, MaxPool2D<T>>) {
              return layer.forward(in, rec.argmax[static_cast<std::size_t>(l)]);
            } else {
              return layer.forward(in);
            }
          },
          layers_[static_cast<std::size_t>(l)]);
      rec.activations.push_back(std::move(out));
    }
    return rec;
  }

  /// Throws unless x fits the bound input shape and is finite.
  void check_input(const Batch<T>& x, const char* where) const {
    require_ready(where);
    if (!(x.shape == input_shape()) || x.data.rows() != input_shape().size()) {
      detail::fail<ShapeError>("{}: the network expects input shape {}, got a batch of shape {} with {} rows",
                               where, input_shape(), x.shape, x.data.rows());
    }
    if (x.size() < 1) detail::fail<ShapeError>("{}: the batch is empty", where);
    detail::require_finite(x.data, where, "the input");
  }

private:
  void require_ready(const char* where) const {
    if (!ready()) {
      detail::fail<ShapeError>("{}: call set_input_shape() first (the network is not bound to an input shape)",
                               where);
    }
  }

  [[noreturn]] static void rethrow_with_prefix(const Error& e, const char* prefix) {
    const std::string msg = std::string(prefix) + e.what();
    if (dynamic_cast<const ShapeError*>(&e)) throw ShapeError(msg);
    if (dynamic_cast<const ConfigError*>(&e)) throw ConfigError(msg);
    throw Error(msg);
  }

  std::vector<Layer<T>> layers_;
  std::vector<Shape> shapes_;  // shapes_[l] = input of layer l; empty = not bound
};

}  // namespace patternnet
