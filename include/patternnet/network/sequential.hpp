#pragma once
// Sequential<T>: a chain of layers, the common special case of a Graph<T> (graph.hpp):
// layer l reads the output of layer l - 1 (layer 0 the network input), so node index =
// layer index, and everything that takes a Graph<T> takes a Sequential<T>.

#include <patternnet/network/graph.hpp>

#include <type_traits>
#include <utility>

namespace patternnet {

template <class T>
class Sequential : public Graph<T> {
public:
  Sequential() : Graph<T>("Sequential") {}
  template <class... Layers>
    requires(sizeof...(Layers) > 0 && (std::is_constructible_v<Layer<T>, Layers> && ...))
  explicit Sequential(Layers... layers) : Sequential() {
    (add(Layer<T>(std::move(layers))), ...);
  }

  /// A graph that is a chain (node l reads node l - 1), e.g. what io::load_model returns
  /// for a chain; throws ConfigError naming the first node that reads another one.
  Sequential(Graph<T> chain)  // NOLINT(google-explicit-constructor): load_model's result converts
      : Graph<T>(std::move(chain)) {
    this->rename_kind("Sequential");
    for (Index l = 0; l < this->size(); ++l) {
      const auto& in = this->inputs(l);
      if (in.size() != 1 || in[0] != l - 1) {
        detail::fail<ConfigError>("Sequential::Sequential(): layer {} ({}) does not read layer {} only: the graph is "
                                  "not a chain (use a Graph)", l, layer_name<T>(this->layer(l)), l - 1);
      }
    }
  }

  /// Appends a layer reading the previous one; the network must be bound again with
  /// set_input_shape().
  void add(Layer<T> layer) { Graph<T>::add(std::move(layer), this->size() - 1); }
};

}  // namespace patternnet
