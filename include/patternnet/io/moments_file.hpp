#pragma once
// Moments files: the statistics of one pass over (part of) a data set (NetworkMoments,
// estimators/fit.hpp), saved so that passes over shards of the data, run apart, merge
// into the moments of one pass over all of it (NetworkMoments::merge; `patternnet fit
// --shard`, `patternnet merge`). Writes and reads format version 1.
//
// Layout, little-endian, no padding, every value float64 unless said otherwise:
//   char[8]  magic "PNMOMENT"
//   u32      version (1)
//   u64      architecture fingerprint of the network (Graph::architecture_fingerprint())
//   f64      input samples seen
//   u32      number of layer records
//   per record (F neurons with K inputs each; matrices column-major, column f = neuron f):
//     i64    layer index in the network
//     i64    K, i64 F
//     u8     1 if the input covariance follows, else 0
//     f64    count: neuron samples seen (N * positions)
//     per regime, positive then negative: n (F), mean_x (K x F), mean_y (F), c_xy (K x F), c_yy (F)
//     with the input covariance: mean_x (K), c_xx (K x K)
//   u64      FNV-1a 64 checksum of every byte before it
// (the fields of BasicLayerMoments and BasicRegimeMoments, estimators/moments.hpp).

#include <patternnet/estimators/fit.hpp>
#include <patternnet/io/binary.hpp>
#include <patternnet/network/graph.hpp>

#include <array>
#include <filesystem>
#include <stdexcept>

namespace patternnet::detail::moments_file {

using io::Reader;
using io::Writer;

template <class M>
void put(Writer& w, const M& m) {
  w.put_array(m.data(), static_cast<std::size_t>(m.size()));
}

template <class M>
void get(Reader& r, M& m, Index rows, Index cols, const char* what) {
  m.resize(rows, cols);
  r.get_array(m.data(), static_cast<std::size_t>(m.size()), what);
  if (!m.allFinite()) r.fail("{} holds NaN or Inf", what);
}

/// Payload bytes of one record after its header.
inline std::uint64_t record_bytes(Index k, Index f, bool covariance) {
  const auto uk = static_cast<std::uint64_t>(k), uf = static_cast<std::uint64_t>(f);
  return 8 * (2 * (3 * uf + 2 * uk * uf) + (covariance ? uk + uk * uk : 0));
}

}  // namespace patternnet::detail::moments_file

