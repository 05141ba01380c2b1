#pragma once
// ONNX import: load_onnx<T>(path) turns a model exported by torch.onnx.export (or any ONNX
// model of opsets 11 to 17 made of the ops below) into a Graph<T> bound to the model's
// input shape. docs/onnx.md has the export call, the ops and attributes, and what to do
// with an op that is not supported.
//
// Part of the optional component patternnet::onnx (Debian: libonnx-dev, libprotobuf-dev);
// the core target never includes it.

#include <patternnet/network/canonizers.hpp>
#include <patternnet/network/graph.hpp>

#include <onnx/onnx_pb.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace patternnet::io {

/// How load_onnx() builds the network.
struct OnnxOptions {
  /// Fold every BatchNormalization into the Conv or Gemm before it where that node feeds
  /// nothing else (canonize(), network/canonizers.hpp); the others stay BatchNorm2D nodes.
  bool fold_batch_norm = true;
};

/// The ops load_onnx() imports.
inline constexpr std::string_view kOnnxSupportedOps =
    "Conv, Gemm, MatMul (with a constant weight; an Add of a constant after it becomes the bias), Relu, MaxPool, "
    "AveragePool, GlobalAveragePool, BatchNormalization, Add, Sum, Concat, Flatten, Reshape (flattening only), "
    "Softmax, Identity, Dropout, Pad (with zeros, before an AveragePool), and on constants: Constant, Shape, Gather, Unsqueeze, Concat, Cast";

}  // namespace patternnet::io

namespace patternnet::detail::onnx_import {

using io::OnnxOptions;
using io::kOnnxSupportedOps;

/// A constant: an initialiser, a Constant node, or a value computed from constants and
/// shapes (the Shape -> Gather -> Unsqueeze -> Concat subgraph of x.view(x.size(0), -1)).
/// Small ones (shapes, scalars, biases) are decoded into `values`; large ones (weights)
/// are decoded from `proto` once, straight into the layer's matrix. NaN stands for the
/// batch size when the model leaves it symbolic.
struct Tensor {
  std::vector<Index> dims;
  std::vector<double> values;
  const ::onnx::TensorProto* proto = nullptr;
  std::size_t count = 0;
  std::string what;  // "initializer 'conv1.weight'", for messages
  [[nodiscard]] bool decoded() const noexcept { return values.size() == count; }
};

inline constexpr std::size_t kDecodeAtOnce = std::size_t{1} << 16;

/// The n values of t (whose sizes were checked) as Out, from raw_data or the typed field.
template <class Out>
void decode(const ::onnx::TensorProto& t, std::size_t n, Out* dst) {
  const std::string& raw = t.raw_data();
  auto from = [&](auto tag, const auto& typed) {
    using S = decltype(tag);
    if (raw.empty()) {
      for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<Out>(typed.Get(static_cast<int>(i)));
    } else {
      for (std::size_t i = 0; i < n; ++i) {
        S s;
        std::memcpy(&s, raw.data() + i * sizeof(S), sizeof(S));
        dst[i] = static_cast<Out>(s);
      }
    }
  };
  switch (t.data_type()) {
    case ::onnx::TensorProto_DataType_FLOAT: from(float{}, t.float_data()); break;
    case ::onnx::TensorProto_DataType_DOUBLE: from(double{}, t.double_data()); break;
    case ::onnx::TensorProto_DataType_INT64: from(std::int64_t{}, t.int64_data()); break;
    default: from(std::int32_t{}, t.int32_data()); break;  // INT32: to_tensor() admits no other type
  }
}

/// What a tensor name refers to: a constant, or the output of a network node (or the
/// network input) with its per-sample shape and its ONNX rank (2: N x F, 4: N x C x H x W).
struct Value {
  bool constant = false;
  Tensor tensor;
  Index node = -2;
  Shape shape{};
  int rank = 0;
  /// The zero padding of a Pad node not applied yet: only an AveragePool may read such a
  /// value (torch exports AvgPool2d(count_include_pad=True) as Pad + AveragePool).
  Padding pad{};
  bool padded = false;
};

inline constexpr Index kMaxSide = Index{1} << 16, kMaxChannels = Index{1} << 24;

template <class T>
class Importer {
public:
  Importer(const ::onnx::ModelProto& model, std::string origin, OnnxOptions options)
      : model_(model), origin_(std::move(origin)), options_(options) {}

  Graph<T> run() {
    check_opsets();
    const auto& g = model_.graph();
    for (const auto& init : g.initializer()) {
      Value v;
      v.constant = true;
      v.tensor = to_tensor(init, fmt::format("initializer '{}'", init.name()));
      values_[init.name()] = std::move(v);
    }
    for (const auto& node : g.node()) {
      for (const auto& in : node.input()) ++uses_[in];
    }
    for (const auto& out : g.output()) ++uses_[out.name()];
    read_input();
    for (int i = 0; i < g.node_size(); ++i) {
      index_ = i;
      import_node(g.node(i));
    }
    index_ = -1;
    if (g.output_size() != 1) fail<ConfigError>("the graph has {} outputs; one is supported", g.output_size());
    const Value& out = value(g.output(0).name(), "the graph output");
    if (out.constant || out.node < 0 || out.node != net_.size() - 1) {
      fail<ConfigError>("the graph output '{}' is not computed by the last network node (it is {})",
                        g.output(0).name(), out.constant ? "a constant" : out.node < 0 ? "the input" : "an earlier node");
    }
    try {
      net_.set_input_shape(input_shape_);
      bool has_batch_norm = false;
      for (Index n = 0; n < net_.size(); ++n) has_batch_norm = has_batch_norm || std::holds_alternative<BatchNorm2D<T>>(net_.layer(n));
      if (options_.fold_batch_norm && has_batch_norm) return canonize(net_);
    } catch (const Error& e) {
      fail<ConfigError>("{}", e.what());
    }
    return std::move(net_);
  }

private:
  using Node = ::onnx::NodeProto;

