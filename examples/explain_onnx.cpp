// Explain your own network: a model exported from PyTorch to ONNX (docs/onnx.md), explained
// on your images with the Gradient, LRP epsilon-plus-flat and PatternAttribution (S_a+-),
// in one figure: rows = images, columns = the input and each method's explanation of the
// top class.
//
// Usage: explain_onnx MODEL.onnx IMAGE... [-o DIR] [--imagenet] [--mean M] [--std S]
//                     [--patterns FILE] [--save-patterns FILE] [--labels FILE]
//   MODEL.onnx           exported with torch.onnx.export (docs/onnx.md); input 1 or 3 channels
//   IMAGE...             PNG or BMP files (convert JPEG to PNG), resized to the model's input (aspect ratio not
//                        kept) and scaled to [0, 1] like torchvision's ToTensor
//   -o DIR               where explain_onnx.svg is written (default ".")
//   --imagenet           normalise with torchvision's ImageNet mean and std
//   --mean M, --std S    normalise with these (one value, or three comma-separated for RGB)
//   --patterns FILE      PatternAttribution's patterns from this pattern file (fitted on the
//                        same network, e.g. by --save-patterns); default: fit the two-component
//                        patterns S_a+- on the given images (few images give rough patterns)
//   --save-patterns FILE write the fitted patterns to FILE
//   --labels FILE        class names, one per line (line k = class k)
//
// Try it on the committed Fashion-MNIST model (a residual CNN trained in PyTorch,
// tests/data/onnx/make_fashion_cnn.py), from the source directory:
//   D=tests/data; explain_onnx $D/onnx/fashion_cnn.onnx $D/images/fashion_*.png
//                 --mean 0.2860 --std 0.3530 --labels $D/images/fashion_labels.txt   (one line)

#include <patternnet/io/image_file.hpp>
#include <patternnet/io/image_grid.hpp>
#include <patternnet/io/onnx.hpp>
#include <patternnet/io/pattern_file.hpp>
#include <patternnet/network/summary.hpp>
#include <patternnet/patternnet.hpp>

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pn = patternnet;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Arguments {
  fs::path model, out = ".", patterns, save_patterns, labels;
  std::vector<fs::path> images;
  pn::io::Normalization norm;
};

/// "0.5" or "0.485,0.456,0.406" as three values (one value for every channel).
std::array<double, 3> per_channel(std::string_view option, const std::string& text) {
  std::vector<double> v;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    std::size_t used = 0;
    const std::string part = text.substr(start, end - start);
    try {
      v.push_back(std::stod(part, &used));
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != part.size()) pn::detail::fail<pn::ConfigError>("explain_onnx: {} '{}' is not a number", option, part);
    start = end + 1;
  }
  if (v.size() == 1) return {v[0], v[0], v[0]};
  if (v.size() != 3) pn::detail::fail<pn::ConfigError>("explain_onnx: {} takes 1 or 3 values, got {}", option, v.size());
  return {v[0], v[1], v[2]};
}

Arguments parse(int argc, char** argv) {
  Arguments a;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) pn::detail::fail<pn::ConfigError>("explain_onnx: {} needs a value", arg);
      return argv[++i];
    };
    if (arg == "-o") a.out = value();
    else if (arg == "--imagenet") a.norm = pn::io::Normalization::imagenet();
    else if (arg == "--mean") a.norm.mean = per_channel(arg, value());
    else if (arg == "--std") a.norm.std = per_channel(arg, value());
    else if (arg == "--patterns") a.patterns = value();
    else if (arg == "--save-patterns") a.save_patterns = value();
    else if (arg == "--labels") a.labels = value();
    else if (!arg.empty() && arg[0] == '-') pn::detail::fail<pn::ConfigError>("explain_onnx: unknown option {}", arg);
    else if (a.model.empty()) a.model = arg;
    else a.images.emplace_back(arg);
  }
  if (a.model.empty() || a.images.empty()) {
    pn::detail::fail<pn::ConfigError>("usage: explain_onnx MODEL.onnx IMAGE... [-o DIR] [--imagenet] [--mean M] [--std S] "
                                      "[--patterns FILE] [--save-patterns FILE] [--labels FILE]");
  }
  return a;
}

std::vector<std::string> read_labels(const fs::path& file) {
  std::vector<std::string> labels;
  if (file.empty()) return labels;
  std::ifstream in(file);
  if (!in) pn::detail::fail<pn::Error>("explain_onnx: cannot open the labels file '{}'", file.string());
  for (std::string line; std::getline(in, line);) labels.push_back(line);
  return labels;
}

