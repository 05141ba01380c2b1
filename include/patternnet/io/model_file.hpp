#pragma once
// Model files: a whole network (a Graph<T> or a Sequential<T> chain), architecture and
// weights. Writes format version 3; reads versions 1 (chains), 2 (graphs) and 3.
//
// Layout, little-endian, no padding (docs/file-formats.md has the table):
//   char[8]  magic "PNMODEL1"
//   u32      version (3; 2 for graphs written before MaxPool2D had ceil_mode, 1 for chains)
//   u32      scalar size in bytes: 4 = float32, 8 = float64
//   i64 x 3  input shape c, h, w (0, 0, 0: the network was not bound to an input shape)
//   u32      number of layers (nodes)
//   per node, in node order (versions 2 and 3: u32 name length + name bytes (UTF-8, may be
//   empty); u32 number of inputs k; k x i64 input nodes, -1 = the network input, each an
//   earlier node; version 1: the node reads the previous one), then u32 type and its fields:
//     0 Dense     i64 out, i64 in, u8 bias (0/1); out*in scalars W row-major; out scalars b if bias
//     1 Conv2D    i64 in_channels, out_channels, kernel h, w, stride h, w, dilation h, w,
//                 padding h, w; u8 same padding (0/1); u8 bias (0/1);
//                 F*K scalars W row-major (F = out_channels, K = C*kh*kw: PyTorch's
//                 [F, C, kh, kw] flattened); F scalars b if bias
//     2 ReLU, 4 Softmax, 5 Flatten, 7 GlobalAvgPool2D, 9 Add, 10 Concat: no fields
//     3 MaxPool2D i64 kernel h, w, stride h, w, padding h, w; u8 ceil_mode (version 3 only)
//     6 AvgPool2D i64 kernel h, w, stride h, w, padding h, w; u8 count_include_pad, u8 ceil_mode
//     8 BatchNorm2D i64 channels C; f64 eps; C scalars each of running mean, running var,
//                 weight, bias
//   u64      FNV-1a 64 checksum of every byte before it
// Written atomically and read fully validated (io/binary.hpp).

#include <patternnet/io/binary.hpp>
#include <patternnet/network/summary.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace patternnet::io {

inline constexpr std::array<char, 8> kModelMagic{'P', 'N', 'M', 'O', 'D', 'E', 'L', '1'};
/// The version save_model writes; load_model reads it and the versions before it.
inline constexpr std::uint32_t kModelVersion = 3;

}  // namespace patternnet::io

namespace patternnet::detail::model_file {

using io::Reader;
using io::Writer;

template <class T>
using RowMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <class T>
void put_weights(Writer& w, const Matrix<T>& weight, const Vector<T>& bias) {
  const RowMajor<T> rows = weight;
  w.put_array(rows.data(), static_cast<std::size_t>(rows.size()));
  w.put_array(bias.data(), static_cast<std::size_t>(bias.size()));
}

/// A positive size field, at most `max`.
inline Index get_size(Reader& r, const char* what, Index layer, std::int64_t max = std::int64_t{1} << 31) {
  const auto v = r.get<std::int64_t>(what);
  if (v < 1 || v > max) r.fail("layer {}: {} is {}, expected 1..{}", layer, what, v, max);
  return static_cast<Index>(v);
}

/// The padding fields (height, width), each in 0..2^20.
inline Padding get_padding(Reader& r, Index layer) {
  const auto ph = r.get<std::int64_t>("the padding height"), pw = r.get<std::int64_t>("the padding width");
  if (ph < 0 || pw < 0 || ph > (1 << 20) || pw > (1 << 20)) r.fail("layer {}: padding {}x{} is invalid", layer, ph, pw);
  return Padding{ph, pw};
}

inline bool get_flag(Reader& r, const char* what, Index layer) {
  const auto v = r.get<std::uint8_t>(what);
  if (v > 1) r.fail("layer {}: {} flag is {}, expected 0 or 1", layer, what, v);
  return v == 1;
}

/// Reads a rows x cols weight (row-major in the file) and, if `bias`, a bias of `rows`
/// scalars; checks that they fit in what is left of the file before allocating them and
/// that every value is finite.
template <class T>
std::pair<Matrix<T>, Vector<T>> get_weights(Reader& r, Index layer, Index rows, Index cols, bool bias) {
  const auto values = static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols) + (bias ? rows : 0);
  if (values > r.remaining() / sizeof(T)) {
    r.fail("truncated: layer {} needs {} values, {} bytes are left", layer, values, r.remaining());
  }
  RowMajor<T> w(rows, cols);
  r.get_array(w.data(), static_cast<std::size_t>(w.size()), "weights");
  Vector<T> b;
  if (bias) {
    b.resize(rows);
    r.get_array(b.data(), static_cast<std::size_t>(rows), "biases");
  }
  if (!w.allFinite() || !b.allFinite()) r.fail("layer {} has non-finite weights", layer);
  return {Matrix<T>(w), std::move(b)};
}

