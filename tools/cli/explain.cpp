// patternnet explain MODEL INPUT... --method NAME[,NAME...] -o DIR: per input and method the
// explanation as .npy (the raw values) and as a PNG picture; with several methods also
// one comparison grid (SVG) of every input and method.

#include "commands.hpp"
#include "methods.hpp"
#include "usage_error.hpp"

#include <patternnet/evaluation/degradation.hpp>
#include <patternnet/io/image.hpp>
#include <patternnet/io/image_grid.hpp>
#include <patternnet/io/npy.hpp>
#include <patternnet/io/pattern_file.hpp>

#include <fmt/ranges.h>

#include <fstream>
#include <optional>
#include <set>

namespace patternnet::cli {

namespace {

struct ExplainArguments {
  std::filesystem::path model, out, patterns, labels, classes;
  std::vector<std::filesystem::path> inputs;
  std::vector<std::string> methods;
  std::string target = "argmax";
  bool shared_scale = false;
  Index zoom = 1;
  std::string colormap = "red-blue", normalization = "symmetric";
  double overlay = 0;
  MethodOptions method;
  InputFlags input;
};

Target parse_target(const std::string& text, Index outputs) {
  if (text == "argmax") return Target::argmax();
  const std::optional<long long> c = parse_integer(text);
  if (!c) usage_error("--target: '{}' is neither 'argmax' nor an output index", text);
  if (*c < 0 || *c >= outputs) usage_error("--target {} is out of range: the model has {} outputs", *c, outputs);
  return Target::index(static_cast<Index>(*c));
}

std::vector<std::string> read_labels(const std::filesystem::path& file) {
  std::vector<std::string> labels;
  if (file.empty()) return labels;
  std::ifstream in(file);
  if (!in) detail::fail<Error>("cannot open the labels file '{}'", file.string());
  for (std::string line; std::getline(in, line);) labels.push_back(line);
  return labels;
}

/// The names as file names: unique (a repeated name gets "-2", "-3", ...).
std::vector<std::string> unique_names(std::vector<std::string> names) {
  std::set<std::string> seen;
  for (std::string& n : names) {
    const std::string base = n;
    for (int k = 2; !seen.insert(n).second; ++k) n = fmt::format("{}-{}", base, k);
  }
  return names;
}

/// Whether `shape` can be drawn: a signal needs 1 or 3 channels, a heat map any.
bool drawable(Shape shape, Picture picture) {
  return shape.h * shape.w > 1 && (picture == Picture::heatmap || shape.c == 1 || shape.c == 3);
}

io::HeatmapStyle heatmap_style(const ExplainArguments& a) {
  io::HeatmapStyle style;
  if (a.colormap == "reds") {
    style.colormap = io::Colormap::reds;
  } else if (a.colormap == "grey") {
    style.colormap = io::Colormap::grey;
  } else if (a.colormap != "red-blue") {
    usage_error("--colormap: '{}' is not a colour map; the colour maps are red-blue, reds, grey", a.colormap);
  }
  if (a.normalization == "absolute") {
    style.scaling = io::HeatmapScaling::absolute;
  } else if (a.normalization != "symmetric") {
    usage_error("--normalize: '{}' is neither symmetric nor absolute", a.normalization);
  }
  if (!(a.overlay >= 0 && a.overlay <= 1)) usage_error("--overlay must be in [0, 1], got {}", a.overlay);
  return style;
}

/// The input as the grid shows it: stretched from its minimum to its maximum.
io::Image input_picture(const Batch<float>& x, Index j) {
  const auto sample = x.sample(j);
  return io::input_image(sample, x.shape, sample.minCoeff(), std::max(sample.maxCoeff(), sample.minCoeff() + 1e-6f));
}

/// `name` broken into lines of at most `max_chars` characters after its hyphens, where it
/// can be ("pattern-attribution" -> "pattern-" / "attribution"): a grid's column title.
std::string wrap_at_hyphens(std::string_view name, Index max_chars) {
  std::string out, line;
  for (std::size_t start = 0; start < name.size();) {
    const std::size_t hyphen = name.find('-', start);
    const std::size_t end = hyphen == std::string::npos ? name.size() : hyphen + 1;
    const std::string_view part = name.substr(start, end - start);
    if (!line.empty() && static_cast<Index>(line.size() + part.size()) > max_chars) out += line + '\n', line.clear();
    line += part;
    start = end;
  }
  return out + line;
}

/// Sample j of an explanation as a picture: a heat map in `style`, laid over the greyscale
/// input with opacity `overlay` when that is below 1, or a signal in input colours.
io::Image picture(const Batch<float>& a, const Batch<float>& x, Index j, Picture kind, const std::optional<io::Scale>& shared,
                  const io::HeatmapStyle& style, double overlay) {
  const io::Scale scale = shared.value_or(io::Scale::per_image());
  if (kind == Picture::signal) return io::signal_image(a.sample(j), a.shape, scale);
  const io::Image heat = io::heatmap_image(a.sample(j), a.shape, scale, style);
  return overlay > 0 && overlay < 1 ? io::blend(heat, io::greyscale(input_picture(x, j)), overlay) : heat;
}

}  // namespace

void add_explain(CLI::App& app, const GlobalOptions& global) {
  auto a = std::make_shared<ExplainArguments>();
  CLI::App* sub = app.add_subcommand("explain", "Explain the model's output on inputs: .npy and PNG per input and method");
  std::string methods;
  for (const MethodInfo& m : kMethods) methods += fmt::format("  {:<28}{}\n", m.name, m.description);
  sub->footer("Methods:\n" + methods +
              "Outputs, per input NAME and method M: DIR/NAME.M.npy (the attribution, shaped like the input: (1, C, H, W))\n"
              "and DIR/NAME.M.png (heat map: red positive, blue negative, white 0, or as --colormap, --normalize and\n"
              "--overlay say; signals in input colours, grey 0);\n"
              "with several methods also DIR/grid.svg (rows: inputs; columns: the input and each method).\n"
              "Examples:\n"
              "  patternnet explain model.onnx images/ --method pattern-attribution --patterns model.pnp -o out\n"
              "  patternnet explain model.onnx a.png b.png --methods gradient,epsilon-plus-flat,integrated-gradients -o out");
  add_model(*sub, a->model);
  add_inputs(*sub, a->inputs, "inputs", "images, directories of images, IDX or .npy files");
  sub->add_option("-m,--method,--methods", a->methods, "the method(s), comma-separated (see below)")
      ->required()
      ->delimiter(',');
  sub->add_option("-o,--output", a->out, "the directory to write to (created if missing)")->required();
  sub->add_option("--patterns", a->patterns, "the pattern file of pattern-net and pattern-attribution (patternnet fit)");
  auto* target = sub->add_option("--target", a->target, "the output explained: argmax (the top class of each input) or an index")
                     ->capture_default_str();
  sub->add_option("--target-file", a->classes,
                  "explain each input's class from this file: IDX labels, or class indices one per line or comma-separated")
      ->excludes(target);
  sub->add_option("--labels", a->labels, "class names, one per line (line k names output k)");
  sub->add_flag("--shared-scale", a->shared_scale, "one colour scale per method over all inputs (default: per image)")
      ->group("Pictures");
  sub->add_option("--zoom", a->zoom, "enlarge the PNGs by this integer factor")->capture_default_str()->group("Pictures");
  sub->add_option("--colormap", a->colormap, "heat maps: red-blue (signed), reds (absolute values), grey")
      ->capture_default_str()
      ->group("Pictures");
  sub->add_option("--normalize", a->normalization, "heat maps: symmetric (s / max|s|) or absolute (|s| / max|s|)")
      ->capture_default_str()
      ->group("Pictures");
  sub->add_option("--overlay", a->overlay, "lay heat maps over the input in greys with this opacity in (0, 1); 0 or 1: no overlay")
      ->capture_default_str()
      ->group("Pictures");
  add_method_options(*sub, a->method);
  a->input.add_to(*sub);
  sub->callback([a, &global] {
    std::vector<const MethodInfo*> chosen;
    for (const std::string& name : a->methods) chosen.push_back(&method(name));
    if (a->zoom < 1 || a->zoom > 64) usage_error("--zoom must be in 1..64, got {}", a->zoom);
    const io::HeatmapStyle style = heatmap_style(*a);
    const Graph<float> net = load_network(a->model);
    if (a->overlay > 0 && a->overlay < 1 && !drawable(net.input_shape(), Picture::signal)) {
      detail::fail<Error>("--overlay: the model's input {} is not an image of 1 or 3 channels", net.input_shape());
    }
    const Index outputs = net.shape_at(net.size()).size();
    Target target = parse_target(a->target, outputs);
    std::optional<Patterns<float>> patterns;
    if (!a->patterns.empty()) patterns = io::load_patterns(a->patterns, net);
    const std::vector<std::string> labels = read_labels(a->labels);
    const Inputs in = load_inputs(a->inputs, net.input_shape(), a->input.options());
    if (!a->classes.empty()) target = Target::indices(load_classes(a->classes, in.x.size(), outputs));
    const std::vector<std::string> names = unique_names(in.names);
    const Eigen::MatrixXd p = detail::probabilities(net, in.x);
    std::filesystem::create_directories(a->out);

    std::vector<MethodResult> results;
    for (const MethodInfo* m : chosen) {
      results.push_back(run_method(*m, net, in.x, target, patterns ? &*patterns : nullptr, a->method));
    }
    const Shape shape = net.input_shape();
    for (std::size_t k = 0; k < chosen.size(); ++k) {
      const MethodResult& r = results[k];
      const Picture kind = chosen[k]->picture;
      std::optional<io::Scale> scale;
      if (a->shared_scale) scale = kind == Picture::heatmap ? io::shared_heatmap_scale(r.attribution) : io::shared_signal_scale(r.attribution);
      for (Index j = 0; j < in.x.size(); ++j) {
        const std::string stem = fmt::format("{}.{}", names[static_cast<std::size_t>(j)], chosen[k]->name);
        io::save_npy(Batch<float>(shape, r.attribution.data.col(j)), a->out / (stem + ".npy"));
        if (drawable(shape, kind)) {
          io::write_png(io::upscale(picture(r.attribution, in.x, j, kind, scale, style, a->overlay), a->zoom), a->out / (stem + ".png"));
        }
      }
    }
    const auto class_name = [&](Index c) {
      return c < static_cast<Index>(labels.size()) ? labels[static_cast<std::size_t>(c)] : fmt::format("class {}", c);
    };
    for (Index j = 0; j < in.x.size(); ++j) {
      const Index c = results[0].targets[static_cast<std::size_t>(j)];
      if (!global.quiet) {
        fmt::print("{}: {} (p = {:.1f} %)\n", names[static_cast<std::size_t>(j)], class_name(c), 100 * p(c, j));
      }
    }
    if (chosen.size() > 1 && drawable(shape, Picture::signal)) {
      io::ImageGrid grid;
      grid.title = fmt::format("{} explained", a->model.filename().string());
      grid.columns = {"input"};
      grid.tile_scale = std::max<Index>(1, 112 / std::max(shape.h, shape.w));
      const Index line_chars = grid.tile_scale * shape.w / 7;  // about 7 px per bold 12 px character
      for (const MethodInfo* m : chosen) grid.columns.push_back(wrap_at_hyphens(m->name, line_chars));
      grid.label_width = 200;
      for (Index j = 0; j < in.x.size(); ++j) {
        const Index c = results[0].targets[static_cast<std::size_t>(j)];
        io::GridRow row;
        row.label = {names[static_cast<std::size_t>(j)], class_name(c), fmt::format("p = {:.1f} %", 100 * p(c, j))};
        row.tiles.push_back(input_picture(in.x, j));
        for (std::size_t k = 0; k < chosen.size(); ++k) {
          row.tiles.push_back(picture(results[k].attribution, in.x, j, chosen[k]->picture, {}, style, a->overlay));
        }
        grid.rows.push_back(std::move(row));
      }
      const bool absolute = style.scaling == io::HeatmapScaling::absolute;
      grid.legends.push_back({absolute ? "heat maps: |relevance| per pixel" : "heat maps: relevance per pixel",
                              io::heatmap_colorbar(300, 14, style), absolute ? "0" : "-max|r|", absolute ? "max|r| / 2" : "0",
                              "+max|r|"});
      grid.legends.push_back({"signals: per channel", io::signal_colorbar(300, 14), "-max|x|", "0", "+max|x|"});
      grid.notes = {"Every tile is scaled to its own maximum; inputs are stretched from their minimum to their maximum."};
      if (a->overlay > 0 && a->overlay < 1) {
        grid.notes.push_back(fmt::format("Heat maps are laid over the input in greys with opacity {}.", a->overlay));
      }
      io::write_grid_svg(grid, a->out / "grid.svg");
    }
    if (!global.quiet) {
      fmt::print("wrote {} explanation(s) of {} input(s) to {}\n", chosen.size() * static_cast<std::size_t>(in.x.size()),
                 in.x.size(), a->out.string());
    }
  });
}

}  // namespace patternnet::cli
