// The comparison methods on one batch of a small CNN (28 x 28 inputs, batch of 256),
// relative to one forward pass of the same batch.
#include <benchmark/benchmark.h>

#include "bench_model.hpp"
#include "ratio_reporter.hpp"

#include <patternnet/composites/presets.hpp>
#include <patternnet/evaluation/degradation.hpp>
#include <patternnet/methods/integrated_gradients.hpp>
#include <patternnet/methods/smoothgrad.hpp>
#include <patternnet/rules/deconvnet.hpp>
#include <patternnet/rules/guided_backprop.hpp>
#include <patternnet/rules/lrp.hpp>

namespace pn = patternnet;
using bench::batch;
using bench::count_samples;
using bench::net;

namespace {

void reference_forward(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(net().forward(batch()));
  count_samples(state);
}
template <class Rule>
void explain(benchmark::State& state, const Rule& rule) {
  for (auto _ : state) benchmark::DoNotOptimize(pn::explain(net(), rule, batch()));
  count_samples(state);
}
// Argument: the chunk (path points per pass).
void integrated_gradients_32(benchmark::State& state) {
  pn::methods::IntegratedGradientsOptions<float> o;
  o.steps = 32;
  o.chunk = state.range(0);
  for (auto _ : state) benchmark::DoNotOptimize(pn::methods::integrated_gradients(net(), batch(), pn::Target::argmax(), o));
  count_samples(state);
}
// Argument: the chunk (noisy copies per pass).
void smoothgrad_16(benchmark::State& state) {
  pn::methods::SmoothGradOptions o;
  o.samples = 16;
  o.chunk = state.range(0);
  for (auto _ : state) benchmark::DoNotOptimize(pn::methods::smoothgrad(net(), batch(), pn::Target::argmax(), o));
  count_samples(state);
}
// Image degradation of the batch by its own values (4 x 4 patches, 24 steps of 2): 25
// forward passes' worth of samples. Argument: max_batch.
void degradation_24_steps(benchmark::State& state) {
  pn::DegradationOptions o;
  o.steps = 24;
  o.patches_per_step = 2;
  o.max_batch = state.range(0);
  for (auto _ : state) benchmark::DoNotOptimize(pn::degrade(net(), batch(), batch(), o));
  count_samples(state);
}

}  // namespace

BENCHMARK(reference_forward)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(explain, gradient, pn::rules::Gradient{})->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(explain, input_times_gradient, pn::rules::InputTimesGradient{})->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(explain, deconvnet, pn::rules::DeConvNet{})->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(explain, guided_backprop, pn::rules::GuidedBackprop{})->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(explain, lrp_epsilon, pn::rules::Epsilon{1e-6})->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(explain, lrp_zplus, pn::rules::ZPlus{})->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(explain, lrp_alpha2_beta1, pn::rules::AlphaBeta{2, 1})->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(explain, lrp_gamma, pn::rules::Gamma{0.25})->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(explain, epsilon_plus_flat, pn::composites::EpsilonPlusFlat{})->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(explain, epsilon_gamma_box, pn::composites::EpsilonGammaBox{0.0, 1.0})->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(explain, deep_taylor, pn::composites::DeepTaylor{0.0, 1.0})->Unit(benchmark::kMillisecond);
BENCHMARK(integrated_gradients_32)->Arg(32)->Arg(256)->Unit(benchmark::kMillisecond);
BENCHMARK(smoothgrad_16)->Arg(32)->Arg(256)->Unit(benchmark::kMillisecond);
BENCHMARK(degradation_24_steps)->Arg(32)->Arg(4096)->Unit(benchmark::kMillisecond);

PATTERNNET_BENCHMARK_MAIN("reference_forward")