namespace patternnet::io {

inline constexpr std::array<char, 8> kMomentsMagic{'P', 'N', 'M', 'O', 'M', 'E', 'N', 'T'};
inline constexpr std::uint32_t kMomentsVersion = 1;

/// Writes the moments of `net` gathered by compute_moments() to `path` atomically, with
/// the network's architecture fingerprint. Throws ConfigError if `net` is not bound,
/// NumericError for NaN or Inf statistics (nothing is then written), Error on I/O failure.
template <class T>
void save_moments(const NetworkMoments& moments, const Graph<T>& net, const std::filesystem::path& path) {
  for (const LayerMoments& m : moments.layers()) {
    const bool finite = m.positive.c_xy.allFinite() && m.negative.c_xy.allFinite() && m.positive.mean_x.allFinite() &&
                        m.negative.mean_x.allFinite() && m.c_xx.allFinite() && std::isfinite(m.count);
    if (!finite) detail::fail<NumericError>("save_moments(): layer {} has NaN or Inf moments; nothing was written", m.layer);
  }
  Writer w;
  w.put(kMomentsMagic);
  w.put(kMomentsVersion);
  w.put(net.architecture_fingerprint());
  w.put(moments.samples());
  w.put(static_cast<std::uint32_t>(moments.layers().size()));
  for (const LayerMoments& m : moments.layers()) {
    w.put(static_cast<std::int64_t>(m.layer));
    w.put(static_cast<std::int64_t>(m.inputs()));
    w.put(static_cast<std::int64_t>(m.neurons()));
    w.put(static_cast<std::uint8_t>(m.with_input_covariance ? 1 : 0));
    w.put(m.count);
    for (const RegimeMoments* r : {&m.positive, &m.negative}) {
      using patternnet::detail::moments_file::put;
      put(w, r->n), put(w, r->mean_x), put(w, r->mean_y), put(w, r->c_xy), put(w, r->c_yy);
    }
    if (m.with_input_covariance) {
      patternnet::detail::moments_file::put(w, m.mean_x);
      patternnet::detail::moments_file::put(w, m.c_xx);
    }
  }
  w.commit(path);
}

/// Reads moments saved by save_moments for `net` (bound): the file must hold one record
/// per Dense and Conv2D node, of its weight's shape, and the architecture fingerprint of
/// `net`. Throws FormatError (bad magic, version, checksum, truncation, a value that is
/// NaN or Inf, regime counts that do not add up to the record's count), ShapeError
/// (records that do not fit `net`, another architecture), ConfigError (`net` not bound).
/// Every size is checked against the bytes left before anything is allocated.
template <class T>
[[nodiscard]] NetworkMoments load_moments(const std::filesystem::path& path, const Graph<T>& net) {
  Reader r(path, "moments");
  if (r.get<std::array<char, 8>>("the magic") != kMomentsMagic) r.fail("not a patternnet moments file (bad magic)");
  const auto version = r.get<std::uint32_t>("the version");
  if (version != kMomentsVersion) r.fail("format version {} is not supported (this build reads version 1)", version);
  r.verify_checksum();
  const auto architecture = r.get<std::uint64_t>("the architecture fingerprint");
  if (architecture != net.architecture_fingerprint()) {
    detail::fail<ShapeError>("load_moments(): '{}' holds the moments of another network: its architecture "
                                         "fingerprint is {:#018x} and this network's is {:#018x}", path.string(),
                                         architecture, net.architecture_fingerprint());
  }
  const auto samples = r.get<double>("the sample count");
  if (!(samples >= 0) || !std::isfinite(samples)) r.fail("invalid sample count {}", samples);
  std::vector<Index> linear;
  for_each_linear(net, [&](Index n, const auto& /*layer*/) { linear.push_back(n); });
  const auto count = r.get<std::uint32_t>("the number of layers");
  if (count != linear.size()) r.fail("{} layer records, the network has {} Dense and Conv2D layers", count, linear.size());
  std::vector<LayerMoments> layers;
  for (const Index expected : linear) {
    const auto layer = r.get<std::int64_t>("a layer index");
    if (layer != expected) r.fail("a record for layer {} where layer {} comes next", layer, expected);
    const auto k = r.get<std::int64_t>("a layer's inputs K"), f = r.get<std::int64_t>("a layer's neurons F");
    const Matrix<T>& w = std::visit(
        [](const auto& l) -> const Matrix<T>& {
          if constexpr (LinearLayer<std::decay_t<decltype(l)>>) return l.weight();
          else throw std::logic_error("load_moments(): not a linear layer");  // for_each_linear chose it
        },
        net.layer(expected));
    if (k != w.cols() || f != w.rows()) {
      detail::fail<ShapeError>("load_moments(): '{}' has moments of {} neurons x {} inputs for layer {}, "
                                           "whose weight is {}x{}", path.string(), f, k, layer, w.rows(), w.cols());
    }
    const auto flag = r.get<std::uint8_t>("the input covariance flag");
    if (flag > 1) r.fail("invalid input covariance flag {}", flag);
    if (patternnet::detail::moments_file::record_bytes(k, f, flag == 1) > r.remaining()) {
      r.fail("truncated: the record of layer {} needs {} bytes, {} are left", layer,
             patternnet::detail::moments_file::record_bytes(k, f, flag == 1), r.remaining());
    }
    LayerMoments m(layer, k, f, flag == 1);
    m.count = r.get<double>("a layer's count");
    if (!(m.count >= 0) || !std::isfinite(m.count)) r.fail("invalid count {} of layer {}", m.count, layer);
    for (RegimeMoments* g : {&m.positive, &m.negative}) {
      using patternnet::detail::moments_file::get;
      get(r, g->n, 1, f, "regime counts");
      get(r, g->mean_x, k, f, "regime input means");
      get(r, g->mean_y, 1, f, "regime output means");
      get(r, g->c_xy, k, f, "regime co-moments");
      get(r, g->c_yy, 1, f, "regime output co-moments");
    }
    if ((m.positive.n.array() < 0).any() || (m.negative.n.array() < 0).any() ||
        ((m.positive.n + m.negative.n).array() != m.count).any()) {
      r.fail("the regime counts of layer {} do not add up to its count {}", layer, m.count);
    }
    if (m.with_input_covariance) {
      patternnet::detail::moments_file::get(r, m.mean_x, k, 1, "input means");
      patternnet::detail::moments_file::get(r, m.c_xx, k, k, "input co-moments");
    }
    layers.push_back(std::move(m));
  }
  if (!r.at_end()) r.fail("unexpected bytes after the last record");
  NetworkMoments moments(std::move(layers));
  moments.add_samples(samples);
  return moments;
}

}  // namespace patternnet::io
