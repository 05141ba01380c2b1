#pragma once
// Test helpers: seeded random data and slow, obviously correct oracles.

#include <patternnet/patternnet.hpp>

#include <cmath>
#include <limits>
#include <random>

namespace pn = patternnet;

namespace support {

/// Uniform values in [lo, hi], seeded.
template <class T>
pn::Matrix<T> random_matrix(pn::Index rows, pn::Index cols, unsigned seed, double lo = -1, double hi = 1) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  pn::Matrix<T> m(rows, cols);
  for (pn::Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<T>(u(rng));
  return m;
}

template <class T>
pn::Vector<T> random_vector(pn::Index n, unsigned seed) {
  return random_matrix<T>(n, 1, seed);
}

/// Direct-loop convolution: out[f, oy, ox] = b[f] + sum W[f, c, i, j] x[c, iy, ix].
template <class T>
pn::Matrix<T> naive_conv(const pn::ConvGeometry& g, const pn::Matrix<T>& w, const pn::Vector<T>& b,
                         const pn::Matrix<T>& x) {
  const pn::Index F = w.rows(), oh = g.out_h(), ow = g.out_w();
  pn::Matrix<T> out(F * oh * ow, x.cols());
  for (pn::Index n = 0; n < x.cols(); ++n)
    for (pn::Index f = 0; f < F; ++f)
      for (pn::Index oy = 0; oy < oh; ++oy)
        for (pn::Index ox = 0; ox < ow; ++ox) {
          double acc = b.size() ? static_cast<double>(b(f)) : 0.0;
          for (pn::Index c = 0; c < g.in.c; ++c)
            for (pn::Index i = 0; i < g.kernel_h; ++i)
              for (pn::Index j = 0; j < g.kernel_w; ++j) {
                const pn::Index iy = oy * g.stride_h + i * g.dilation_h - g.pad_top;
                const pn::Index ix = ox * g.stride_w + j * g.dilation_w - g.pad_left;
                if (iy < 0 || iy >= g.in.h || ix < 0 || ix >= g.in.w) continue;
                acc += static_cast<double>(w(f, (c * g.kernel_h + i) * g.kernel_w + j)) *
                       static_cast<double>(x(g.in.at(c, iy, ix), n));
              }
          out((f * oh + oy) * ow + ox, n) = static_cast<T>(acc);
        }
  return out;
}

/// The explicit Jacobian of a linear layer without bias: column k = apply_with(M, 0, e_k).
template <class L, class T>
pn::Matrix<T> jacobian(const L& layer, const pn::Matrix<T>& m, pn::Index in_size) {
  const pn::Matrix<T> eye = pn::Matrix<T>::Identity(in_size, in_size);
  return layer.apply_with(m, pn::Vector<T>{}, eye);
}

}  // namespace support

namespace support {

/// Fills every weight and bias of a network with seeded uniform values in [-1, 1] * scale.
template <class T>
void randomize(pn::Graph<T>& net, unsigned seed, double scale = 1.0) {
  pn::for_each_linear(net, [&](pn::Index, auto& layer) {
    layer.weight() = random_matrix<T>(layer.weight().rows(), layer.weight().cols(), seed++, -scale, scale);
    if (layer.has_bias()) layer.bias() = random_matrix<T>(layer.bias().size(), 1, seed++, -scale, scale);
  });
}

/// A network mixing every layer type: dilated 'same' conv, max-pool, strided padded
/// conv, flatten, two dense layers, softmax; input 2 x 9 x 8 (non-square).
template <class T>
pn::Sequential<T> mixed_net(unsigned seed) {
  pn::Sequential<T> net{pn::Conv2D<T>(2, 3, 3, pn::Padding::same(), pn::Dilation{2}),
                        pn::ReLU<T>{},
                        pn::MaxPool2D<T>(2),
                        pn::Conv2D<T>(3, 4, 3, pn::Stride{2}, pn::Padding{1}),
                        pn::ReLU<T>{},
                        pn::Flatten<T>{},
                        pn::Dense<T>(16, 5),
                        pn::ReLU<T>{},
                        pn::Dense<T>(5, 3),
                        pn::Softmax<T>{}};
  net.set_input_shape({2, 9, 8});
  randomize(net, seed, 0.7);
  return net;
}

}  // namespace support
