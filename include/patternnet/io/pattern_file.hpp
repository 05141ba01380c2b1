#pragma once
// Pattern files: save and load fitted patterns (writes format version 2, reads 1 and 2).
//
// Layout, little-endian, no padding:
//   char[8]  magic "PNPATTRN"
//   u32      version (2)
//   u32      scalar size in bytes: 4 = float32, 8 = float64
//   u32 + n  estimator name (length, then UTF-8 bytes), e.g. "S_a+-"
//   u64      architecture fingerprint of the network the patterns were fitted on
//            (Graph::architecture_fingerprint(); 0 = unknown; version 2 only)
//   u32      number of layer records
//   per record:
//     i64    layer index in the network
//     u32    kind: 0 = identity (S_x, no data), 1 = single pattern, 2 = two-component
//     i64    rows F (neurons), i64 cols K (inputs per neuron); 0, 0 for identity
//     F*K    scalars: the pattern a (a+ for two-component), row-major (row i = neuron i)
//     F*K    scalars: a- (two-component only)
//   u64      FNV-1a 64 checksum of every byte before it
// The fit report (degenerate neurons) is not stored. docs/file-formats.md shows how to
// read the file with numpy.

#include <patternnet/estimators/patterns.hpp>
#include <patternnet/io/binary.hpp>
#include <patternnet/network/graph.hpp>

#include <array>
#include <filesystem>
#include <set>

