// patternnet rho MODEL DATA... --patterns FILE: the signal quality rho(S) (eq. 7 of the
// paper) of every Dense and Conv2D node, from one pass over (ideally held-out) data.

#include "commands.hpp"
#include "progress.hpp"
#include "usage_error.hpp"

#include <patternnet/io/pattern_file.hpp>
#include <patternnet/patternnet.hpp>

#include <string>

namespace patternnet::cli {

namespace {

struct RhoArguments {
  std::filesystem::path model, patterns;
  std::vector<std::filesystem::path> data;
  std::string format = "table";
  Index batch = 256;
  QualityOptions quality;
  InputFlags inputs;
};

std::string number(const std::optional<double>& v, const char* none) {
  return v ? fmt::format("{:.6g}", *v) : std::string(none);
}

void print(const SignalQuality& q, const std::string& format) {
  if (format == "csv") {
    fmt::print("layer,type,neurons,evaluated,constant,mean,sd,min,max,chance_floor\n");
    for (const LayerSignalQuality& l : q.layers) {
      fmt::print("{},{},{},{},{},{},{},{},{},{:.6g}\n", l.layer, l.layer_type, l.neurons, l.evaluated.size(),
                 l.constant.size(), number(l.mean, ""), number(l.sd, ""), number(l.min, ""), number(l.max, ""),
                 l.chance_floor());
    }
  } else if (format == "json") {
    fmt::print("{{\n  \"estimator\": \"{}\",\n  \"rank_tolerance\": {},\n  \"layers\": [", q.estimator, q.rank_tolerance);
    for (std::size_t i = 0; i < q.layers.size(); ++i) {
      const LayerSignalQuality& l = q.layers[i];
      fmt::print("{}\n    {{\"layer\": {}, \"type\": \"{}\", \"neurons\": {}, \"evaluated\": {}, \"constant\": {}, "
                 "\"mean\": {}, \"sd\": {}, \"min\": {}, \"max\": {}, \"chance_floor\": {:.6g}}}",
                 i ? "," : "", l.layer, l.layer_type, l.neurons, l.evaluated.size(), l.constant.size(),
                 number(l.mean, "null"), number(l.sd, "null"), number(l.min, "null"), number(l.max, "null"),
                 l.chance_floor());
    }
    fmt::print("\n  ]\n}}\n");
  } else {
    fmt::print("rho(S) of the {} patterns (rank tolerance {:g})\n", q.estimator, q.rank_tolerance);
    fmt::print("{:>5}  {:<8} {:>8} {:>10} {:>12} {:>12} {:>12} {:>12} {:>13}\n", "layer", "type", "neurons",
               "evaluated", "mean", "sd", "min", "max", "chance floor");
    for (const LayerSignalQuality& l : q.layers) {
      fmt::print("{:>5}  {:<8} {:>8} {:>10} {:>12} {:>12} {:>12} {:>12} {:>13.6g}\n", l.layer, l.layer_type, l.neurons,
                 l.evaluated.size(), number(l.mean, "-"), number(l.sd, "-"), number(l.min, "-"), number(l.max, "-"),
                 l.chance_floor());
    }
    fmt::print("chance floor: 1 - sqrt(K / n), about the rho of patterns that leave no signal in the distractor,\n"
               "on n samples held out from the fit for K inputs per neuron (a regression on K inputs fits\n"
               "R^2 ~ K / n by chance); on the samples the patterns were fitted on, rho can be higher\n");
  }
}

}  // namespace

void add_rho(CLI::App& app, const GlobalOptions& global) {
  auto a = std::make_shared<RhoArguments>();
  CLI::App* sub = app.add_subcommand("rho", "The signal quality rho(S) of the patterns, per Dense and Conv2D node");
  sub->footer("rho(S) = 1 - max_v corr(w^T x, v^T (x - S(x))): 1 when the patterns leave no signal in the distractor.\n"
              "Evaluate it on data held out from fitting.\n"
              "Example:\n  patternnet rho model.onnx t10k-images-idx3-ubyte.gz --patterns model.pnp --format csv");
  add_model(*sub, a->model);
  add_inputs(*sub, a->data, "data", "the inputs to evaluate on (ideally held out from fitting)");
  sub->add_option("--patterns", a->patterns, "the pattern file (patternnet fit)")->required();
  sub->add_option("--format", a->format, "table, csv or json")->capture_default_str();
  sub->add_option("--batch", a->batch, "samples per forward pass")->capture_default_str();
  sub->add_option("--max-neurons", a->quality.max_neurons, "evaluate at most N neurons per node, a seeded subset (-1: all)")
      ->capture_default_str();
  sub->add_option("--seed", a->quality.seed, "the seed of the subset")->capture_default_str();
  sub->add_option("--rank-tolerance", a->quality.rank_tolerance, "the rank decision of the regression")->capture_default_str();
  a->inputs.add_to(*sub);
  sub->callback([a, &global] {
    if (a->format != "table" && a->format != "csv" && a->format != "json") {
      usage_error("--format: '{}' is not a format; the formats are table, csv, json", a->format);
    }
    const Graph<float> net = load_network(a->model);
    const Patterns<float> patterns = io::load_patterns(a->patterns, net);
    const Inputs in = load_inputs(a->data, net.input_shape(), a->inputs.options());
    QualityOptions q = a->quality;
    q.moments.input_covariance = true;
    q.moments.progress = progress_bar("rho", global.quiet);
    const NetworkMoments moments = compute_moments(net, batches(in.x, batch_size(a->batch)), q.moments);
    const SignalQuality quality = signal_quality(net, patterns, moments, q);
    print(quality, a->format);
    if (global.quiet) return;
    for (const LayerSignalQuality& l : quality.layers) {
      if (l.applicable && l.too_few_samples()) {
        fmt::print(stderr,
                   "patternnet: warning: node {} ({}): {} samples for {} inputs per neuron are too few: rho then says "
                   "nothing about the patterns (about 0 on held-out data, which the regression fits exactly; up to 1 "
                   "on the samples they were fitted on); evaluate on many more\n",
                   l.layer, l.layer_type, l.samples, l.regressors);
      }
    }
  });
}

}  // namespace patternnet::cli