// The fields of each layer type (the layout above): one reader per registered type, so a
// layer type added to the registry without one does not compile (read_layer below).
template <class T>
Dense<T> read_fields(Reader& r, Index l, std::uint32_t /*version*/, std::type_identity<Dense<T>> /*type*/) {
  const Index out = get_size(r, "the output size", l), in = get_size(r, "the input size", l);
  const bool bias = get_flag(r, "the bias", l);
  auto [w, b] = get_weights<T>(r, l, out, in, bias);
  return Dense<T>(std::move(w), std::move(b));
}
template <class T>
Conv2D<T> read_fields(Reader& r, Index l, std::uint32_t /*version*/, std::type_identity<Conv2D<T>> /*type*/) {
  const Index in = get_size(r, "the input channels", l), out = get_size(r, "the output channels", l);
  const Index kh = get_size(r, "the kernel height", l), kw = get_size(r, "the kernel width", l);
  const Index sh = get_size(r, "the stride height", l), sw = get_size(r, "the stride width", l);
  const Index dh = get_size(r, "the dilation height", l), dw = get_size(r, "the dilation width", l);
  const Padding padding = get_padding(r, l);
  const bool same = get_flag(r, "the same-padding", l), bias = get_flag(r, "the bias", l);
  if (in > (std::int64_t{1} << 31) / kh / kw) r.fail("layer {}: {}x{}x{} kernel taps are too many", l, in, kh, kw);
  auto [w, b] = get_weights<T>(r, l, out, in * kh * kw, bias);
  return Conv2D<T>(std::move(w), std::move(b), in, Kernel{kh, kw}, Stride{sh, sw}, Dilation{dh, dw},
                   same ? Padding::same() : padding);
}
template <class T>
MaxPool2D<T> read_fields(Reader& r, Index l, std::uint32_t version, std::type_identity<MaxPool2D<T>> /*type*/) {
  const Index kh = get_size(r, "the kernel height", l), kw = get_size(r, "the kernel width", l);
  const Index sh = get_size(r, "the stride height", l), sw = get_size(r, "the stride width", l);
  const Padding padding = get_padding(r, l);
  const bool ceil = version >= 3 && get_flag(r, "the ceil_mode", l);
  return MaxPool2D<T>(Kernel{kh, kw}, Stride{sh, sw}, padding, CeilMode{ceil});
}
template <class T>
AvgPool2D<T> read_fields(Reader& r, Index l, std::uint32_t /*version*/, std::type_identity<AvgPool2D<T>> /*type*/) {
  const Index kh = get_size(r, "the kernel height", l), kw = get_size(r, "the kernel width", l);
  const Index sh = get_size(r, "the stride height", l), sw = get_size(r, "the stride width", l);
  const Padding padding = get_padding(r, l);
  const bool include = get_flag(r, "the count_include_pad", l), ceil = get_flag(r, "the ceil_mode", l);
  return AvgPool2D<T>(Kernel{kh, kw}, Stride{sh, sw}, padding, CountIncludePad{include}, CeilMode{ceil});
}
template <class T>
BatchNorm2D<T> read_fields(Reader& r, Index l, std::uint32_t /*version*/, std::type_identity<BatchNorm2D<T>> /*type*/) {
  const Index c = get_size(r, "the channels", l);
  const auto eps = r.get<double>("the eps");
  if (static_cast<std::size_t>(c) > r.remaining() / sizeof(T) / 4) {
    r.fail("truncated: layer {} needs 4 x {} values, {} bytes are left", l, c, r.remaining());
  }
  std::array<Vector<T>, 4> v;
  for (Vector<T>& x : v) {
    x.resize(c);
    r.get_array(x.data(), static_cast<std::size_t>(c), "the batch-norm statistics");
    if (!x.allFinite()) r.fail("layer {} has non-finite batch-norm values", l);
  }
  return BatchNorm2D<T>(std::move(v[0]), std::move(v[1]), std::move(v[2]), std::move(v[3]), eps);
}
/// The layer types without fields (their tag is all the file holds).
template <class L, class T = typename L::Scalar>
inline constexpr bool has_no_fields = std::is_same_v<L, ReLU<T>> || std::is_same_v<L, Softmax<T>> ||
                                      std::is_same_v<L, Flatten<T>> || std::is_same_v<L, GlobalAvgPool2D<T>> ||
                                      std::is_same_v<L, Add<T>> || std::is_same_v<L, Concat<T>>;