namespace patternnet::io {

inline constexpr std::array<char, 8> kPatternMagic{'P', 'N', 'P', 'A', 'T', 'T', 'R', 'N'};
/// The version save_patterns writes; load_patterns reads it and version 1.
inline constexpr std::uint32_t kPatternVersion = 2;

/// Writes `patterns` to `path` atomically (see binary.hpp). Throws Error on I/O failure,
/// ConfigError for an incomplete record and NumericError for NaN or Inf values (which
/// load_patterns would reject): nothing is then written.
template <class T>
void save_patterns(const Patterns<T>& patterns, const std::filesystem::path& path) {
  using RowMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  for (const auto& p : patterns.layers()) {  // what load_patterns() would reject
    const bool identity = p.kind == PatternKind::identity, two = p.kind == PatternKind::two_component;
    const bool a_ok = identity ? p.a.size() == 0 : p.a.size() > 0;
    const bool neg_ok = two ? (p.a_neg.rows() == p.a.rows() && p.a_neg.cols() == p.a.cols()) : p.a_neg.size() == 0;
    if (!a_ok || !neg_ok) {
      detail::fail<ConfigError>("save_patterns(): the record of layer {} is incomplete (kind {}, a {}x{}, a_neg {}x{}); "
                                "nothing was written", p.layer, static_cast<std::uint32_t>(p.kind), p.a.rows(),
                                p.a.cols(), p.a_neg.rows(), p.a_neg.cols());
    }
    if (!p.a.allFinite() || !p.a_neg.allFinite()) {
      detail::fail<NumericError>("save_patterns(): layer {} has NaN or Inf pattern values; nothing was written", p.layer);
    }
  }
  Writer w;
  w.put(kPatternMagic);
  w.put(kPatternVersion);
  w.put(static_cast<std::uint32_t>(sizeof(T)));
  w.put_string(patterns.estimator());
  w.put(patterns.architecture());
  w.put(static_cast<std::uint32_t>(patterns.layers().size()));
  for (const auto& p : patterns.layers()) {
    w.put(static_cast<std::int64_t>(p.layer));
    w.put(static_cast<std::uint32_t>(p.kind));
    w.put(static_cast<std::int64_t>(p.a.rows()));
    w.put(static_cast<std::int64_t>(p.a.cols()));
    for (const Matrix<T>* m : {&p.a, &p.a_neg}) {
      if (m->size() == 0) continue;
      const RowMajor rows = *m;
      w.put_array(rows.data(), static_cast<std::size_t>(rows.size()));
    }
  }
  w.commit(path);
}

/// Reads patterns saved by save_patterns and checks them against `net`: every Dense and
/// Conv2D layer must have exactly one record of its weight's shape, and, if the file knows
/// the architecture it was fitted on and `net` is bound, `net` must have that architecture
/// (Graph::architecture_fingerprint(): same layers, inputs, shapes and parameter sizes;
/// patterns of the same architecture with other weights are not recognised). Throws
/// FormatError (bad magic, version, scalar type, truncation, checksum, unknown kind) or
/// ShapeError (records that do not fit the network, another architecture). Returns a new
/// object: on failure nothing the caller holds is modified.
template <class T>
[[nodiscard]] Patterns<T> load_patterns(const std::filesystem::path& path, const Graph<T>& net) {
  using RowMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Reader r(path, "pattern");
  if (r.get<std::array<char, 8>>("the magic") != kPatternMagic) r.fail("not a patternnet pattern file (bad magic)");
  const auto version = r.get<std::uint32_t>("the version");
  if (version < 1 || version > kPatternVersion) {
    r.fail("format version {} is not supported (this build reads versions 1 to {})", version, kPatternVersion);
  }
  r.verify_checksum();
  const auto scalar = r.get<std::uint32_t>("the scalar size");
  if (scalar != sizeof(T)) {
    r.fail("the file holds {}-byte scalars, the network uses {}-byte scalars", scalar, sizeof(T));
  }
  std::string estimator = r.get_string("the estimator name");
  const std::uint64_t architecture = version >= 2 ? r.get<std::uint64_t>("the architecture fingerprint") : 0;
  const auto count = r.get<std::uint32_t>("the number of layers");
  std::vector<LayerPatterns<T>> layers;
  std::set<Index> seen;
  for (std::uint32_t i = 0; i < count; ++i) {
    LayerPatterns<T> p;
    p.layer = static_cast<Index>(r.get<std::int64_t>("a layer index"));
    const auto kind = r.get<std::uint32_t>("a layer kind");
    if (kind > 2) r.fail("record {} has unknown kind {}", i, kind);
    p.kind = static_cast<PatternKind>(kind);
    const auto rows = r.get<std::int64_t>("a pattern's rows"), cols = r.get<std::int64_t>("a pattern's columns");
    if (rows < 0 || cols < 0 || (p.kind == PatternKind::identity) != (rows == 0 && cols == 0)) {
      r.fail("record {} (layer {}) has an invalid pattern size {}x{}", i, p.layer, rows, cols);
    }
    if (p.layer < 0 || p.layer >= net.size()) {
      detail::fail<ShapeError>("load_patterns(): '{}' has patterns for layer {}, the network has {} layers", path.string(), p.layer, net.size());
    }
    const Matrix<T>* weight = std::visit(
        [](const auto& l) -> const Matrix<T>* {
          if constexpr (LinearLayer<std::decay_t<decltype(l)>>) return &l.weight();
          else return nullptr;
        },
        net.layer(p.layer));
    if (weight == nullptr) {
      detail::fail<ShapeError>("load_patterns(): '{}' has patterns for layer {} ({}), which has no weights", path.string(), p.layer,
                               layer_name(net.layer(p.layer)));
    }
    if (p.kind != PatternKind::identity && (rows != weight->rows() || cols != weight->cols())) {
      detail::fail<ShapeError>("load_patterns(): '{}' has {}x{} patterns for layer {} ({}), whose weight is {}x{}", path.string(), rows,
                               cols, p.layer, layer_name(net.layer(p.layer)), weight->rows(), weight->cols());
    }
    if (!seen.insert(p.layer).second) r.fail("layer {} appears twice", p.layer);
    for (Matrix<T>* m : {&p.a, &p.a_neg}) {
      if (p.kind == PatternKind::identity || (m == &p.a_neg && p.kind != PatternKind::two_component)) continue;
      if (static_cast<std::uint64_t>(rows) * static_cast<std::uint64_t>(cols) > r.remaining() / sizeof(T)) {
        r.fail("truncated while reading pattern values of layer {}", p.layer);
      }
      RowMajor rm(rows, cols);
      r.get_array(rm.data(), static_cast<std::size_t>(rm.size()), "pattern values");
      if (!rm.allFinite()) r.fail("layer {} has non-finite pattern values", p.layer);
      *m = rm;
    }
    layers.push_back(std::move(p));
  }
  if (!r.at_end()) r.fail("unexpected bytes after the last record");
  for (Index l = 0; l < net.size(); ++l) {
    if (layer_category<T>(net.layer(l)) == LayerCategory::linear && !seen.contains(l)) {
      detail::fail<ShapeError>("load_patterns(): '{}' has no patterns for layer {} ({})", path.string(), l, layer_name(net.layer(l)));
    }
  }
  // Last: the records fit the weights, but were they fitted on this architecture?
  if (architecture != 0 && net.ready() && architecture != net.architecture_fingerprint()) {
    detail::fail<ShapeError>("load_patterns(): '{}' holds patterns of another network: every record fits a weight, but "
                             "its architecture fingerprint is {:#018x} and this network's is {:#018x} (the layers, their "
                             "inputs, shapes or parameter sizes differ)", path.string(), architecture,
                             net.architecture_fingerprint());
  }
  return Patterns<T>(std::move(estimator), std::move(layers), {}, architecture);
}

}  // namespace patternnet::io
