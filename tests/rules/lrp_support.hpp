#pragma once
// Helpers for the LRP, composite and diagnostics tests: a replay of the backward pass that
// keeps every intermediate, and bias-free networks.

#include "support.hpp"

#include <stdexcept>
#include <vector>

namespace lrp_support {

/// The backward pass of explain(), replayed by hand: step(l, layer, ctx, r) is called for
/// every layer from top-1 down to 0 (Flatten passes r). Returns the quantity at the input
/// of every layer: out[l] for l < top, out[top] = seed.
template <class T, class Step>
std::vector<pn::Matrix<T>> replay(const pn::Graph<T>& net, const pn::ForwardRecord<T>& rec, pn::Index top,
                                  const pn::Matrix<T>& seed, Step&& step) {
  std::vector<pn::Matrix<T>> out(static_cast<std::size_t>(top + 1));
  out[static_cast<std::size_t>(top)] = seed;
  for (pn::Index l = top - 1; l >= 0; --l) {
    const auto i = static_cast<std::size_t>(l);
    const pn::Matrix<T>* inputs[] = {&rec.activations[i]};
    const pn::LayerContext<T> ctx{l, rec.activations[i], rec.activations[i + 1], inputs, rec.caches[i]};
    out[i] = std::visit(
        [&](const auto& layer) -> pn::Matrix<T> {
          using L = std::decay_t<decltype(layer)>;
          if constexpr (std::is_same_v<L, pn::Flatten<T>>) return out[i + 1];
          else if constexpr (L::arity != 1) throw std::logic_error("replay(): chains only");
          else return step(l, layer, ctx, out[i + 1]);
        },
        net.layer(l));
  }
  return out;
}

/// Calls the hook of `rule` for the layer (single-input layers only), as backward() does
/// (through detail::run_hook, which patternnet::precompiled provides for the built-in rules).
template <class R, class L, class T>
pn::Matrix<T> hook(const R& rule, const L& layer, const pn::LayerContext<T>& ctx, const pn::Matrix<T>& r) {
  return pn::detail::run_hook(rule, layer, ctx, r);
}

/// The seed explain() uses: y_c (or 1) at the selected logit, 0 elsewhere.
template <class T>
pn::Matrix<T> seed(const pn::Matrix<T>& logits, const std::vector<pn::Index>& targets, bool logit) {
  pn::Matrix<T> s = pn::Matrix<T>::Zero(logits.rows(), logits.cols());
  for (pn::Index j = 0; j < logits.cols(); ++j) {
    const pn::Index c = targets[static_cast<std::size_t>(j)];
    s(c, j) = logit ? logits(c, j) : T(1);
  }
  return s;
}

/// A ReLU CNN without any bias: conv (padded), ReLU, max-pool, conv (strided, padded),
/// ReLU, flatten, dense, ReLU, dense, softmax; input 2 x 8 x 7.
template <class T>
pn::Sequential<T> bias_free_net(unsigned seed) {
  const pn::Bias none{false};
  pn::Sequential<T> net{pn::Conv2D<T>(2, 3, 3, pn::Padding{1}, none),
                        pn::ReLU<T>{},
                        pn::MaxPool2D<T>(2),
                        pn::Conv2D<T>(3, 4, 3, pn::Stride{2}, pn::Padding{1}, none),
                        pn::ReLU<T>{},
                        pn::Flatten<T>{},
                        pn::Dense<T>(16, 6, none),
                        pn::ReLU<T>{},
                        pn::Dense<T>(6, 3, none),
                        pn::Softmax<T>{}};
  net.set_input_shape({2, 8, 7});
  support::randomize(net, seed);
  return net;
}

}  // namespace lrp_support
