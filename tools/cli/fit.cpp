// patternnet fit MODEL DATA... -o FILE: the patterns of every Dense and Conv2D node from one
// pass over the data (section 4 of the paper), written as a pattern file.

#include "commands.hpp"
#include "progress.hpp"
#include "usage_error.hpp"

#include <patternnet/io/pattern_file.hpp>
#include <patternnet/patternnet.hpp>

#include <chrono>

namespace patternnet::cli {

namespace {

struct FitArguments {
  std::filesystem::path model, out;
  std::vector<std::filesystem::path> data;
  std::string estimator = "two-component";
  Index batch = 256;
  std::uint64_t seed = 0;
  InputFlags inputs;
};

/// The estimator called `name`, on `net` and the data's moments (computed only for
/// estimators that need data).
Patterns<float> fit(const std::string& name, const Graph<float>& net, const Batch<float>& x, Index batch,
                    std::uint64_t seed, const MomentOptions& mo) {
  const auto on_data = [&](auto estimator) {
    const NetworkMoments moments = compute_moments(net, batches(x, batch), mo);
    return make_patterns(net, &moments, estimator);
  };
  if (name == "two-component") return on_data(estimators::TwoComponent{});
  if (name == "linear") return on_data(estimators::Linear{});
  if (name == "filter") return make_patterns(net, nullptr, estimators::Filter{});
  if (name == "identity") return make_patterns(net, nullptr, estimators::Identity{});
  if (name == "random") return make_patterns(net, nullptr, estimators::Random{seed});
  usage_error("--estimator: '{}' is not an estimator; the estimators are two-component (S_a+-), linear (S_a), "
              "filter (S_w), identity (S_x), random", name);
}

}  // namespace

void add_fit(CLI::App& app, const GlobalOptions& global) {
  auto a = std::make_shared<FitArguments>();
  CLI::App* sub = app.add_subcommand("fit", "Fit the patterns of every Dense and Conv2D node in one pass over the data");
  sub->footer("The data: images or directories of them, IDX image files (Fashion-MNIST), .npy arrays (N, C, H, W).\n"
              "Example:\n  patternnet fit model.onnx train-images-idx3-ubyte.gz --mean 0.286 --std 0.353 -o model.pnp");
  add_model(*sub, a->model);
  add_inputs(*sub, a->data, "data", "the inputs to fit on (ideally the training data)");
  sub->add_option("-o,--output", a->out, "the pattern file to write")->required();
  sub->add_option("--estimator", a->estimator,
                  "two-component (S_a+-, PatternAttribution's), linear (S_a), filter (S_w), identity (S_x), random")
      ->capture_default_str();
  sub->add_option("--batch", a->batch, "samples per forward pass")->capture_default_str();
  sub->add_option("--seed", a->seed, "the seed of the random estimator")->capture_default_str();
  a->inputs.add_to(*sub);
  sub->callback([a, &global] {
    const auto start = std::chrono::steady_clock::now();
    const Graph<float> net = load_network(a->model);
    const Inputs in = load_inputs(a->data, net.input_shape(), a->inputs.options());
    MomentOptions mo;
    mo.progress = progress_bar("fit", global.quiet);
    const Patterns<float> patterns = fit(a->estimator, net, in.x, batch_size(a->batch), a->seed, mo);
    io::save_patterns(patterns, a->out);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!global.quiet) {
      fmt::print("fitted the {} patterns of {} nodes on {} inputs in {:.1f} s: wrote {}\n", patterns.estimator(),
                 patterns.layers().size(), in.x.size(), seconds, a->out.string());
    }
  });
}

}  // namespace patternnet::cli
