#pragma once
// Sizes a caller asks for (layer constructors, chunk sizes): multiplied with overflow checks
// and allocated so that a size nobody could mean is a ConfigError naming it, never signed
// overflow, std::bad_alloc or an allocation of terabytes.

#include <patternnet/core/error.hpp>
#include <patternnet/core/shape.hpp>

#include <Eigen/Core>

#include <initializer_list>
#include <new>

namespace patternnet::detail {

/// The most parameters one layer may hold: 2^32 (16 GiB of float; the largest layer of
/// VGG-16 holds 1.0e8). A larger request is taken for a mistaken argument.
inline constexpr Index kMaxLayerParameters = Index{1} << 32;

/// The product of `factors` (each >= 0), or ConfigError naming `where` and `what` if it
/// overflows Index or exceeds `limit`.
[[nodiscard]] inline Index checked_count(const char* where, const char* what, std::initializer_list<Index> factors,
                                         Index limit = kMaxLayerParameters) {
  Index n = 1;
  bool overflow = false;
  for (const Index f : factors) overflow = overflow || __builtin_mul_overflow(n, f, &n);
  if (overflow || n > limit) {
    fail<ConfigError>("{}: {} would hold {} values, more than the limit of {}", where, what,
                      overflow ? "more than 2^63" : fmt::format("{}", n), limit);
  }
  return n;
}

/// M::Zero(rows, cols) (cols = 1 for a vector), with ConfigError instead of std::bad_alloc
/// when the memory is not there. rows * cols must have passed checked_count().
template <class M>
[[nodiscard]] M zeros(const char* where, const char* what, Index rows, Index cols = 1) {
  try {
    if constexpr (M::ColsAtCompileTime == 1) {
      return M::Zero(rows);
    } else {
      return M::Zero(rows, cols);
    }
  } catch (const std::bad_alloc&) {
    fail<ConfigError>("{}: cannot allocate {} ({} x {} values): out of memory", where, what, rows, cols);
  }
}

}  // namespace patternnet::detail
