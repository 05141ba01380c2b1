#pragma once
// Graph<T>: a network as a DAG of nodes, each a layer (layers/registry.hpp) with its input
// nodes. A chain (Sequential<T>, sequential.hpp) is the common special case.
//
//   pn::Graph<float> g;
//   const auto stem = g.add(pn::Conv2D<float>{1, 8, 3, pn::Padding{1}}, g.input);
//   const auto act  = g.add(pn::ReLU<float>{}, stem);
//   const auto body = g.add(pn::Conv2D<float>{8, 8, 3, pn::Padding{1}}, act, "block1/conv");
//   const auto sum  = g.add(pn::Add<float>{}, {body, act}, "block1/add");   // a residual sum
//   ...
//   g.set_input_shape({1, 28, 28});   // validates every node once
//
// A node's inputs are nodes added before it (or the network input), so every graph is
// acyclic by construction and node order is a topological order; the last node is the
// output. set_input_shape() validates arity, shapes and that every node feeds the output.
// forward() runs inference in node order; record() keeps every node's output and cache
// for the backward passes (explain.hpp), which run in reverse node order and sum the
// quantities a node's several consumers send back to it (fan-out).

#include <patternnet/core/hash.hpp>
#include <patternnet/core/workspace.hpp>
#include <patternnet/layers/concepts.hpp>
#include <patternnet/layers/registry.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace patternnet {

/// Everything a backward pass needs from the forward pass. Its buffers go back to the
/// workspace (core/workspace.hpp) when it is destroyed.
template <class T>
struct ForwardRecord {
  /// activations[0] is the network input, activations[n + 1] the output of node n. In a
  /// chain, activations[l] is thus the input of layer l and activations.back() the output.
  std::vector<Matrix<T>> activations;
  /// caches[n]: what node n's forward pass kept for its backward pass (the max-pool
  /// winners; NoCache for most layers).
  std::vector<LayerCache<T>> caches;

  ForwardRecord() = default;
  ForwardRecord(const ForwardRecord&) = default;
  ForwardRecord(ForwardRecord&&) noexcept = default;
  ForwardRecord& operator=(const ForwardRecord&) = default;
  ForwardRecord& operator=(ForwardRecord&&) noexcept = default;
  ~ForwardRecord() {
    for (Matrix<T>& a : activations) workspace::recycle(a);
    for (LayerCache<T>& c : caches) {
      std::visit([](auto& kept) {
        if constexpr (requires { workspace::recycle(kept); }) workspace::recycle(kept);
      }, c);
    }
  }
};

/// The forward quantities of node `index` that a rule may read.
template <class T>
struct LayerContext {
  Index index;                               // the node
  const Matrix<T>& input;                    // its (first) input x
  const Matrix<T>& output;                   // its output z
  std::span<const Matrix<T>* const> inputs;  // all its inputs (merge layers: two or more)
  const LayerCache<T>& cache;                // what its forward pass kept
};

/// The cache that `layer`'s forward pass recorded in ctx.
template <class L, class T>
[[nodiscard]] const typename L::Cache& cache_of(const L& /*layer*/, const LayerContext<T>& ctx) {
  return std::get<typename L::Cache>(ctx.cache);
}

template <class T>
class Graph {
public:
  using Scalar = T;

  /// The network input, as an input of add().
  static constexpr Index input = -1;

  Graph() = default;

  /// Adds a node computing `layer` on the outputs of `inputs` (earlier nodes, or `input`),
  /// and returns its index. Throws ConfigError for an input that is not an earlier node
  /// (graphs are acyclic by construction) or a name already taken. The network must be
  /// bound again with set_input_shape().
  Index add(Layer<T> layer, std::vector<Index> inputs, std::string name = {});
  Index add(Layer<T> layer, Index in, std::string name = {}) {
    return add(std::move(layer), std::vector<Index>{in}, std::move(name));
  }
  Index add(Layer<T> layer, std::initializer_list<Index> inputs, std::string name = {}) {
    return add(std::move(layer), std::vector<Index>(inputs), std::move(name));
  }

  /// Validates the graph on this input shape: every node's arity, every node's input
  /// shapes, and that every node feeds the output (the last node). Throws ShapeError or
  /// ConfigError naming the first node that does not fit; the network stays unbound
  /// (ready() is false) after a failure.
  void set_input_shape(Shape in);

