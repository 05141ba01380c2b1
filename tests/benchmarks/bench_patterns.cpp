// Pattern fitting and explanation cost on a small CNN (28 x 28 inputs, batch of 256),
// relative to one forward pass of the same batch.
#include <patternnet/patternnet.hpp>

#include "ratio_reporter.hpp"

#include <random>

namespace pn = patternnet;

namespace {

constexpr pn::Index kBatch = 256;

pn::Sequential<float> small_cnn() {
  pn::Sequential<float> net{pn::Conv2D<float>(1, 16, 3, pn::Padding::same()), pn::ReLU<float>{}, pn::MaxPool2D<float>(2),
                            pn::Conv2D<float>(16, 32, 3, pn::Padding::same()), pn::ReLU<float>{}, pn::MaxPool2D<float>(2),
                            pn::Flatten<float>{}, pn::Dense<float>(32 * 7 * 7, 128), pn::ReLU<float>{},
                            pn::Dense<float>(128, 10), pn::Softmax<float>{}};
  net.set_input_shape({1, 28, 28});
  std::mt19937 rng(1);
  for (pn::Index l = 0; l < net.size(); ++l) {
    std::visit([&](auto& layer) {
      if constexpr (pn::LinearLayer<std::decay_t<decltype(layer)>>) {
        std::normal_distribution<float> he(0.0f, std::sqrt(2.0f / static_cast<float>(layer.weight().cols())));
        layer.weight() = layer.weight().unaryExpr([&](float) { return he(rng); });
      }
    }, net.layer(l));
  }
  return net;
}

const pn::Sequential<float>& net() {
  static const auto n = small_cnn();
  return n;
}
const pn::Batch<float>& batch() {
  static const pn::Batch<float> b({1, 28, 28}, pn::Matrix<float>((pn::Matrix<float>::Random(784, kBatch).array() + 1) / 2));
  return b;
}
const pn::Patterns<float>& patterns() {
  static const auto p = pn::fit_patterns<pn::estimators::TwoComponent>(net(), pn::batches(batch(), kBatch));
  return p;
}

void samples(benchmark::State& state) { state.SetItemsProcessed(state.iterations() * kBatch); }

void reference_forward(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(net().forward(batch()));
  samples(state);
}
void recorded_forward(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(net().record(batch()));
  samples(state);
}
void compute_moments(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(pn::compute_moments(net(), pn::batches(batch(), kBatch)));
  samples(state);
}
void fit_two_component(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(pn::fit_patterns<pn::estimators::TwoComponent>(net(), pn::batches(batch(), kBatch)));
  samples(state);
}
template <class Rule>
void explain(benchmark::State& state, const Rule& rule) {
  for (auto _ : state) benchmark::DoNotOptimize(pn::explain(net(), rule, batch()));
  samples(state);
}

}  // namespace

BENCHMARK(reference_forward)->Unit(benchmark::kMillisecond);
BENCHMARK(recorded_forward)->Unit(benchmark::kMillisecond);
BENCHMARK(compute_moments)->Unit(benchmark::kMillisecond);
BENCHMARK(fit_two_component)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(explain, gradient, pn::rules::Gradient{})->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(explain, pattern_net, pn::rules::PatternNet{patterns()})->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(explain, pattern_attribution, pn::rules::PatternAttribution{patterns()})->Unit(benchmark::kMillisecond);

PATTERNNET_BENCHMARK_MAIN("reference_forward")
