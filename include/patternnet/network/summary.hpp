#pragma once
// Human-readable descriptions of layers and networks: one line per node with its
// hyper-parameters, used in messages (e.g. a model file that does not match a network)
// and by examples that print their model.

#include <patternnet/network/graph.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace patternnet {

/// The layer's type and every hyper-parameter that defines it (not the weights), e.g.
/// "Conv2D(1 -> 16, kernel 3x3, stride 1x1, padding 1x1, dilation 1x1, bias)". Two layers
/// with equal descriptions accept the same weights and compute the same function of them.
template <class T>
[[nodiscard]] std::string describe(const Layer<T>& layer) {
  return std::visit(
      [](const auto& l) -> std::string {
        using L = std::decay_t<decltype(l)>;
        if constexpr (std::is_same_v<L, Dense<T>>) {
          return fmt::format("Dense({} -> {}, {})", l.in_features(), l.out_features(), l.has_bias() ? "bias" : "no bias");
        } else if constexpr (std::is_same_v<L, Conv2D<T>>) {
          const Padding p = l.padding();
          return fmt::format("Conv2D({} -> {}, kernel {}x{}, stride {}x{}, padding {}, dilation {}x{}, {})", l.in_channels(),
                             l.out_channels(), l.kernel().h, l.kernel().w, l.stride().h, l.stride().w,
                             p.same_size ? std::string("same") : fmt::format("{}x{}", p.h, p.w), l.dilation().h,
                             l.dilation().w, l.has_bias() ? "bias" : "no bias");
        } else if constexpr (std::is_same_v<L, MaxPool2D<T>>) {
          return fmt::format("MaxPool2D(kernel {}x{}, stride {}x{}, padding {}x{}{})", l.kernel().h, l.kernel().w,
                             l.stride().h, l.stride().w, l.padding().h, l.padding().w,
                             l.ceil_mode() ? ", ceil_mode" : "");
        } else if constexpr (std::is_same_v<L, AvgPool2D<T>>) {
          return fmt::format("AvgPool2D(kernel {}x{}, stride {}x{}, padding {}x{}{}{})", l.kernel().h, l.kernel().w,
                             l.stride().h, l.stride().w, l.padding().h, l.padding().w,
                             l.count_include_pad() ? "" : ", count_include_pad off", l.ceil_mode() ? ", ceil_mode" : "");
        } else if constexpr (std::is_same_v<L, BatchNorm2D<T>>) {
          return fmt::format("BatchNorm2D({} channels, eps {})", l.channels(), l.eps());
        } else {
          static_assert(std::is_same_v<L, ReLU<T>> || std::is_same_v<L, Softmax<T>> || std::is_same_v<L, Flatten<T>> ||
                            std::is_same_v<L, GlobalAvgPool2D<T>> || std::is_same_v<L, Add<T>> ||
                            std::is_same_v<L, Concat<T>>,
                        "describe(): a layer type with hyper-parameters that describe() does not print");
          return std::string(L::name);
        }
      },
      layer);
}

/// Number of weights and biases of a layer.
template <class T>
[[nodiscard]] Index parameter_count(const Layer<T>& layer) {
  return std::visit(
      [](const auto& l) -> Index {
        using L = std::decay_t<decltype(l)>;
        if constexpr (LinearLayer<L>) return l.weight().size() + l.bias().size();
        else if constexpr (std::is_same_v<L, BatchNorm2D<T>>) return 2 * l.channels();  // weight, bias (PyTorch's count)
        else return 0;
      },
      layer);
}

/// One line per node: index, name (if any), description, its inputs (where they are not
/// just the previous node), output shape (if the network is bound) and parameter count;
/// then the total.
template <class T>
[[nodiscard]] std::string summary(const Graph<T>& net) {
  std::string out;
  if (net.ready()) out += fmt::format("input {}\n", net.input_shape());
  Index total = 0;
  for (Index l = 0; l < net.size(); ++l) {
    const Index params = parameter_count(net.layer(l));
    total += params;
    std::string what = describe(net.layer(l));
    if (!net.name(l).empty()) what = fmt::format("{} {}", net.name(l), what);
    const std::vector<Index>& in = net.inputs(l);
    if (in.size() != 1 || in[0] != l - 1) {
      std::vector<std::string> from;
      for (const Index i : in) from.push_back(i < 0 ? std::string("input") : std::to_string(i));
      what += fmt::format(" <- {}", fmt::join(from, ", "));
    }
    out += fmt::format("{:>3}  {:<72}", l, what);
    if (net.ready()) out += fmt::format(" -> {}", net.shape_at(l + 1));
    if (params > 0) out += fmt::format("  {} parameters", params);
    out += '\n';
  }
  out += fmt::format("{} parameters\n", total);
  return out;
}

}  // namespace patternnet