  [[nodiscard]] bool ready() const noexcept { return !shapes_.empty(); }
  /// The number of nodes (layers).
  [[nodiscard]] Index size() const noexcept { return static_cast<Index>(nodes_.size()); }
  [[nodiscard]] const Layer<T>& layer(Index n) const { return nodes_[checked(n, "layer()")].layer; }
  /// Mutable access (e.g. to set weights). Changing a layer's sizes requires set_input_shape().
  [[nodiscard]] Layer<T>& layer(Index n) { return nodes_[checked(n, "layer()")].layer; }

  /// The layer of node n as an L (e.g. net.get<pn::Dense<float>>(4)); throws ShapeError
  /// naming the node's actual type if it is not an L.
  template <class L>
  [[nodiscard]] const L& get(Index n) const {
    const L* l = std::get_if<L>(&layer(n));
    if (l == nullptr) {
      detail::fail<ShapeError>("{}::get(): {} is a {}, not a {}", kind_, label(n), layer_name<T>(layer(n)), L::name);
    }
    return *l;
  }
  template <class L>
  [[nodiscard]] L& get(Index n) {
    return const_cast<L&>(std::as_const(*this).template get<L>(n));
  }

  /// The input nodes of node n (Graph::input = the network input).
  [[nodiscard]] const std::vector<Index>& inputs(Index n) const { return nodes_[checked(n, "inputs()")].inputs; }
  /// The name given to node n (empty if none).
  [[nodiscard]] const std::string& name(Index n) const { return nodes_[checked(n, "name()")].name; }
  /// The node named `name`, or -1.
  [[nodiscard]] Index find(std::string_view name) const {
    for (Index n = 0; n < size(); ++n) {
      if (nodes_[static_cast<std::size_t>(n)].name == name) return n;
    }
    return -1;
  }
  /// "layer 3" or "node 3 'block1/add'", as messages name a node.
  [[nodiscard]] std::string label(Index n) const {
    const std::string& nm = nodes_[checked(n, "label()")].name;
    return nm.empty() ? fmt::format("layer {}", n) : fmt::format("node {} '{}'", n, nm);
  }

  /// Shape of value v: the network input (v = 0) or the output of node v - 1 (in a chain,
  /// the input of layer v; v = size() gives the output shape).
  [[nodiscard]] Shape shape_at(Index v) const {
    require_ready("shape_at()");
    if (v < 0 || v > size()) {
      detail::fail<ShapeError>("{}::shape_at(): value {} is out of range (0..{})", kind_, v, size());
    }
    return shapes_[static_cast<std::size_t>(v)];
  }
  [[nodiscard]] Shape input_shape() const { return shape_at(0); }
  [[nodiscard]] Shape output_shape() const { return shape_at(size()); }

  /// Number of nodes up to the logits that explanations start from: the output node is a
  /// Softmax reading node s, this is s + 1; otherwise size().
  [[nodiscard]] Index logits_end() const noexcept {
    if (nodes_.empty() || !std::holds_alternative<Softmax<T>>(nodes_.back().layer)) return size();
    return nodes_.back().inputs.empty() ? size() : nodes_.back().inputs[0] + 1;
  }

  /// Inference. Throws ShapeError if x does not have the bound input shape or if a
  /// layer's parameters were resized after set_input_shape(), and NumericError if x holds
  /// NaN or Inf (naming the feature and sample) or if the output of a layer with
  /// parameters is not finite (naming the node, and whether its parameters are NaN / Inf
  /// or its output overflowed). Frees every intermediate after its last consumer.
  [[nodiscard]] Batch<T> forward(const Batch<T>& x) const;

  /// The forward pass with every node's output and cache kept (for explanations and
  /// statistics). Same checks as forward(). `end` < size() stops after node end - 1.
  [[nodiscard]] ForwardRecord<T> record(const Batch<T>& x, Index end = -1) const;

  /// Continues a forward pass that record() stopped early: computes nodes rec.caches.size()
  /// to end - 1 (end < 0: all) from the values rec holds. Lets a caller change a node (e.g.
  /// a BatchNorm2D's statistics) after the nodes below it were computed.
  void extend(ForwardRecord<T>& rec, Index end = -1) const;

  /// Throws unless x fits the bound input shape and is finite.
  void check_input(const Batch<T>& x, const char* where) const;