template <class L>
  requires has_no_fields<L>
L read_fields(Reader& /*r*/, Index /*l*/, std::uint32_t /*version*/, std::type_identity<L> /*type*/) {
  return {};
}

/// The layer of the registered type whose tag is `tag`, with its fields.
template <class T, class... Ls>
Layer<T> read_tagged(Reader& r, Index l, std::uint32_t version, std::uint32_t tag, TypeList<Ls...> /*types*/) {
  std::optional<Layer<T>> layer;
  (void)((tag == Ls::tag && (layer.emplace(read_fields(r, l, version, std::type_identity<Ls>{})), true)) || ...);
  if (!layer) r.fail("layer {} has unknown type {}", l, tag);
  return std::move(*layer);
}

template <class T>
Layer<T> read_layer(Reader& r, Index l, std::uint32_t version) {
  const auto tag = r.get<std::uint32_t>("a layer type");
  return read_tagged<T>(r, l, version, tag, LayerTypes<T>{});
}

/// The input shapes a model file may store: binding allocates tables per row and column
/// (pooling windows), and a few bytes of file must not ask for hundreds of megabytes.
inline constexpr Index kMaxChannels = Index{1} << 24, kMaxSide = Index{1} << 16;
[[nodiscard]] inline bool storable(Shape in) {
  return in.c >= 1 && in.h >= 1 && in.w >= 1 && in.c <= kMaxChannels && in.h <= kMaxSide && in.w <= kMaxSide;
}

/// Throws unless the reader would accept what put_layer() writes of `layer` (node n).
template <class T>
void check_storable(const Layer<T>& layer, Index n) {
  if (!parameters_finite<T>(layer)) {
    patternnet::detail::fail<NumericError>("save_model(): layer {} ({}) has NaN or Inf weights; nothing was written", n,
                                           layer_name<T>(layer));
  }
}

