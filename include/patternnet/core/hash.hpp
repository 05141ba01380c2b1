#pragma once
// FNV-1a, 64 bit (Fowler, Noll, Vo): the checksum of patternnet's files (io/binary.hpp) and
// the architecture fingerprint of a network (Graph::architecture_fingerprint).

#include <cstddef>
#include <cstdint>

namespace patternnet::detail {

/// An FNV-1a 64 hash fed byte by byte.
class Fnv1a {
public:
  void add(unsigned char byte) noexcept { h_ = (h_ ^ byte) * kPrime; }
  void add(const unsigned char* data, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) add(data[i]);
  }
  /// The 8 bytes of v, least significant first.
  void add_word(std::uint64_t v) noexcept {
    for (int i = 0; i < 8; ++i) add(static_cast<unsigned char>(v >> (8 * i)));
  }
  [[nodiscard]] std::uint64_t value() const noexcept { return h_; }

private:
  static constexpr std::uint64_t kOffsetBasis = 14695981039346656037ULL, kPrime = 1099511628211ULL;
  std::uint64_t h_ = kOffsetBasis;
};

/// FNV-1a 64 of n bytes.
[[nodiscard]] inline std::uint64_t fnv1a(const unsigned char* data, std::size_t n) noexcept {
  Fnv1a h;
  h.add(data, n);
  return h.value();
}

}  // namespace patternnet::detail
