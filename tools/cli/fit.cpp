// patternnet fit MODEL DATA... -o FILE: the patterns of every Dense and Conv2D node from one
// pass over the data (section 4 of the paper), written as a pattern file; with --shard I/N
// the moments of every N-th batch instead, which `patternnet merge` combines.

#include "commands.hpp"
#include "estimators.hpp"
#include "progress.hpp"
#include "usage_error.hpp"

#include <patternnet/io/moments_file.hpp>
#include <patternnet/io/pattern_file.hpp>
#include <patternnet/patternnet.hpp>

#include <chrono>
#include <sstream>

namespace patternnet::cli {

namespace {

struct FitArguments {
  std::filesystem::path model, out;
  std::vector<std::filesystem::path> data;
  std::string estimator = "two-component";
  Index batch = 256;
  std::uint64_t seed = 0;
  std::string shard;
  InputFlags inputs;
};

struct Shard {
  Index index = 0, count = 1;
};

/// "I/N" with 0 <= I < N.
Shard parse_shard(const std::string& text) {
  Shard s;
  char slash = 0;
  std::istringstream in(text);
  if (!(in >> s.index >> slash >> s.count) || slash != '/' || !in.eof() || s.count < 1 || s.index < 0 ||
      s.index >= s.count) {
    usage_error("--shard: '{}' is not I/N with 0 <= I < N (e.g. 0/4 for the first of four shards)", text);
  }
  return s;
}

/// The samples of batches shard.index, shard.index + shard.count, ... of x in batches of
/// `batch`: split again into batches of `batch`, they are those batches.
Batch<float> shard_of(const Batch<float>& x, Index batch, Shard shard) {
  std::vector<Index> columns;
  for (Index b = shard.index; b * batch < x.size(); b += shard.count) {
    for (Index j = b * batch; j < std::min(x.size(), (b + 1) * batch); ++j) columns.push_back(j);
  }
  if (columns.empty()) {
    usage_error("--shard {}/{}: the {} inputs make {} batches of {}, none for this shard", shard.index, shard.count,
                x.size(), (x.size() + batch - 1) / batch, batch);
  }
  Batch<float> out(x.shape, static_cast<Index>(columns.size()));
  for (std::size_t j = 0; j < columns.size(); ++j) out.data.col(static_cast<Index>(j)) = x.data.col(columns[j]);
  return out;
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
  sub->add_option("--shard", a->shard,
                  "I/N: use only batches I, I+N, I+2N, ... and write their moments to -o (combine the N shards "
                  "with 'patternnet merge')");
  a->inputs.add_to(*sub);
  sub->callback([a, &global] {
    const auto start = std::chrono::steady_clock::now();
    check_estimator(a->estimator);
    const Index batch = batch_size(a->batch);
    const bool sharded = !a->shard.empty();
    const Shard shard = sharded ? parse_shard(a->shard) : Shard{};
    const Graph<float> net = load_network(a->model);
    const Inputs in = load_inputs(a->data, net.input_shape(), a->inputs.options());
    MomentOptions mo;
    mo.progress = progress_bar("fit", global.quiet);
    if (sharded) {
      const Batch<float> x = shard_of(in.x, batch, shard);
      io::save_moments(compute_moments(net, batches(x, batch), mo), net, a->out);
      if (!global.quiet) {
        fmt::print("gathered the moments of shard {}/{} ({} of {} inputs): wrote {}\n", shard.index, shard.count,
                   x.size(), in.x.size(), a->out.string());
      }
      return;
    }
    NetworkMoments moments;
    if (estimator_needs_data(a->estimator)) moments = compute_moments(net, batches(in.x, batch), mo);
    const Patterns<float> patterns = make_patterns(a->estimator, net, moments, a->seed);
    io::save_patterns(patterns, a->out);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!global.quiet) {
      fmt::print("fitted the {} patterns of {} nodes on {} inputs in {:.1f} s: wrote {}\n", patterns.estimator(),
                 patterns.layers().size(), in.x.size(), seconds, a->out.string());
    }
  });
}

}  // namespace patternnet::cli