  template <class E, class... Args>
  [[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) const {
    const std::string msg = fmt::format(format, std::forward<Args>(args)...);
    if (index_ < 0) detail::fail<E>("ONNX model '{}': {}", origin_, msg);
    const Node& n = model_.graph().node(index_);
    detail::fail<E>("ONNX model '{}': node {} '{}' ({}): {}", origin_, index_, node_name(n), n.op_type(), msg);
  }

  static std::string node_name(const Node& n) {
    return !n.name().empty() ? n.name() : n.output_size() > 0 ? n.output(0) : std::string();
  }

  void check_opsets() {
    bool found = false;
    for (const auto& op : model_.opset_import()) {
      if (op.domain().empty() || op.domain() == "ai.onnx") {
        found = true;
        opset_ = op.version();
      }
    }
    if (!found) fail<ConfigError>("the model imports no default (ai.onnx) opset");
    if (opset_ < 11 || opset_ > 17) {
      fail<ConfigError>("opset {} is not supported (11 to 17 are; export with opset_version=17)", opset_);
    }
  }

  // ---- constants ---------------------------------------------------------------------

  /// Checks t's type, dimensions and data size; decodes it if it is small.
  Tensor to_tensor(const ::onnx::TensorProto& t, const std::string& what) const {
    if (t.data_location() == ::onnx::TensorProto_DataLocation_EXTERNAL) {
      fail<ConfigError>("{} is stored in an external data file, which is not supported: save the model as one file "
                        "(onnx.save(model, path, save_as_external_data=False), models up to 2 GB)", what);
    }
    Tensor out;
    out.what = what;
    out.proto = &t;
    Index count = 1;
    for (const auto d : t.dims()) {
      if (d < 0 || (d != 0 && count > (Index{1} << 40) / d)) fail<FormatError>("{} has invalid dimensions", what);
      count *= d;
      out.dims.push_back(d);
    }
    const auto n = static_cast<std::size_t>(count);
    out.count = n;
    std::size_t item = 0;
    int typed = 0;
    switch (t.data_type()) {
      case ::onnx::TensorProto_DataType_FLOAT: item = 4, typed = t.float_data_size(); break;
      case ::onnx::TensorProto_DataType_DOUBLE: item = 8, typed = t.double_data_size(); break;
      case ::onnx::TensorProto_DataType_INT64: item = 8, typed = t.int64_data_size(); break;
      case ::onnx::TensorProto_DataType_INT32: item = 4, typed = t.int32_data_size(); break;
      default:
        fail<ConfigError>("{} has data type {}, which is not supported (float, double, int64, int32 are)", what,
                          t.data_type());
    }
    const std::size_t raw = t.raw_data().size();
    if (raw != 0 ? raw / item != n || raw % item != 0 : static_cast<std::size_t>(typed) != n) {
      fail<FormatError>("{} has {} {} of data, its dimensions ({}) need {}", what, raw != 0 ? raw : static_cast<std::size_t>(typed),
                        raw != 0 ? "bytes" : "values", fmt::join(out.dims, " x "), raw != 0 ? n * item : n);
    }
    if (n <= kDecodeAtOnce) {
      out.values.resize(n);
      decode(t, n, out.values.data());
      for (std::size_t i = 0; i < n; ++i) {
        if (!std::isfinite(out.values[i])) fail<FormatError>("{} holds NaN or Inf (element {})", what, i);
      }
    }
    return out;
  }

  /// The values of a constant that shape arithmetic reads (it must be small).
  const std::vector<double>& values_of(const Tensor& t) const {
    if (!t.decoded()) fail<ConfigError>("{} has {} values; shape arithmetic is supported on small constants only", t.what, t.count);
    return t.values;
  }

  Value& value(const std::string& name, std::string_view role) {
    const auto it = values_.find(name);
    if (it == values_.end()) fail<FormatError>("{} '{}' is not defined by an earlier node, the input or an initializer", role, name);
    return it->second;
  }
  /// Input i of n: a constant or a value computed from the network input.
  const Value& input(const Node& n, int i) {
    if (!has_input(n, i)) fail<ConfigError>("input {} is missing", i);
    return value(n.input(i), "input");
  }
  const Value& activation(const Node& n, int i) {
    const Value& v = input(n, i);
    if (v.constant) fail<ConfigError>("input {} ('{}') is a constant; it must be computed from the network input", i, n.input(i));
    if (v.padded && n.op_type() != "AveragePool") {
      fail<ConfigError>("input {} ('{}') comes from a Pad; a Pad is supported only right before an AveragePool", i, n.input(i));
    }
    return v;
  }
  const Tensor& constant(const Node& n, int i, std::string_view role) {
    if (!has_input(n, i)) fail<ConfigError>("the {} (input {}) is missing", role, i);
    const Value& v = value(n.input(i), "input");
    if (!v.constant) {
      fail<ConfigError>("the {} (input {}, '{}') is computed at run time; only constant initializers are supported", role, i,
                        n.input(i));
    }
    return v.tensor;
  }
  bool has_input(const Node& n, int i) const { return i < n.input_size() && !n.input(i).empty(); }

  // ---- attributes --------------------------------------------------------------------

  void allow_attributes(const Node& n, std::initializer_list<std::string_view> known) const {
    for (const auto& a : n.attribute()) {
      if (std::find(known.begin(), known.end(), a.name()) == known.end()) {
        fail<ConfigError>("attribute '{}' is not supported (supported: {})", a.name(), fmt::join(known, ", "));
      }
    }
  }
  static const ::onnx::AttributeProto* attribute(const Node& n, std::string_view name) {
    for (const auto& a : n.attribute()) {
      if (a.name() == name) return &a;
    }
    return nullptr;
  }
  static Index int_attr(const Node& n, std::string_view name, Index fallback) {
    const auto* a = attribute(n, name);
    return a != nullptr ? static_cast<Index>(a->i()) : fallback;
  }
  static double float_attr(const Node& n, std::string_view name, double fallback) {
    const auto* a = attribute(n, name);
    return a != nullptr ? static_cast<double>(a->f()) : fallback;
  }
  static std::string string_attr(const Node& n, std::string_view name, std::string fallback) {
    const auto* a = attribute(n, name);
    return a != nullptr ? a->s() : fallback;
  }
  std::vector<Index> ints_attr(const Node& n, std::string_view name, std::vector<Index> fallback, std::size_t size) const {
    const auto* a = attribute(n, name);
    if (a == nullptr) return fallback;
    std::vector<Index> v(a->ints().begin(), a->ints().end());
    if (v.size() != size) fail<ConfigError>("attribute {} has {} values, {} are expected (2-D only)", name, v.size(), size);
    for (const Index x : v) {
      if (x < 0 || x > kMaxSide) fail<ConfigError>("attribute {} = [{}] is out of range", name, fmt::join(v, ", "));
    }
    return v;
  }

  // ---- the network -------------------------------------------------------------------

  void read_input() {
    const auto& g = model_.graph();
    std::set<std::string> inits;
    for (const auto& init : g.initializer()) inits.insert(init.name());
    const ::onnx::ValueInfoProto* input = nullptr;
    for (const auto& in : g.input()) {
      if (inits.count(in.name()) != 0) continue;
      if (input != nullptr) {
        fail<ConfigError>("the graph has a second input '{}' (after '{}'); one input is supported", in.name(), input->name());
      }
      input = &in;
    }
    if (input == nullptr) fail<ConfigError>("the graph has no input");
    if (!input->type().has_tensor_type()) fail<ConfigError>("the input '{}' is not a tensor", input->name());
    const auto& tt = input->type().tensor_type();
    if (tt.elem_type() != ::onnx::TensorProto_DataType_FLOAT && tt.elem_type() != ::onnx::TensorProto_DataType_DOUBLE) {
      fail<ConfigError>("the input '{}' has element type {}; float and double are supported", input->name(), tt.elem_type());
    }
    const int rank = tt.has_shape() ? tt.shape().dim_size() : 0;
    if (rank != 2 && rank != 4) {
      fail<ConfigError>("the input '{}' has rank {}; (N, C, H, W) and (N, F) are supported, with a declared shape",
                        input->name(), rank);
    }
    std::vector<Index> dims;
    for (int d = 1; d < rank; ++d) {
      const auto& dim = tt.shape().dim(d);
      if (!dim.has_dim_value() || dim.dim_value() < 1) {
        fail<ConfigError>("dimension {} of the input '{}' is {}; every dimension but the batch must be a fixed size",
                          d, input->name(), dim.has_dim_param() ? fmt::format("symbolic ('{}')", dim.dim_param()) : "not declared");
      }
      const Index limit = d == 1 && rank == 4 ? kMaxChannels : rank == 2 ? kMaxChannels : kMaxSide;
      if (dim.dim_value() > limit) fail<ConfigError>("dimension {} of the input '{}' is {}, over {}", d, input->name(), dim.dim_value(), limit);
      dims.push_back(static_cast<Index>(dim.dim_value()));
    }
    const auto& batch = tt.shape().dim(0);
    batch_ = batch.has_dim_value() ? static_cast<double>(batch.dim_value()) : std::numeric_limits<double>::quiet_NaN();
    input_shape_ = rank == 4 ? Shape{dims[0], dims[1], dims[2]} : Shape{dims[0], 1, 1};
    Value v;
    v.node = Graph<T>::input;
    v.shape = input_shape_;
    v.rank = rank;
    values_[input->name()] = v;
  }

  /// Adds `layer` reading `inputs`, binds a copy to compute its output shape, and names
  /// the ONNX node's first output after it.
  void add(const Node& n, Layer<T> layer, const std::vector<const Value*>& inputs, int rank) {
    std::vector<Shape> shapes;
    std::vector<Index> nodes;
    for (const Value* v : inputs) {
      shapes.push_back(v->shape);
      nodes.push_back(v->node);
    }
    Shape out{};
    try {
      out = std::visit(
          [&](auto& l) -> Shape {
            if constexpr (std::decay_t<decltype(l)>::arity == 1) return l.bind(shapes[0], net_.size());
            else return l.bind(std::span<const Shape>(shapes), net_.size());
          },
          layer);
    } catch (const Error& e) {
      fail<ConfigError>("{}", e.what());
    }
    std::string name = node_name(n);
    for (int k = 2; net_.find(name) >= 0; ++k) name = fmt::format("{}#{}", node_name(n), k);
    Value v;
    v.node = net_.add(std::move(layer), std::move(nodes), std::move(name));
    v.shape = out;
    v.rank = rank;
    define(n, 0, std::move(v));
  }

  void define(const Node& n, int output, Value v) {
    if (output >= n.output_size()) fail<FormatError>("output {} is missing", output);
    values_[n.output(output)] = std::move(v);
  }
  void alias(const Node& n, const Value& v) { define(n, 0, v); }
  /// Outputs beyond the first must be unused (e.g. MaxPool's indices, Dropout's mask).
  void only_first_output(const Node& n) const {
    for (int o = 1; o < n.output_size(); ++o) {
      if (!n.output(o).empty() && uses_.count(n.output(o)) != 0) {
        fail<ConfigError>("output {} ('{}') is used, only output 0 is supported", o, n.output(o));
      }
    }
  }
  template <class E = ConfigError>
  void require(bool ok, std::string_view what) const {
    if (!ok) fail<E>("{}", what);
  }

  /// The padding of a Conv / MaxPool / AveragePool: explicit equal pads on both sides of
  /// each axis, VALID, or SAME_UPPER / SAME_LOWER where the total padding is even.
  Padding padding(const Node& n, Shape in, Kernel k, Stride s, Dilation d) const {
    const std::string mode = string_attr(n, "auto_pad", "NOTSET");
    if (mode == "NOTSET") {
      const auto p = ints_attr(n, "pads", {0, 0, 0, 0}, 4);
      if (p[0] != p[2] || p[1] != p[3]) {
        fail<ConfigError>("pads [{}] are asymmetric, which is not supported: patternnet pads both sides of an axis equally",
                          fmt::join(p, ", "));
      }
      return Padding{p[0], p[1]};
    }
    if (mode == "VALID") return Padding{0, 0};
    if (mode != "SAME_UPPER" && mode != "SAME_LOWER") fail<ConfigError>("auto_pad '{}' is not supported", mode);
    auto total = [&](Index size, Index kernel, Index stride, Index dilation) {
      const Index out = (size + stride - 1) / stride;
      const Index t = std::max<Index>(0, (out - 1) * stride + (kernel - 1) * dilation + 1 - size);
      if (t % 2 != 0) fail<ConfigError>("auto_pad {} needs an odd total padding ({}), which is asymmetric: not supported", mode, t);
      return t / 2;
    };
    return Padding{total(in.h, k.h, s.h, d.h), total(in.w, k.w, s.w, d.w)};
  }

  /// t, a rows x cols matrix in its own (row-major) order, as a Matrix<T> or (transposed)
  /// its transpose; checked to be finite. Raw float or double data is read in place.
  Matrix<T> to_matrix(const Tensor& t, Index rows, Index cols, bool transposed = false) const {
    Matrix<T> m;
    auto assign = [&](const auto& rm) {
      if (transposed) m = rm.transpose().template cast<T>();
      else m = rm.template cast<T>();
    };
    auto in_place = [&](auto tag) {
      using S = decltype(tag);
      const std::string& raw = t.proto->raw_data();
      if (raw.empty() || reinterpret_cast<std::uintptr_t>(raw.data()) % alignof(S) != 0) return false;
      assign(Eigen::Map<const Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
          reinterpret_cast<const S*>(raw.data()), rows, cols));
      return true;
    };
    const bool done = !t.decoded() && ((t.proto->data_type() == ::onnx::TensorProto_DataType_FLOAT && in_place(float{})) ||
                                       (t.proto->data_type() == ::onnx::TensorProto_DataType_DOUBLE && in_place(double{})));
    if (!done) {
      Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rm(rows, cols);
      if (t.decoded()) {
        for (std::size_t i = 0; i < t.count; ++i) rm.data()[i] = static_cast<T>(t.values[i]);
      } else {
        decode(*t.proto, t.count, rm.data());
      }
      assign(rm);
    }
    if (!m.allFinite()) fail<FormatError>("{} holds NaN or Inf", t.what);
    return m;
  }
  Vector<T> vector(const Tensor& t) const { return to_matrix(t, static_cast<Index>(t.count), 1); }
  /// A per-feature vector: shape (M), (1, M) or a scalar broadcast to M values.
  Vector<T> feature_vector(const Tensor& t, Index m, std::string_view role) const {
    const bool scalar = t.count == 1;
    const bool row = (t.dims.size() == 1 && t.dims[0] == m) || (t.dims.size() == 2 && t.dims[0] == 1 && t.dims[1] == m);
    if (!scalar && !row) fail<ConfigError>("the {} has shape ({}); ({}) or (1, {}) is supported", role, fmt::join(t.dims, ", "), m, m);
    return scalar ? Vector<T>::Constant(m, vector(t)(0)) : vector(t);
  }