/// Writes the type tag and fields of one layer (the layout above).
template <class T>
void put_layer(Writer& w, const Layer<T>& layer) {
  std::visit(
      [&](const auto& l) {
        using L = std::decay_t<decltype(l)>;
        w.put(L::tag);
        auto put_all = [&](std::initializer_list<Index> values) {
          for (const Index v : values) w.put(static_cast<std::int64_t>(v));
        };
        if constexpr (std::is_same_v<L, Dense<T>>) {
          put_all({l.out_features(), l.in_features()});
          w.put(static_cast<std::uint8_t>(l.has_bias()));
          put_weights(w, l.weight(), l.bias());
        } else if constexpr (std::is_same_v<L, Conv2D<T>>) {
          put_all({l.in_channels(), l.out_channels(), l.kernel().h, l.kernel().w, l.stride().h, l.stride().w,
                   l.dilation().h, l.dilation().w, l.padding().h, l.padding().w});
          w.put(static_cast<std::uint8_t>(l.padding().same_size));
          w.put(static_cast<std::uint8_t>(l.has_bias()));
          put_weights(w, l.weight(), l.bias());
        } else if constexpr (std::is_same_v<L, MaxPool2D<T>>) {
          put_all({l.kernel().h, l.kernel().w, l.stride().h, l.stride().w, l.padding().h, l.padding().w});
          w.put(static_cast<std::uint8_t>(l.ceil_mode()));
        } else if constexpr (std::is_same_v<L, AvgPool2D<T>>) {
          put_all({l.kernel().h, l.kernel().w, l.stride().h, l.stride().w, l.padding().h, l.padding().w});
          w.put(static_cast<std::uint8_t>(l.count_include_pad()));
          w.put(static_cast<std::uint8_t>(l.ceil_mode()));
        } else if constexpr (std::is_same_v<L, BatchNorm2D<T>>) {
          put_all({l.channels()});
          w.put(l.eps());
          for (const Vector<T>* v : {&l.running_mean(), &l.running_var(), &l.weight(), &l.bias()}) {
            w.put_array(v->data(), static_cast<std::size_t>(v->size()));
          }
        } else {
          static_assert(has_no_fields<L>, "put_layer(): a layer type with fields that the model file does not write");
        }
      },
      layer);
}

}  // namespace patternnet::detail::model_file

