#pragma once
// Fitted patterns of a network, and the report of degenerate neurons.
//
// A pattern has exactly the shape of its layer's weight matrix (F x K, one row per
// neuron), so PatternNet / PatternAttribution substitute A or W .* A for W with no
// reshaping. S_x (identity) has no pattern: its signal estimate is the data itself.

#include <patternnet/core/batch.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace patternnet {

/// How a layer's signal estimate s_i(x) is formed (docs/concepts.md, signal estimators).
enum class PatternKind : std::uint32_t {
  identity = 0,       // s(x) = x (S_x), no pattern
  single = 1,         // s_i(x) = a_i y_i (S_w, S_a, random)
  two_component = 2,  // s_i(x) = a+_i y_i in the positive regime, a-_i y_i otherwise (S_a+-)
};

/// Patterns of one linear layer.
template <class T>
struct LayerPatterns {
  Index layer = -1;
  PatternKind kind = PatternKind::identity;
  Matrix<T> a;      // F x K: the pattern (a+ for two_component); empty for identity
  Matrix<T> a_neg;  // F x K: a- for two_component; empty otherwise

  template <class U>
  [[nodiscard]] LayerPatterns<U> cast() const {
    return {layer, kind, a.template cast<U>(), a_neg.template cast<U>()};
  }
};

/// A neuron whose pattern could not be formed normally, and what was done with it.
struct DegenerateNeuron {
  enum class Reason {
    never_positive,    // no sample in the positive regime (dead ReLU): a+ = 0
    never_negative,    // no sample in the negative regime: a- = 0
    tiny_denominator,  // |w^T v| <= tolerance * |w| |v| (or v = 0): pattern set to 0
  };
  Index layer;
  Index neuron;
  Reason reason;
  bool positive_regime;  // which pattern (a+ / single, or a-) it concerns
};

/// What fitting saw: degenerate neurons (never a silent NaN/Inf in a pattern).
struct FitReport {
  std::vector<DegenerateNeuron> degenerate;
  double samples = 0;  // input samples used

  [[nodiscard]] std::size_t count(DegenerateNeuron::Reason r) const {
    std::size_t c = 0;
    for (const auto& d : degenerate) c += d.reason == r;
    return c;
  }
  /// One line per kind of problem, e.g. "layer 4: 3 neurons never positive (a+ = 0)".
  [[nodiscard]] std::string summary() const {
    std::string out;
    for (const auto& d : degenerate) {
      static constexpr const char* what[] = {"never in the positive regime (dead): a+ = 0",
                                             "never in the negative regime: a- = 0",
                                             "zero or tiny denominator w^T v: pattern set to 0"};
      out += fmt::format("layer {} neuron {}: {}{}\n", d.layer, d.neuron, what[static_cast<int>(d.reason)],
                         d.reason == DegenerateNeuron::Reason::tiny_denominator
                             ? (d.positive_regime ? " (a / a+)" : " (a-)")
                             : "");
    }
    return out;
  }
};

/// The patterns of every linear layer of a network, from one estimator.
template <class T>
class Patterns {
public:
  Patterns() = default;
  /// `architecture`: Graph::architecture_fingerprint() of the network the patterns were
  /// fitted on (0 = unknown).
  Patterns(std::string estimator, std::vector<LayerPatterns<T>> layers, FitReport report = {},
           std::uint64_t architecture = 0)
      : estimator_(std::move(estimator)), layers_(std::move(layers)), report_(std::move(report)),
        architecture_(architecture) {}

  /// The estimator's name, e.g. "S_a+-".
  [[nodiscard]] const std::string& estimator() const noexcept { return estimator_; }
  [[nodiscard]] const std::vector<LayerPatterns<T>>& layers() const noexcept { return layers_; }
  [[nodiscard]] const FitReport& report() const noexcept { return report_; }
  /// The architecture fingerprint of the network the patterns were fitted on (0 = unknown:
  /// built by hand, or read from a version 1 pattern file).
  [[nodiscard]] std::uint64_t architecture() const noexcept { return architecture_; }

  /// The patterns of network layer `layer`; throws ConfigError if there are none, and
  /// ShapeError if they do not have the weight's shape (rows x cols).
  [[nodiscard]] const LayerPatterns<T>& at(Index layer, Index rows, Index cols, const char* where) const {
    for (const auto& p : layers_) {
      if (p.layer != layer) continue;
      if (p.kind != PatternKind::identity && (p.a.rows() != rows || p.a.cols() != cols)) {
        detail::fail<ShapeError>("{}: patterns of layer {} are {}x{}, the layer's weight is {}x{}", where, layer,
                                 p.a.rows(), p.a.cols(), rows, cols);
      }
      return p;
    }
    detail::fail<ConfigError>("{}: no patterns for layer {} (estimator {}); fit them on this network", where,
                              layer, estimator_);
  }

  template <class U>
  [[nodiscard]] Patterns<U> cast() const {
    std::vector<LayerPatterns<U>> out;
    for (const auto& p : layers_) out.push_back(p.template cast<U>());
    return Patterns<U>(estimator_, std::move(out), report_, architecture_);
  }

  friend bool operator==(const Patterns& a, const Patterns& b) {
    if (a.estimator_ != b.estimator_ || a.layers_.size() != b.layers_.size()) return false;
    for (std::size_t i = 0; i < a.layers_.size(); ++i) {
      const auto &x = a.layers_[i], &y = b.layers_[i];
      if (x.layer != y.layer || x.kind != y.kind || !same(x.a, y.a) || !same(x.a_neg, y.a_neg)) return false;
    }
    return true;
  }

private:
  static bool same(const Matrix<T>& x, const Matrix<T>& y) {
    return x.rows() == y.rows() && x.cols() == y.cols() && (x.array() == y.array()).all();
  }

  std::string estimator_;
  std::vector<LayerPatterns<T>> layers_;
  FitReport report_;
  std::uint64_t architecture_ = 0;
};

}  // namespace patternnet