  /// A 64-bit FNV-1a fingerprint of the bound architecture: the input shape and, per node,
  /// its type, its inputs, its output shape and its parameter sizes (not node names, weights
  /// or the scalar type). Pattern files store it to recognise patterns of another network
  /// (io/pattern_file.hpp). Throws ShapeError unless ready().
  [[nodiscard]] std::uint64_t architecture_fingerprint() const;

protected:
  /// `kind` names the class in messages ("Graph", "Sequential").
  explicit Graph(const char* kind) : kind_(kind) {}
  void rename_kind(const char* kind) noexcept { kind_ = kind; }

private:
  struct Node {
    Layer<T> layer;
    std::vector<Index> inputs;
    std::string name;
  };

  [[nodiscard]] std::size_t checked(Index n, const char* what) const {
    if (n < 0 || n >= size()) {
      detail::fail<ShapeError>("{}::{}: layer {} is out of range (the network has {} layers)", kind_, what, n, size());
    }
    return static_cast<std::size_t>(n);
  }

  void check_arity(const std::string& where) const;

  /// Every node must reach the output (the last node).
  void check_used(const std::string& where) const;

  void gather(Index n, const std::vector<Matrix<T>>& values, std::vector<const Matrix<T>*>& in) const {
    in.clear();
    for (const Index i : inputs(n)) in.push_back(&values[static_cast<std::size_t>(i + 1)]);
  }

  /// Node n's forward pass on its inputs; fills *cache if given and the layer keeps one.
  [[nodiscard]] Matrix<T> run(Index n, const std::vector<const Matrix<T>*>& in, LayerCache<T>* cache) const;

  void require_ready(const char* where) const {
    if (!ready()) {
      detail::fail<ShapeError>("{}: call set_input_shape() first (the network is not bound to an input shape)", where);
    }
  }

  [[noreturn]] static void rethrow_with_prefix(const Error& e, const std::string& prefix) {
    const std::string msg = prefix + e.what();
    if (dynamic_cast<const ShapeError*>(&e)) throw ShapeError(msg);
    if (dynamic_cast<const ConfigError*>(&e)) throw ConfigError(msg);
    if (dynamic_cast<const NumericError*>(&e)) throw NumericError(msg);
    if (dynamic_cast<const FormatError*>(&e)) throw FormatError(msg);
    throw Error(msg);
  }

  const char* kind_ = "Graph";
  std::vector<Node> nodes_;
  std::vector<Shape> shapes_;      // shapes_[v]: value v (0 = input, n + 1 = node n); empty = not bound
  std::vector<Index> last_use_;    // last_use_[v]: the last node reading value v
  std::vector<ParameterDims> dims_;  // dims_[n]: node n's parameter sizes when bound
};

// The members that visit every layer type, defined out of the class: a member defined in
// its class is inline, and an inline function is compiled wherever it is used even when
// patternnet::precompiled provides Graph<float> and Graph<double> (precompiled.hpp).

template <class T>
Index Graph<T>::add(Layer<T> layer, std::vector<Index> inputs, std::string name) {
  const Index id = size();
  for (const Index i : inputs) {
    if (i < input || i >= id) {
      detail::fail<ConfigError>("{}::add(): node {} ({}) reads node {}, which is not an earlier node (a node's "
                                "inputs must be added before it, so a graph has no cycles); use {}::input for the "
                                "network input", kind_, id, layer_name<T>(layer), i, kind_);
    }
  }
  if (!name.empty() && find(name) >= 0) {
    detail::fail<ConfigError>("{}::add(): node {} ({}): the name '{}' is already taken by node {}", kind_, id,
                              layer_name<T>(layer), name, find(name));
  }
  nodes_.push_back(Node{std::move(layer), std::move(inputs), std::move(name)});
  shapes_.clear();
  return id;
}

