// patternnet merge MODEL MOMENTS... -o FILE: combines the moments files of `fit --shard`
// into the moments of one pass over all the shards' data (exact up to rounding) and
// writes the patterns they give.

#include "commands.hpp"
#include "estimators.hpp"
#include "usage_error.hpp"

#include <patternnet/io/moments_file.hpp>
#include <patternnet/io/pattern_file.hpp>

namespace patternnet::cli {

namespace {

struct MergeArguments {
  std::filesystem::path model, out;
  std::vector<std::filesystem::path> shards;
  std::string estimator = "two-component";
};

}  // namespace

void add_merge(CLI::App& app, const GlobalOptions& global) {
  auto a = std::make_shared<MergeArguments>();
  CLI::App* sub = app.add_subcommand("merge", "Combine the moments of 'fit --shard' runs and write their patterns");
  sub->footer("Example (four shards, e.g. on four machines, then one merge):\n"
              "  for i in 0 1 2 3; do patternnet fit model.onnx train/ --shard $i/4 -o part$i.pnm; done\n"
              "  patternnet merge model.onnx part0.pnm part1.pnm part2.pnm part3.pnm -o model.pnp");
  add_model(*sub, a->model);
  add_inputs(*sub, a->shards, "moments", "the moments files written by 'patternnet fit --shard'");
  sub->add_option("-o,--output", a->out, "the pattern file to write")->required();
  sub->add_option("--estimator", a->estimator, "two-component (S_a+-) or linear (S_a)")->capture_default_str();
  sub->callback([a, &global] {
    check_estimator(a->estimator);
    if (!estimator_needs_data(a->estimator)) {
      usage_error("--estimator {} does not use data: fit it with 'patternnet fit', without shards", a->estimator);
    }
    const Graph<float> net = load_network(a->model);
    NetworkMoments moments = io::load_moments(a->shards.front(), net);
    for (std::size_t i = 1; i < a->shards.size(); ++i) moments.merge(io::load_moments(a->shards[i], net));
    const Patterns<float> patterns = make_patterns(a->estimator, net, moments, 0);
    io::save_patterns(patterns, a->out);
    if (!global.quiet) {
      fmt::print("merged {} moments files ({} inputs): wrote the {} patterns of {} nodes to {}\n", a->shards.size(),
                 moments.samples(), patterns.estimator(), patterns.layers().size(), a->out.string());
    }
  });
}

}  // namespace patternnet::cli
