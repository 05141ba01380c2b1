#pragma once
// Strong types for layer hyper-parameters, so that constructors read like
// Conv2D<float>{1, 32, 3, Padding{1}, Stride{2}} and options can come in any order.

#include <patternnet/core/shape.hpp>

namespace patternnet {

/// Window size (height x width); an integer gives a square window.
struct Kernel {
  Index h = 1, w = 1;
  constexpr Kernel(Index size) : h(size), w(size) {}  // NOLINT(google-explicit-constructor)
  constexpr Kernel(Index height, Index width) : h(height), w(width) {}
};

/// Step between windows; an integer gives the same step along both axes.
struct Stride {
  Index h = 1, w = 1;
  constexpr Stride() = default;
  constexpr explicit Stride(Index s) : h(s), w(s) {}
  constexpr Stride(Index sh, Index sw) : h(sh), w(sw) {}
};

/// Spacing between kernel taps (1 = an ordinary convolution).
struct Dilation {
  Index h = 1, w = 1;
  constexpr Dilation() = default;
  constexpr explicit Dilation(Index d) : h(d), w(d) {}
  constexpr Dilation(Index dh, Index dw) : h(dh), w(dw) {}
};

/// Zero padding: symmetric per axis, or "same" (output size = input size for stride 1;
/// an odd total padding puts the extra row / column at the bottom / right, as PyTorch does).
struct Padding {
  Index h = 0, w = 0;
  bool same_size = false;
  constexpr Padding() = default;
  constexpr explicit Padding(Index p) : h(p), w(p) {}
  constexpr Padding(Index ph, Index pw) : h(ph), w(pw) {}
  static constexpr Padding same() {
    Padding p;
    p.same_size = true;
    return p;
  }
};

/// Whether a Dense or Conv2D layer has a bias term.
struct Bias {
  bool enabled = true;
  constexpr explicit Bias(bool on) : enabled(on) {}
};

/// Whether a pooling layer rounds its output size up (a last, partial window), as
/// PyTorch's ceil_mode; the default rounds down. A last window must start inside the input
/// or its left / top padding.
struct CeilMode {
  bool enabled = false;
  constexpr explicit CeilMode(bool on) : enabled(on) {}
};

}  // namespace patternnet