template <class T>
void Graph<T>::set_input_shape(Shape in) {
  const std::string where = std::string(kind_) + "::set_input_shape()";
  shapes_.clear();
  if (nodes_.empty()) detail::fail<ShapeError>("{}: the network has no layers", where);
  if (in.c < 1 || in.h < 1 || in.w < 1) detail::fail<ShapeError>("{}: input shape {} has an empty axis", where, in);
  if (in.checked_size() < 0) detail::fail<ShapeError>("{}: input shape {} has more than 2^63 values", where, in);
  check_arity(where);
  check_used(where);
  std::vector<Shape> shapes{in};
  std::vector<Shape> in_shapes;
  for (Index n = 0; n < size(); ++n) {
    Node& node = nodes_[static_cast<std::size_t>(n)];
    in_shapes.clear();
    for (const Index i : node.inputs) in_shapes.push_back(shapes[static_cast<std::size_t>(i + 1)]);
    try {
      shapes.push_back(std::visit(
          [&](auto& layer) -> Shape {
            if constexpr (std::decay_t<decltype(layer)>::arity == 1) return layer.bind(in_shapes[0], n);
            else return layer.bind(std::span<const Shape>(in_shapes), n);
          },
          node.layer));
    } catch (const Error& e) {
      rethrow_with_prefix(e, node.name.empty() ? where + ": " : fmt::format("{}: node '{}': ", where, node.name));
    }
    if (shapes.back().checked_size() < 0) {
      detail::fail<ShapeError>("{}: the output of {} ({}) has shape {}: more than 2^63 values", where, label(n),
                               layer_name<T>(node.layer), shapes.back());
    }
  }
  last_use_.assign(static_cast<std::size_t>(size() + 1), -1);
  for (Index n = 0; n < size(); ++n) {
    for (const Index i : inputs(n)) last_use_[static_cast<std::size_t>(i + 1)] = n;
  }
  dims_.clear();
  for (const Node& node : nodes_) dims_.push_back(parameter_dims<T>(node.layer));
  shapes_ = std::move(shapes);
}

template <class T>
Batch<T> Graph<T>::forward(const Batch<T>& x) const {
  check_input(x, (std::string(kind_) + "::forward()").c_str());
  std::vector<Matrix<T>> values(static_cast<std::size_t>(size() + 1));
  values[0] = x.data;
  std::vector<const Matrix<T>*> in;
  for (Index n = 0; n < size(); ++n) {
    gather(n, values, in);
    values[static_cast<std::size_t>(n + 1)] = run(n, in, nullptr);
    for (const Index i : inputs(n)) {
      if (last_use_[static_cast<std::size_t>(i + 1)] == n) workspace::recycle(values[static_cast<std::size_t>(i + 1)]);
    }
  }
  return Batch<T>(output_shape(), std::move(values.back()));
}

template <class T>
ForwardRecord<T> Graph<T>::record(const Batch<T>& x, Index end) const {
  check_input(x, (std::string(kind_) + "::record()").c_str());
  if (end < 0 || end > size()) end = size();
  ForwardRecord<T> rec;
  rec.activations.reserve(static_cast<std::size_t>(end + 1));
  rec.caches.reserve(static_cast<std::size_t>(end));
  rec.activations.push_back(x.data);
  extend(rec, end);
  return rec;
}

template <class T>
void Graph<T>::extend(ForwardRecord<T>& rec, Index end) const {
  if (end < 0 || end > size()) end = size();
  const auto done = static_cast<Index>(rec.caches.size());
  if (rec.activations.size() != rec.caches.size() + 1 || done > end) {
    detail::fail<ConfigError>("{}::extend(): the record holds {} values and {} caches, cannot continue to node {}", kind_,
                              rec.activations.size(), rec.caches.size(), end);
  }
  std::vector<const Matrix<T>*> in;
  for (Index n = done; n < end; ++n) {
    gather(n, rec.activations, in);
    rec.caches.push_back(empty_cache<T>(layer(n)));
    Matrix<T> out = run(n, in, &rec.caches.back());
    rec.activations.push_back(std::move(out));
  }
}

template <class T>
std::uint64_t Graph<T>::architecture_fingerprint() const {
  require_ready((std::string(kind_) + "::architecture_fingerprint()").c_str());
  detail::Fnv1a h;
  const auto word = [&h](Index v) { h.add_word(static_cast<std::uint64_t>(v)); };
  const auto shape = [&word](Shape s) { word(s.c), word(s.h), word(s.w); };
  shape(input_shape());
  for (Index n = 0; n < size(); ++n) {
    for (const char c : layer_name<T>(layer(n))) h.add(static_cast<unsigned char>(c));
    word(static_cast<Index>(inputs(n).size()));
    for (const Index i : inputs(n)) word(i);
    shape(shape_at(n + 1));
    for (const Index d : dims_[static_cast<std::size_t>(n)]) word(d);
  }
  return h.value();
}

