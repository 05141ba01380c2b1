#include "commands.hpp"
#include "usage_error.hpp"

namespace patternnet::cli {

void InputFlags::add_to(CLI::App& sub) {
  sub.add_flag("--imagenet", imagenet, "normalise images with torchvision's ImageNet mean and std")->group("Inputs");
  sub.add_option("--mean", mean, "subtract this from pixels scaled to [0, 1]: one value, or three (R,G,B)")->group("Inputs");
  sub.add_option("--std", std, "then divide by this: one value, or three (R,G,B)")->group("Inputs");
  sub.add_option("--limit", limit, "use at most N inputs (the first ones)")->group("Inputs");
}

InputOptions InputFlags::options() const {
  InputOptions o;
  if (imagenet) o.norm = io::Normalization::imagenet();
  if (!mean.empty()) o.norm.mean = per_channel("--mean", mean);
  if (!std.empty()) o.norm.std = per_channel("--std", std);
  for (const double s : o.norm.std) {
    if (!(s > 0) || !std::isfinite(s)) usage_error("--std must be positive, got {}", s);
  }
  if (limit < -1) usage_error("--limit must be >= 0, got {}", limit);
  o.limit = limit;
  return o;
}

void add_model(CLI::App& sub, std::filesystem::path& model) {
  sub.add_option("model", model, "the network: a patternnet model file or an ONNX file")->required();
}

void add_inputs(CLI::App& sub, std::vector<std::filesystem::path>& inputs, const char* name, const char* what) {
  sub.add_option(name, inputs, what)->required();
}

void add_method_options(CLI::App& sub, MethodOptions& m) {
  sub.add_option("--epsilon", m.epsilon, "epsilon of the LRP epsilon rule")->capture_default_str()->group("Method parameters");
  sub.add_option("--alpha", m.alpha, "alpha of lrp-alpha-beta")->capture_default_str()->group("Method parameters");
  sub.add_option("--beta", m.beta, "beta of lrp-alpha-beta")->capture_default_str()->group("Method parameters");
  sub.add_option("--gamma", m.gamma, "gamma of epsilon-gamma-box")->capture_default_str()->group("Method parameters");
  sub.add_option("--low", m.low, "lowest input value (z-box of epsilon-gamma-box, deep-taylor)")
      ->capture_default_str()->group("Method parameters");
  sub.add_option("--high", m.high, "highest input value (z-box)")->capture_default_str()->group("Method parameters");
  sub.add_option("--steps", m.steps, "steps of integrated-gradients")->capture_default_str()->group("Method parameters");
  sub.add_option("--samples", m.samples, "noisy copies of smoothgrad")->capture_default_str()->group("Method parameters");
  sub.add_option("--sigma", m.sigma, "noise of smoothgrad, relative to each input's range")
      ->capture_default_str()->group("Method parameters");
  sub.add_option("--seed", m.seed, "seed of smoothgrad's noise (and of degrade's random values and order)")->capture_default_str()->group("Method parameters");
}

Index batch_size(Index value) {
  if (value < 1) usage_error("--batch must be >= 1, got {}", value);
  return value;
}

}  // namespace patternnet::cli
