// patternnet info MODEL: the network node by node.

#include "commands.hpp"

#include <patternnet/network/summary.hpp>
#include <patternnet/patternnet.hpp>

#include <fmt/ranges.h>

namespace patternnet::cli {

void add_info(CLI::App& app, const GlobalOptions& /*global*/) {
  auto model = std::make_shared<std::filesystem::path>();
  CLI::App* sub = app.add_subcommand("info", "Show the network node by node: type, inputs, output shape, parameters");
  sub->footer("Example:\n  patternnet info model.onnx");
  add_model(*sub, *model);
  sub->callback([model] {
    const Graph<float> net = load_network(*model);
    fmt::print("{}: {} nodes, input {}, {} outputs\n{}", model->string(), net.size(), net.input_shape(),
               net.shape_at(net.size()).size(), summary(net));
    std::vector<Index> linear;
    for_each_linear(net, [&](Index n, const auto& /*layer*/) { linear.push_back(n); });
    fmt::print("patterns (patternnet fit) are fitted for the {} Dense and Conv2D nodes: {}\n", linear.size(),
               fmt::join(linear, ", "));
  });
}

}  // namespace patternnet::cli