  void import_node(const Node& n) {
    if (!n.domain().empty() && n.domain() != "ai.onnx") {
      fail<ConfigError>("the op domain '{}' is not supported (only the default ONNX domain is)", n.domain());
    }
    const std::string& op = n.op_type();
    if (op == "Conv") return conv(n);
    if (op == "Gemm") return gemm(n);
    if (op == "MatMul") return matmul(n);
    if (op == "Relu") {
      allow_attributes(n, {});
      const Value& x = activation(n, 0);
      return add(n, ReLU<T>{}, {&x}, x.rank);
    }
    if (op == "MaxPool" || op == "AveragePool") return pool(n);
    if (op == "GlobalAveragePool") {
      allow_attributes(n, {});
      const Value& x = activation(n, 0);
      require(x.rank == 4, "GlobalAveragePool needs an (N, C, H, W) input");
      return add(n, GlobalAvgPool2D<T>{}, {&x}, 4);
    }
    if (op == "BatchNormalization") return batch_norm(n);
    if (op == "Add" || op == "Sum") return sum(n);
    if (op == "Concat") return concat(n);
    if (op == "Flatten") {
      allow_attributes(n, {"axis"});
      const Value& x = activation(n, 0);
      const Index axis = int_attr(n, "axis", 1);
      require(axis == 1 || axis == 1 - x.rank, "only axis = 1 (flatten every sample) is supported");
      if (x.rank == 2) return alias(n, x);
      return add(n, Flatten<T>{}, {&x}, 2);
    }
    if (op == "Reshape") return reshape(n);
    if (op == "Softmax") {
      allow_attributes(n, {"axis"});
      const Value& x = activation(n, 0);
      const Index axis = int_attr(n, "axis", opset_ < 13 ? 1 : -1);
      require(x.rank == 2 && (axis == 1 || axis == -1), "only a Softmax over the features of an (N, F) input is supported");
      return add(n, Softmax<T>{}, {&x}, 2);
    }
    if (op == "Identity" || op == "Dropout") {
      allow_attributes(n, {"ratio", "seed"});
      only_first_output(n);
      const Value& x = input(n, 0);
      return alias(n, x);
    }
    if (op == "Pad") return pad(n);
    if (op == "Constant") return constant_node(n);
    if (op == "Shape" || op == "Gather" || op == "Unsqueeze" || op == "Cast") return fold(n);
    fail<ConfigError>("the op is not supported; supported: {}", kOnnxSupportedOps);
  }