/// Softmax probabilities of the network's outputs (the outputs themselves if the network
/// ends in a Softmax).
pn::Matrix<double> probabilities(const pn::Graph<float>& net, const pn::Batch<float>& out) {
  pn::Matrix<double> p = out.data.cast<double>();
  if (std::holds_alternative<pn::Softmax<float>>(net.layer(net.size() - 1))) return p;
  for (pn::Index j = 0; j < p.cols(); ++j) {
    p.col(j) = (p.col(j).array() - p.col(j).maxCoeff()).exp();
    p.col(j) /= p.col(j).sum();
  }
  return p;
}

}  // namespace

int main(int argc, char** argv) try {
  const auto start = Clock::now();
  const Arguments args = parse(argc, argv);

  auto t = Clock::now();
  const pn::Graph<float> net = pn::io::load_onnx<float>(args.model);
  const pn::Shape shape = net.input_shape();
  fmt::print("Loaded {} ({} nodes, input {}) in {:.2f} s\n{}\n", args.model.string(), net.size(), shape, since(t),
             pn::summary(net));

  // The images, resized to the model's input and normalised.
  std::vector<pn::io::Image> images;
  for (const fs::path& file : args.images) images.push_back(pn::io::resize(pn::io::read_image(file), shape.w, shape.h));
  const pn::Batch<float> x = pn::io::image_batch<float>(images, shape, args.norm);
  const pn::Matrix<double> p = probabilities(net, net.forward(x));
  const std::vector<std::string> labels = read_labels(args.labels);
  const auto class_name = [&](pn::Index k) {
    return k < static_cast<pn::Index>(labels.size()) ? labels[static_cast<std::size_t>(k)] : fmt::format("class {}", k);
  };

  // PatternAttribution's patterns: loaded, or fitted on these images in one pass.
  t = Clock::now();
  pn::Patterns<float> patterns =
      args.patterns.empty()
          ? pn::fit_patterns<pn::estimators::TwoComponent>(net, pn::batches(x, 16))
          : pn::io::load_patterns(args.patterns, net);
  fmt::print("{} the S_a+- patterns {} in {:.2f} s\n", args.patterns.empty() ? "Fitted" : "Loaded",
             args.patterns.empty() ? fmt::format("on the {} images", x.size()) : "from " + args.patterns.string(), since(t));
  if (!args.save_patterns.empty()) {
    pn::io::save_patterns(patterns, args.save_patterns);
    fmt::print("Wrote the patterns to {}\n", args.save_patterns.string());
  }

  // The three explanations of the top class.
  t = Clock::now();
  const auto gradient = pn::explain(net, pn::rules::Gradient{}, x);
  const auto lrp = pn::explain(net, pn::composites::EpsilonPlusFlat{}, x);
  const auto pattern_attribution = pn::explain(net, pn::rules::PatternAttribution{patterns}, x);
  fmt::print("Explained {} images with 3 methods in {:.2f} s\n", x.size(), since(t));

  pn::io::ImageGrid grid;
  grid.title = fmt::format("{}: the top class explained", args.model.filename().string());
  grid.columns = {"input", "Gradient", "LRP\nε+ / flat", "PatternAttr.\nS_a+-"};
  grid.tile_scale = std::max<pn::Index>(1, 112 / std::max(shape.h, shape.w));
  grid.label_width = 200;
  for (pn::Index j = 0; j < x.size(); ++j) {
    const pn::Index top = gradient.targets[static_cast<std::size_t>(j)];
    const std::string file = args.images[static_cast<std::size_t>(j)].filename().string();
    fmt::print("  {}: {} ({:.1f} %)\n", file, class_name(top), 100 * p(top, j));
    pn::io::GridRow row;
    row.label = {file, class_name(top), fmt::format("p = {:.1f} %", 100 * p(top, j))};
    row.tiles = {images[static_cast<std::size_t>(j)], pn::io::signal_image(gradient.attribution.sample(j), shape),
                 pn::io::heatmap_image(lrp.attribution.sample(j), shape),
                 pn::io::heatmap_image(pattern_attribution.attribution.sample(j), shape)};
    grid.rows.push_back(std::move(row));
  }
  grid.legends.push_back({"Gradient: x / (2 max|x|) + 1/2 per channel", pn::io::signal_colorbar(300, 14), "-max|x|", "0", "+max|x|"});
  grid.legends.push_back({"heat maps: contribution per pixel", pn::io::heatmap_colorbar(300, 14), "-max|r|", "0", "+max|r|"});
  grid.notes = {fmt::format("Every tile is scaled to its own maximum. Patterns {}.",
                            args.patterns.empty() ? fmt::format("fitted on these {} images", x.size())
                                                  : "from " + args.patterns.filename().string())};
  fs::create_directories(args.out);
  const fs::path figure = args.out / "explain_onnx.svg";
  pn::io::write_grid_svg(grid, figure);
  fmt::print("Wrote {} (open it in a browser); total {:.1f} s\n", figure.string(), since(start));
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "explain_onnx: {}\n", e.what());
  return 1;
}
