// patternnet degrade MODEL DATA... --methods a,b -o DIR: image degradation (the paper's
// Fig. 4a, docs/evaluation.md): the patches each method ranks most relevant are replaced
// first, step by step, and the probability of the originally predicted class is tracked;
// a random order is the baseline. Writes DIR/degradation.csv and DIR/degradation.svg and
// prints the areas under the mean curves (lower = the ranking finds what the model uses).

#include "commands.hpp"
#include "progress.hpp"
#include "usage_error.hpp"

#include <patternnet/io/binary.hpp>
#include <patternnet/io/pattern_file.hpp>
#include <patternnet/patternnet.hpp>

#include <svg.hpp>

#include <optional>

namespace patternnet::cli {

namespace {

struct DegradeArguments {
  std::filesystem::path model, out, patterns;
  std::vector<std::filesystem::path> data;
  std::vector<std::string> methods;
  std::string perturbation = "uniform";
  DegradationOptions degradation;
  MethodOptions method;
  InputFlags inputs;
};

DegradationOptions::Perturbation perturbation(const std::string& name) {
  if (name == "uniform") return DegradationOptions::Perturbation::uniform;
  if (name == "mean") return DegradationOptions::Perturbation::mean;
  if (name == "blur") return DegradationOptions::Perturbation::blur;
  usage_error("--perturbation: '{}' is not a perturbation; the perturbations are uniform, mean, blur", name);
}

void write_csv(const std::vector<std::pair<std::string, DegradationCurve>>& curves, const DegradationOptions& o,
               const std::filesystem::path& path) {
  std::string csv = "step,patches_replaced";
  for (const auto& [name, c] : curves) csv += fmt::format(",{} mean", name);
  for (const auto& [name, c] : curves) csv += fmt::format(",{} sd", name);
  csv += '\n';
  for (Index k = 0; k <= o.steps; ++k) {
    csv += fmt::format("{},{}", k, k * o.patches_per_step);
    for (const auto& [name, c] : curves) csv += fmt::format(",{:.17g}", c.mean(k));
    for (const auto& [name, c] : curves) csv += fmt::format(",{:.17g}", c.sd(k));
    csv += '\n';
  }
  io::write_file_atomically(std::vector<unsigned char>(csv.begin(), csv.end()), path);
}

void write_svg(const std::vector<std::pair<std::string, DegradationCurve>>& curves, const DegradationOptions& o,
               const std::string& title, const std::filesystem::path& path) {
  svg::Document doc(900, 520);
  const double last = static_cast<double>(o.steps * o.patches_per_step);
  auto panel = doc.panel(80, 50, 520, 400, {0, last}, {0, 1});
  panel.axes(title, "patches replaced (most relevant first)", "p(original class)", 6, 5);
  constexpr std::array<const char*, 9> colors{"#8c564b", "#d62728", "#1f77b4", "#2ca02c", "#ff7f0e",
                                              "#9467bd", "#e377c2", "#17becf", "#7f7f7f"};
  for (std::size_t e = 0; e < curves.size(); ++e) {
    std::vector<std::pair<double, double>> points;
    for (Index k = 0; k <= o.steps; ++k) points.emplace_back(static_cast<double>(k * o.patches_per_step), curves[e].second.mean(k));
    const bool baseline = e + 1 == curves.size();
    panel.polyline(points, colors[e % colors.size()], 2, baseline ? "6,4" : "", false);
    doc.text(620, 70 + 22 * static_cast<double>(e), fmt::format("{} ({:.3f})", curves[e].first, curves[e].second.area), 12);
    auto legend = doc.panel(600, 64 + 22 * static_cast<double>(e), 16, 1, {0, 1}, {0, 1});
    legend.line(0, 0, 1, 0, colors[e % colors.size()], 3);
  }
  doc.text(620, 55, "method (area under the mean curve)", 12);
  doc.save(path);
}

}  // namespace

void add_degrade(CLI::App& app, const GlobalOptions& global) {
  auto a = std::make_shared<DegradeArguments>();
  CLI::App* sub = app.add_subcommand("degrade", "Image degradation: how fast each method's most relevant patches destroy the prediction");
  sub->footer("Writes DIR/degradation.csv (mean and sd of p(original class) per step and method) and\n"
              "DIR/degradation.svg; prints the area under each mean curve (steps scaled to [0, 1]; lower is better).\n"
              "A random order of the patches is always added as the baseline.\n"
              "Example:\n  patternnet degrade model.onnx test-images.gz --limit 500 --methods gradient,pattern-attribution "
              "--patterns model.pnp -o out");
  add_model(*sub, a->model);
  add_inputs(*sub, a->data, "data", "the images to degrade");
  sub->add_option("-m,--method,--methods", a->methods, "the methods to compare, comma-separated (patternnet explain --help)")
      ->required()
      ->delimiter(',');
  sub->add_option("-o,--output", a->out, "the directory to write to (created if missing)")->required();
  sub->add_option("--patterns", a->patterns, "the pattern file of pattern-net and pattern-attribution");
  DegradationOptions& d = a->degradation;
  sub->add_option("--patch-size", d.patch_size, "patches are N x N pixels")->capture_default_str()->group("Degradation");
  sub->add_option("--flip-steps", d.steps, "perturbation steps after the original")->capture_default_str()->group("Degradation");
  sub->add_option("--patches-per-step", d.patches_per_step, "patches replaced per step")->capture_default_str()->group("Degradation");
  sub->add_option("--perturbation", a->perturbation, "uniform (random values in the images' range), mean, blur")
      ->capture_default_str()->group("Degradation");
  add_method_options(*sub, a->method);
  a->inputs.add_to(*sub);
  sub->callback([a, &global] {
    std::vector<const MethodInfo*> chosen;
    for (const std::string& name : a->methods) chosen.push_back(&method(name));
    DegradationOptions o = a->degradation;
    o.perturbation = perturbation(a->perturbation);
    o.seed = a->method.seed;
    const Graph<float> net = load_network(a->model);
    std::optional<Patterns<float>> patterns;
    if (!a->patterns.empty()) patterns = io::load_patterns(a->patterns, net);
    const Inputs in = load_inputs(a->data, net.input_shape(), a->inputs.options());
    std::vector<std::pair<std::string, DegradationCurve>> curves;
    for (const MethodInfo* m : chosen) {
      const MethodResult r = run_method(*m, net, in.x, Target::argmax(), patterns ? &*patterns : nullptr, a->method);
      DegradationOptions mo = o;
      mo.progress = progress_bar(std::string(m->name), global.quiet);
      curves.emplace_back(std::string(m->name), degrade(net, in.x, r.attribution, mo));
    }
    DegradationOptions random = o;
    random.order = DegradationOptions::Order::random;
    random.progress = progress_bar("random order", global.quiet);
    curves.emplace_back("random order", degrade(net, in.x, in.x, random));

    std::filesystem::create_directories(a->out);
    write_csv(curves, o, a->out / "degradation.csv");
    write_svg(curves, o, fmt::format("image degradation ({}), {} images", a->perturbation, in.x.size()),
              a->out / "degradation.svg");
    fmt::print("{:<28} {:>8} {:>12}\n", "method", "area", "p at the end");
    for (const auto& [name, c] : curves) fmt::print("{:<28} {:>8.4f} {:>12.4f}\n", name, c.area, c.mean(o.steps));
  });
}

}  // namespace patternnet::cli