namespace patternnet::io {

/// Writes `net` (architecture, node names and inputs, weights and, if bound, the input
/// shape) to `path` atomically (see binary.hpp), in format version 3. Throws Error on I/O
/// failure, NumericError for NaN or Inf weights, ConfigError for an input shape a model
/// file cannot store (load_model would reject both): nothing is then written, and the
/// previous file, if any, is left in place.
template <class T>
void save_model(const Graph<T>& net, const std::filesystem::path& path) {
  const Shape in = net.ready() ? net.input_shape() : Shape{0, 0, 0};
  if (net.ready() && !detail::model_file::storable(in)) {
    detail::fail<ConfigError>("save_model(): the input shape {} cannot be stored (channels at most {}, height and width "
                              "at most {}); nothing was written", in, detail::model_file::kMaxChannels,
                              detail::model_file::kMaxSide);
  }
  for (Index n = 0; n < net.size(); ++n) detail::model_file::check_storable(net.layer(n), n);
  Writer w;
  w.put(kModelMagic);
  w.put(kModelVersion);
  w.put(static_cast<std::uint32_t>(sizeof(T)));
  for (const Index v : {in.c, in.h, in.w}) w.put(static_cast<std::int64_t>(v));
  w.put(static_cast<std::uint32_t>(net.size()));
  for (Index n = 0; n < net.size(); ++n) {
    w.put_string(net.name(n));
    w.put(static_cast<std::uint32_t>(net.inputs(n).size()));
    for (const Index i : net.inputs(n)) w.put(static_cast<std::int64_t>(i));
    detail::model_file::put_layer(w, net.layer(n));
  }
  w.commit(path);
}

/// Reads a network saved by save_model, bound to its stored input shape (if any).
/// Throws Error if the file cannot be opened and FormatError naming the file and what was
/// wrong otherwise: bad magic, version, scalar type (the file's vs T), checksum,
/// truncation, unknown layer type, invalid hyper-parameters or sizes, non-finite weights,
/// layers that do not fit the stored input shape, trailing bytes. Returns a new network:
/// on failure nothing the caller holds is modified.
template <class T>
[[nodiscard]] Graph<T> load_model(const std::filesystem::path& path) {
  Reader r(path, "model");
  if (r.get<std::array<char, 8>>("the magic") != kModelMagic) r.fail("not a patternnet model file (bad magic)");
  const auto version = r.get<std::uint32_t>("the version");
  if (version < 1 || version > kModelVersion) {
    r.fail("format version {} is not supported (this build reads versions 1 to {})", version, kModelVersion);
  }
  r.verify_checksum();
  const auto scalar = r.get<std::uint32_t>("the scalar size");
  if (scalar != sizeof(T)) r.fail("the file holds {}-byte scalars, the network uses {}-byte scalars", scalar, sizeof(T));
  Shape in;
  for (Index* v : {&in.c, &in.h, &in.w}) *v = static_cast<Index>(r.get<std::int64_t>("the input shape"));
  const bool bound = !(in == Shape{0, 0, 0});
  if (bound && !detail::model_file::storable(in)) {
    r.fail("invalid input shape {} (channels must be in 1..{}, height and width in 1..{})", in,
           detail::model_file::kMaxChannels, detail::model_file::kMaxSide);
  }
  const auto count = r.get<std::uint32_t>("the number of layers");
  if (count == 0) r.fail("the network has no layers");
  Graph<T> net;
  for (Index l = 0; l < static_cast<Index>(count); ++l) {
    std::string name;
    std::vector<Index> inputs{l - 1};
    if (version >= 2) {
      name = r.get_string("a node name");
      const auto k = r.get<std::uint32_t>("the number of inputs");
      if (k > r.remaining() / sizeof(std::int64_t)) r.fail("truncated: layer {} has {} inputs, {} bytes are left", l, k, r.remaining());
      inputs.resize(k);
      for (Index& i : inputs) i = static_cast<Index>(r.get<std::int64_t>("an input node"));
    }
    try {
      net.add(detail::model_file::read_layer<T>(r, l, version), std::move(inputs), std::move(name));
    } catch (const FormatError&) {
      throw;
    } catch (const Error& e) {  // a constructor or add() rejected what was stored
      r.fail("layer {}: {}", l, e.what());
    }
  }
  if (!r.at_end()) r.fail("unexpected bytes after the last layer");
  if (bound) {
    try {
      net.set_input_shape(in);
    } catch (const Error& e) {
      r.fail("the layers do not fit the stored input shape {}: {}", in, e.what());
    }
  }
  return net;
}

/// Reads a model file into `net`, whose architecture it must match node by node
/// (describe() of every layer, its inputs, and the input shape if both are bound): the
/// weights and biases of `net` are replaced (for BatchNorm2D, all four statistics). Throws like load_model, and ShapeError naming the first
/// layer that differs. `net` is modified only if everything succeeds.
template <class T>
void load_weights(const std::filesystem::path& path, Graph<T>& net) {
  Graph<T> loaded = load_model<T>(path);
  if (loaded.size() != net.size()) {
    detail::fail<ShapeError>("load_weights(): '{}' holds {} layers, the network has {}", path.string(), loaded.size(),
                             net.size());
  }
  for (Index l = 0; l < net.size(); ++l) {
    const std::string file = describe(loaded.layer(l)), mine = describe(net.layer(l));
    if (file != mine) {
      detail::fail<ShapeError>("load_weights(): layer {} of '{}' is {}, the network's is {}", l, path.string(), file, mine);
    }
    if (loaded.inputs(l) != net.inputs(l)) {
      detail::fail<ShapeError>("load_weights(): layer {} of '{}' reads other nodes than the network's", l, path.string());
    }
  }
  if (loaded.ready() && net.ready() && !(loaded.input_shape() == net.input_shape())) {
    detail::fail<ShapeError>("load_weights(): '{}' was saved for input shape {}, the network is bound to {}",
                             path.string(), loaded.input_shape(), net.input_shape());
  }
  for (Index l = 0; l < net.size(); ++l) {
    std::visit(
        [&](auto& target) {
          using L = std::decay_t<decltype(target)>;
          if constexpr (LinearLayer<L>) {
            auto& source = std::get<L>(loaded.layer(l));
            target.weight().swap(source.weight());
            target.bias().swap(source.bias());
          } else if constexpr (std::is_same_v<L, BatchNorm2D<T>>) {
            auto& source = std::get<L>(loaded.layer(l));
            target.running_mean().swap(source.running_mean());
            target.running_var().swap(source.running_var());
            target.weight().swap(source.weight());
            target.bias().swap(source.bias());
          }
        },
        net.layer(l));
  }
}

}  // namespace patternnet::io