  void conv(const Node& n) {
    allow_attributes(n, {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"});
    const Value& x = activation(n, 0);
    require(x.rank == 4, "Conv needs an (N, C, H, W) input");
    if (const Index group = int_attr(n, "group", 1); group != 1) {
      fail<ConfigError>("attribute group = {} is not supported (only group = 1: no grouped or depthwise convolutions)", group);
    }
    const Tensor& w = constant(n, 1, "weight");
    require(w.dims.size() == 4, "the weight must have shape (F, C, kh, kw)");
    const Index f = w.dims[0], c = w.dims[1];
    const Kernel k{w.dims[2], w.dims[3]};
    if (c != x.shape.c) fail<ConfigError>("the weight has {} input channels, the input {}", c, x.shape.c);
    if (const auto ks = ints_attr(n, "kernel_shape", {k.h, k.w}, 2); ks[0] != k.h || ks[1] != k.w) {
      fail<ConfigError>("kernel_shape [{}] differs from the weight's {}x{}", fmt::join(ks, ", "), k.h, k.w);
    }
    const auto s = ints_attr(n, "strides", {1, 1}, 2), d = ints_attr(n, "dilations", {1, 1}, 2);
    const Stride stride{s[0], s[1]};
    const Dilation dilation{d[0], d[1]};
    Vector<T> b;
    if (has_input(n, 2)) b = feature_vector(constant(n, 2, "bias"), f, "bias");
    Layer<T> layer = make([&] {
      return Conv2D<T>(to_matrix(w, f, c * k.h * k.w), b, c, k, stride, dilation, padding(n, x.shape, k, stride, dilation));
    });
    add(n, std::move(layer), {&x}, 4);
  }

  /// Runs a layer constructor; its error names this node.
  template <class F>
  Layer<T> make(F&& construct) {
    try {
      return construct();
    } catch (const Error& e) {
      fail<ConfigError>("{}", e.what());
    }
  }

  void gemm(const Node& n) {
    allow_attributes(n, {"alpha", "beta", "transA", "transB"});
    const Value& a = activation(n, 0);
    require(a.rank == 2, "Gemm needs an (N, F) input");
    require(int_attr(n, "transA", 0) == 0, "attribute transA = 1 is not supported (the input must be (N, F))");
    const Tensor& b = constant(n, 1, "weight");
    require(b.dims.size() == 2, "the weight must be a matrix");
    const bool trans_b = int_attr(n, "transB", 0) != 0;
    const Index k = trans_b ? b.dims[1] : b.dims[0], m = trans_b ? b.dims[0] : b.dims[1];
    if (k != a.shape.size()) fail<ConfigError>("the weight takes {} features, the input has {}", k, a.shape.size());
    const auto alpha = static_cast<T>(float_attr(n, "alpha", 1.0)), beta = static_cast<T>(float_attr(n, "beta", 1.0));
    Matrix<T> w = trans_b ? to_matrix(b, m, k) : to_matrix(b, k, m, true);
    w *= alpha;
    Vector<T> bias;
    if (has_input(n, 2)) bias = beta * feature_vector(constant(n, 2, "bias C"), m, "bias C");
    add(n, make([&] { return Dense<T>(std::move(w), std::move(bias)); }), {&a}, 2);
  }

  void matmul(const Node& n) {
    allow_attributes(n, {});
    const Value& a = activation(n, 0);
    require(a.rank == 2, "MatMul needs an (N, F) input");
    const Tensor& b = constant(n, 1, "weight");
    require(b.dims.size() == 2, "the weight must be a matrix (K, M)");
    if (b.dims[0] != a.shape.size()) fail<ConfigError>("the weight takes {} features, the input has {}", b.dims[0], a.shape.size());
    Matrix<T> w = to_matrix(b, b.dims[0], b.dims[1], true);
    add(n, make([&] { return Dense<T>(std::move(w)); }), {&a}, 2);
  }

  void sum(const Node& n) {
    allow_attributes(n, {});
    std::vector<const Value*> in;
    const Value* constant_input = nullptr;
    std::string activation_name;
    for (int i = 0; i < n.input_size(); ++i) {
      const Value& v = value(n.input(i), "input");
      if (v.constant) {
        constant_input = &v;
      } else {
        in.push_back(&v);
        activation_name = n.input(i);
      }
    }
    if (constant_input != nullptr) {
      // x W + b, as MatMul + Add: the constant becomes the bias of the Dense node before,
      // if that node has no bias and feeds only this Add.
      const Dense<T>* dense_before = in.size() == 1 && n.input_size() == 2 && in[0]->node >= 0 &&
                                             in[0]->node == net_.size() - 1
                                         ? std::get_if<Dense<T>>(&net_.layer(in[0]->node))
                                         : nullptr;
      if (dense_before == nullptr || dense_before->has_bias() || uses_[activation_name] != 1) {
        fail<ConfigError>("adding a constant is supported only as the bias right after a MatMul that feeds nothing else");
      }
      auto& dense = std::get<Dense<T>>(net_.layer(in[0]->node));
      dense.bias() = feature_vector(constant_input->tensor, dense.out_features(), "bias");
      return alias(n, *in[0]);
    }
    require(in.size() >= 2, "an Add needs two inputs");
    for (const Value* v : in) {
      if (v->rank != in[0]->rank || !(v->shape == in[0]->shape)) {
        fail<ConfigError>("the inputs have shapes {} and {}; broadcasting is not supported", in[0]->shape, v->shape);
      }
    }
    add(n, Add<T>{}, in, in[0]->rank);
  }

  void concat(const Node& n) {
    allow_attributes(n, {"axis"});
    const Index axis = int_attr(n, "axis", 0);
    bool all_constant = true;
    for (int i = 0; i < n.input_size(); ++i) all_constant = all_constant && value(n.input(i), "input").constant;
    if (all_constant) {  // the shape subgraph of x.view(x.size(0), -1)
      Value v;
      v.constant = true;
      Index len = 0;
      for (int i = 0; i < n.input_size(); ++i) {
        const Tensor& t = value(n.input(i), "input").tensor;
        require(t.dims.size() == 1 && axis == 0, "only 1-D constants are concatenated");
        v.tensor.values.insert(v.tensor.values.end(), values_of(t).begin(), values_of(t).end());
        len += t.dims[0];
      }
      v.tensor.dims = {len};
      v.tensor.count = v.tensor.values.size();
      return define(n, 0, std::move(v));
    }
    std::vector<const Value*> in;
    for (int i = 0; i < n.input_size(); ++i) in.push_back(&activation(n, i));
    const int rank = in[0]->rank;
    require(axis == 1 || axis == 1 - rank, "only a Concat along the channels (axis 1) is supported");
    for (const Value* v : in) require(v->rank == rank, "the inputs have different ranks");
    if (in.size() == 1) return alias(n, *in[0]);  // torch.cat([x]) (DenseNet's first layer)
    add(n, Concat<T>{}, in, rank);
  }

  void pool(const Node& n) {
    const bool max = n.op_type() == "MaxPool";
    if (max) {
      allow_attributes(n, {"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"});
      only_first_output(n);
      const auto d = ints_attr(n, "dilations", {1, 1}, 2);
      require(d[0] == 1 && d[1] == 1, "dilations other than 1 are not supported");
      require(int_attr(n, "storage_order", 0) == 0, "storage_order = 1 is not supported");
    } else {
      allow_attributes(n, {"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"});
    }
    const Value& x = activation(n, 0);
    require(x.rank == 4, "pooling needs an (N, C, H, W) input");
    require(attribute(n, "kernel_shape") != nullptr, "attribute kernel_shape is missing");
    const auto ks = ints_attr(n, "kernel_shape", {}, 2), s = ints_attr(n, "strides", {1, 1}, 2);
    const Kernel k{ks[0], ks[1]};
    const Stride stride{s[0], s[1]};
    Padding p = padding(n, x.shape, k, stride, Dilation{1});
    bool count_include_pad = int_attr(n, "count_include_pad", 0) != 0;
    if (x.padded) {  // Pad + AveragePool: the padded zeros count
      require(p.h == 0 && p.w == 0, "an AveragePool with pads after a Pad is not supported");
      p = x.pad;
      count_include_pad = true;
    }
    const CeilMode ceil{int_attr(n, "ceil_mode", 0) != 0};
    Layer<T> layer = make([&]() -> Layer<T> {
      if (max) return MaxPool2D<T>(k, stride, p, ceil);
      return AvgPool2D<T>(k, stride, p, ceil, CountIncludePad{count_include_pad});
    });
    add(n, std::move(layer), {&x}, 4);
  }

  /// Pad with zeros: skipped if it pads nothing, else handed to the AveragePool after it.
  void pad(const Node& n) {
    allow_attributes(n, {"mode"});
    require(string_attr(n, "mode", "constant") == "constant", "only mode 'constant' is supported");
    const Value& x = activation(n, 0);
    require(!x.padded, "two Pads in a row are not supported");
    const auto& p = values_of(constant(n, 1, "pads"));
    if (has_input(n, 2)) {
      const auto& fill = values_of(constant(n, 2, "constant_value"));
      require(fill.size() == 1 && fill[0] == 0, "only padding with zeros is supported");
    }
    require(has_input(n, 3) == false, "the axes input is not supported");
    require(x.rank == 4 && p.size() == 8, "Pad needs an (N, C, H, W) input and 8 pads");
    // pads = [begin of N, C, H, W, end of N, C, H, W]
    require(p[0] == 0 && p[1] == 0 && p[4] == 0 && p[5] == 0, "only the height and width may be padded");
    require(p[2] == p[6] && p[3] == p[7] && p[2] >= 0 && p[3] >= 0 && p[2] <= kMaxSide && p[3] <= kMaxSide,
            "only equal, non-negative padding on both sides of an axis is supported");
    Value v = x;
    if (p[2] != 0 || p[3] != 0) {
      v.pad = Padding{static_cast<Index>(p[2]), static_cast<Index>(p[3])};
      v.padded = true;
    }
    define(n, 0, std::move(v));
  }

  void batch_norm(const Node& n) {
    allow_attributes(n, {"epsilon", "momentum", "training_mode"});
    require(int_attr(n, "training_mode", 0) == 0, "training_mode = 1 is not supported (export the model in eval mode)");
    only_first_output(n);
    const Value& x = activation(n, 0);
    const Index c = x.shape.c;
    const char* roles[] = {"scale", "bias B", "mean", "var"};
    Vector<T> v[4];
    for (int i = 0; i < 4; ++i) {
      const Tensor& t = constant(n, i + 1, roles[i]);
      if (t.count != static_cast<std::size_t>(c)) fail<ConfigError>("the {} has {} values for {} channels", roles[i], t.count, c);
      v[i] = vector(t);
    }
    const double eps = float_attr(n, "epsilon", 1e-5);
    add(n, make([&] { return BatchNorm2D<T>(v[2], v[3], v[0], v[1], eps); }), {&x}, x.rank);
  }

  void reshape(const Node& n) {
    allow_attributes(n, {"allowzero"});
    require(int_attr(n, "allowzero", 0) == 0, "allowzero = 1 is not supported");
    const Value& x = activation(n, 0);
    const Tensor& target = constant(n, 1, "shape");
    const Index features = x.shape.size();
    std::vector<double> t = values_of(target);
    const std::vector<double> in_dims = x.rank == 4 ? std::vector<double>{batch_, double(x.shape.c), double(x.shape.h), double(x.shape.w)}
                                                    : std::vector<double>{batch_, double(features)};
    for (std::size_t i = 0; i < t.size(); ++i) {
      if (t[i] == 0 && i < in_dims.size()) t[i] = in_dims[i];  // 0 copies the input's dimension
    }
    auto is_batch = [&](double d) { return std::isnan(d) ? std::isnan(batch_) : d == batch_; };
    const bool flatten = t.size() == 2 && ((is_batch(t[0]) && (t[1] == -1 || t[1] == double(features))) ||
                                           (t[0] == -1 && t[1] == double(features)));
    const bool same = t.size() == in_dims.size() && x.rank == 4 && is_batch(t[0]) && t[1] == in_dims[1] &&
                      t[2] == in_dims[2] && t[3] == in_dims[3];
    if (same || (flatten && x.rank == 2)) return alias(n, x);
    if (!flatten) {
      std::vector<std::string> shown;
      for (const double d : target.values) shown.push_back(std::isnan(d) ? "N" : fmt::format("{}", d));
      fail<ConfigError>("Reshape to ({}) is not supported: only flattening each sample to (N, {}) is", fmt::join(shown, ", "), features);
    }
    add(n, Flatten<T>{}, {&x}, 2);
  }

  void constant_node(const Node& n) {
    allow_attributes(n, {"value", "value_float", "value_floats", "value_int", "value_ints"});
    require(n.attribute_size() == 1, "a Constant needs exactly one value attribute");
    const auto& a = n.attribute(0);
    Value v;
    v.constant = true;
    if (a.name() == "value") {
      v.tensor = to_tensor(a.t(), "its value");
    } else if (a.name() == "value_float" || a.name() == "value_int") {
      v.tensor.values = {a.name() == "value_float" ? static_cast<double>(a.f()) : static_cast<double>(a.i())};
    } else {
      for (const auto f : a.floats()) v.tensor.values.push_back(f);
      for (const auto i : a.ints()) v.tensor.values.push_back(static_cast<double>(i));
      v.tensor.dims = {static_cast<Index>(v.tensor.values.size())};
    }
    if (a.name() != "value") v.tensor.count = v.tensor.values.size();
    define(n, 0, std::move(v));
  }

  /// Shape, Gather, Unsqueeze and Cast on constants and shapes.
  void fold(const Node& n) {
    const std::string& op = n.op_type();
    Value v;
    v.constant = true;
    Tensor& t = v.tensor;
    if (op == "Shape") {
      allow_attributes(n, {"start", "end"});
      const Value& x = input(n, 0);
      std::vector<double> dims;
      if (x.constant) {
        for (const Index d : x.tensor.dims) dims.push_back(static_cast<double>(d));
      } else if (x.rank == 4) {
        dims = {batch_, double(x.shape.c), double(x.shape.h), double(x.shape.w)};
      } else {
        dims = {batch_, double(x.shape.size())};
      }
      const auto r = static_cast<Index>(dims.size());
      auto clamp = [&](Index i) { return std::clamp<Index>(i < 0 ? i + r : i, 0, r); };
      const Index start = clamp(int_attr(n, "start", 0)), end = clamp(int_attr(n, "end", r));
      t.values.assign(dims.begin() + start, dims.begin() + std::max(start, end));
      t.dims = {static_cast<Index>(t.values.size())};
    } else if (op == "Gather") {
      allow_attributes(n, {"axis"});
      const Tensor& data = constant(n, 0, "data");
      const Tensor& idx = constant(n, 1, "indices");
      require(data.dims.size() == 1 && int_attr(n, "axis", 0) == 0 && idx.dims.size() <= 1,
              "Gather is supported on 1-D constants (shapes) only");
      for (const double i : values_of(idx)) {
        const auto size = static_cast<double>(values_of(data).size());
        const double j = i < 0 ? i + size : i;
        if (!(j >= 0 && j < size)) fail<ConfigError>("index {} is out of range", i);
        t.values.push_back(data.values[static_cast<std::size_t>(j)]);
      }
      t.dims = idx.dims;
    } else if (op == "Unsqueeze") {
      allow_attributes(n, {"axes"});
      const Tensor& data = constant(n, 0, "data");
      std::vector<Index> axes;
      if (opset_ < 13) {
        if (const auto* a = attribute(n, "axes")) axes.assign(a->ints().begin(), a->ints().end());
      } else {
        for (const double a : values_of(constant(n, 1, "axes"))) axes.push_back(static_cast<Index>(a));
      }
      require(data.dims.size() <= 1 && axes.size() == 1 && (axes[0] == 0 || axes[0] == -1 || data.dims.empty()),
              "Unsqueeze is supported on scalars and 1-D constants only");
      values_of(data);
      t = data;
      t.dims.insert(axes[0] == 0 ? t.dims.begin() : t.dims.end(), 1);
    } else {  // Cast: the values keep their meaning (sizes and indices)
      allow_attributes(n, {"to"});
      values_of(constant(n, 0, "data"));
      t = constant(n, 0, "data");
    }
    t.count = t.values.size();
    define(n, 0, std::move(v));
  }

  const ::onnx::ModelProto& model_;
  std::string origin_;
  OnnxOptions options_;
  Index opset_ = 0;
  int index_ = -1;
  double batch_ = 0;
  Shape input_shape_{};
  std::map<std::string, Value> values_;
  std::map<std::string, int> uses_;
  Graph<T> net_;
};

/// Parses an ONNX ModelProto of `size` bytes with `parse_into(model)`, as a FormatError
/// naming `origin` if it is too large for protobuf, not a ModelProto, or holds no graph.
template <class Parse>
::onnx::ModelProto parse(std::uintmax_t size, const std::string& origin, Parse&& parse_into) {
  if (size > static_cast<std::uintmax_t>(INT_MAX)) {
    detail::fail<FormatError>("ONNX model '{}': {} bytes, over protobuf's limit of 2 GB", origin, size);
  }
  ::onnx::ModelProto model;
  if (!parse_into(model)) detail::fail<FormatError>("ONNX model '{}': not a valid ONNX protobuf (truncated or corrupt)", origin);
  if (!model.has_graph()) detail::fail<FormatError>("ONNX model '{}': the model holds no graph", origin);
  return model;
}

}  // namespace patternnet::detail::onnx_import

namespace patternnet::io {

/// Imports the ONNX model held in `bytes` (e.g. a file read by the caller); `origin` names
/// it in messages. Throws FormatError if it is not a valid ONNX protobuf or holds
/// malformed tensors, and ConfigError naming the node (index, name, op type) and the
/// attribute or input at fault for anything unsupported: an op (kOnnxSupportedOps), an
/// attribute or its value, a second graph input, a weight that is not a constant, an
/// input dimension other than the batch that is not a fixed size, an opset outside 11 to
/// 17. Returns a network bound to the model's input shape (C x H x W, or F x 1 x 1 for an
/// (N, F) input), weights converted to T; BatchNormalization nodes are folded into the
/// layer before them where options.fold_batch_norm allows.
template <class T>
[[nodiscard]] Graph<T> load_onnx(std::span<const std::byte> bytes, const OnnxOptions& options = {},
                                 const std::string& origin = "<memory>") {
  const ::onnx::ModelProto model = patternnet::detail::onnx_import::parse(bytes.size(), origin, [&](::onnx::ModelProto& m) {
    return m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
  });
  return patternnet::detail::onnx_import::Importer<T>(model, origin, options).run();
}

/// Imports the ONNX model file `path` (load_onnx above), parsed straight from the file.
/// Throws Error if the file cannot be read.
template <class T>
[[nodiscard]] Graph<T> load_onnx(const std::filesystem::path& path, const OnnxOptions& options = {}) {
  std::error_code ec;
  const std::string name = path.string();
  if (std::filesystem::is_directory(path, ec)) detail::fail<Error>("cannot read ONNX model '{}': it is a directory", name);
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) detail::fail<Error>("cannot open ONNX model '{}': {}", name, ec.message());
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) detail::fail<Error>("cannot open ONNX model '{}': {}", name, std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } const closer{fd};  // closed however parsing ends
  const ::onnx::ModelProto model = patternnet::detail::onnx_import::parse(
      size, name, [&](::onnx::ModelProto& m) { return m.ParseFromFileDescriptor(fd); });
  return patternnet::detail::onnx_import::Importer<T>(model, name, options).run();
}

}  // namespace patternnet::io
