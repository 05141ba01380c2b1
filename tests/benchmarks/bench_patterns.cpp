// Pattern fitting and explanation cost on a small CNN (28 x 28 inputs, batch of 256),
// relative to one forward pass of the same batch.
#include <benchmark/benchmark.h>

#include "bench_model.hpp"
#include "ratio_reporter.hpp"

namespace pn = patternnet;
using bench::batch;
using bench::count_samples;
using bench::kBatch;
using bench::net;

namespace {

const pn::Patterns<float>& patterns() {
  static const auto p = pn::fit_patterns<pn::estimators::TwoComponent>(net(), pn::batches(batch(), kBatch));
  return p;
}

void reference_forward(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(net().forward(batch()));
  count_samples(state);
}
void recorded_forward(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(net().record(batch()));
  count_samples(state);
}
void compute_moments(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(pn::compute_moments(net(), pn::batches(batch(), kBatch)));
  count_samples(state);
}
void fit_two_component(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(pn::fit_patterns<pn::estimators::TwoComponent>(net(), pn::batches(batch(), kBatch)));
  count_samples(state);
}
template <class Rule>
void explain(benchmark::State& state, const Rule& rule) {
  for (auto _ : state) benchmark::DoNotOptimize(pn::explain(net(), rule, batch()));
  count_samples(state);
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