template <class T>
void Graph<T>::check_input(const Batch<T>& x, const char* where) const {
  require_ready(where);
  if (!(x.shape == input_shape()) || x.data.rows() != input_shape().size()) {
    detail::fail<ShapeError>("{}: the network expects input shape {}, got a batch of shape {} with {} rows", where,
                             input_shape(), x.shape, x.data.rows());
  }
  if (x.size() < 1) detail::fail<ShapeError>("{}: the batch is empty", where);
  detail::require_finite(x.data, where, "the input");
}

template <class T>
void Graph<T>::check_arity(const std::string& where) const {
  for (Index n = 0; n < size(); ++n) {
    const Index arity = layer_arity<T>(layer(n));
    const auto k = static_cast<Index>(inputs(n).size());
    if (arity == 1 && k != 1) {
      detail::fail<ConfigError>("{}: {} ({}) takes 1 input, it was given {}", where, label(n), layer_name<T>(layer(n)), k);
    }
    if (arity == kAnyArity && k < 2) {
      detail::fail<ConfigError>("{}: {} ({}) takes 2 or more inputs, it was given {}", where, label(n),
                                layer_name<T>(layer(n)), k);
    }
  }
}

template <class T>
void Graph<T>::check_used(const std::string& where) const {
  std::vector<bool> used(nodes_.size(), false);
  used.back() = true;
  for (Index n = size() - 1; n >= 0; --n) {
    if (!used[static_cast<std::size_t>(n)]) {
      detail::fail<ConfigError>("{}: {} ({}) is not used: its output reaches no later node, and only the last node "
                                "(the output) may be unread", where, label(n), layer_name<T>(layer(n)));
    }
    for (const Index i : inputs(n)) {
      if (i >= 0) used[static_cast<std::size_t>(i)] = true;
    }
  }
}

template <class T>
Matrix<T> Graph<T>::run(Index n, const std::vector<const Matrix<T>*>& in, LayerCache<T>* cache) const {
  const Layer<T>& l = layer(n);
  const bool parameters = has_parameters<T>(l);
  if (parameters && parameter_dims<T>(l) != dims_[static_cast<std::size_t>(n)]) {
    const auto dims = [](const ParameterDims& d) {
      return d[3] == 0 ? fmt::format("weight {}x{}, bias {}", d[0], d[1], d[2])
                       : fmt::format("weight {}, bias {}, running mean {}, running variance {}", d[0], d[2], d[3], d[4]);
    };
    detail::fail<ShapeError>("{}: {} ({}) was bound with {} and now has {}: its parameters were resized after "
                             "set_input_shape(); call set_input_shape() again", kind_, label(n), layer_name<T>(l),
                             dims(dims_[static_cast<std::size_t>(n)]), dims(parameter_dims<T>(l)));
  }
  Matrix<T> out = std::visit(
      [&](const auto& typed) -> Matrix<T> {
        using L = std::decay_t<decltype(typed)>;
        if constexpr (L::arity != 1) {
          return typed.forward(std::span<const Matrix<T>* const>(in));
        } else if constexpr (std::is_same_v<typename L::Cache, NoCache>) {
          return typed.forward(*in[0]);
        } else if (cache != nullptr) {
          return typed.forward(*in[0], std::get<typename L::Cache>(*cache));
        } else {
          return typed.forward(*in[0]);
        }
      },
      l);
  // The input was checked finite, so NaN or Inf first appears at a layer with parameters.
  if (parameters && !out.allFinite()) {
    if (!parameters_finite<T>(l)) {
      detail::fail<NumericError>("{}: {} ({}) has NaN or Inf parameters (weight, bias or running statistics)",
                                 kind_, label(n), layer_name<T>(l));
    }
    detail::fail<NumericError>("{}: the output of {} ({}) overflowed to Inf or NaN from finite parameters and "
                               "inputs", kind_, label(n), layer_name<T>(l));
  }
  return out;
}

/// Calls f(index, layer) for every Dense and Conv2D node of `net`, in node order (layer is
/// a const or mutable reference to the concrete layer type, as net is const or not).
template <class G, class F>
  requires std::is_base_of_v<Graph<typename std::remove_cvref_t<G>::Scalar>, std::remove_cvref_t<G>>
void for_each_linear(G& net, F&& f) {
  for (Index n = 0; n < net.size(); ++n) {
    std::visit(
        [&](auto& layer) {
          if constexpr (std::decay_t<decltype(layer)>::category == LayerCategory::linear) f(n, layer);
        },
        net.layer(n));
  }
}

}  // namespace patternnet
