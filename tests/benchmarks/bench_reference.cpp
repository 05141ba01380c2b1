// The reference workloads of docs/benchmarks.md: an MLP (784-512-256-10), a CNN
// (1x28x28, conv 32-32-pool-64-64-pool, dense 3136-256-10) and VGG-16 (3x224x224, 13
// conv + 3 dense), float32, seeded He-normal weights, inputs uniform in [0, 1].
//
// Every benchmark reports its time, the achieved GFLOP/s of the forward passes it does
// (counter "fwd_GFLOPs": forward FLOP x passes / time) and "of_gemm": the time of the
// same forward's GEMMs alone (the same shapes, Eigen, preallocated, best of several runs
// measured in the same process) over its own time. A forward pass at GEMM speed has
// of_gemm = 1; a gradient, which does the forward GEMMs and their transposes, at most
// about 0.5; "gemm_ms" is that GEMM time. "peak_MiB" is how much the process's resident
// memory grew while the benchmark ran (Linux: the high-water mark, reset before it starts,
// after the workspace and the allocator's free memory were given back), "act_MiB" the
// recorded activations of the batch (every node's output; float32) to compare it with.
//
//   build/bench/tests/benchmarks/bench_reference --benchmark_filter='cnn/b256'
#include <benchmark/benchmark.h>

#include <patternnet/patternnet.hpp>

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace pn = patternnet;

namespace {

using Net = pn::Sequential<float>;

Net mlp() {
  return Net{pn::Dense<float>(784, 512), pn::ReLU<float>{}, pn::Dense<float>(512, 256), pn::ReLU<float>{},
             pn::Dense<float>(256, 10), pn::Softmax<float>{}};
}
Net cnn() {
  const auto same = pn::Padding::same();
  return Net{pn::Conv2D<float>(1, 32, 3, same),  pn::ReLU<float>{}, pn::Conv2D<float>(32, 32, 3, same), pn::ReLU<float>{},
             pn::MaxPool2D<float>(2),            pn::Conv2D<float>(32, 64, 3, same), pn::ReLU<float>{},
             pn::Conv2D<float>(64, 64, 3, same), pn::ReLU<float>{}, pn::MaxPool2D<float>(2), pn::Flatten<float>{},
             pn::Dense<float>(3136, 256),        pn::ReLU<float>{}, pn::Dense<float>(256, 10), pn::Softmax<float>{}};
}
Net vgg16() {
  Net net;
  pn::Index c = 3;
  const std::vector<std::vector<pn::Index>> blocks{{64, 64}, {128, 128}, {256, 256, 256}, {512, 512, 512}, {512, 512, 512}};
  for (const auto& block : blocks) {
    for (const pn::Index f : block) {
      net.add(pn::Conv2D<float>(c, f, 3, pn::Padding{1}));
      net.add(pn::ReLU<float>{});
      c = f;
    }
    net.add(pn::MaxPool2D<float>(2));
  }
  net.add(pn::Flatten<float>{});
  net.add(pn::Dense<float>(512 * 7 * 7, 4096));
  net.add(pn::ReLU<float>{});
  net.add(pn::Dense<float>(4096, 4096));
  net.add(pn::ReLU<float>{});
  net.add(pn::Dense<float>(4096, 1000));
  net.add(pn::Softmax<float>{});
  return net;
}

struct Workload {
  Net net;
  pn::Shape shape;
};

const Workload& workload(const std::string& name) {
  static std::map<std::string, Workload> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  Workload w = name == "mlp"   ? Workload{mlp(), {784, 1, 1}}
               : name == "cnn" ? Workload{cnn(), {1, 28, 28}}
                               : Workload{vgg16(), {3, 224, 224}};
  w.net.set_input_shape(w.shape);
  std::mt19937 rng(1);
  for (pn::Index l = 0; l < w.net.size(); ++l) {
    std::visit([&](auto& layer) {
      if constexpr (pn::LinearLayer<std::decay_t<decltype(layer)>>) {
        std::normal_distribution<float> he(0.0f, std::sqrt(2.0f / static_cast<float>(layer.weight().cols())));
        layer.weight() = layer.weight().unaryExpr([&](float) { return he(rng); });
        layer.bias().setConstant(0.01f);
      }
    }, w.net.layer(l));
  }
  return cache.emplace(name, std::move(w)).first->second;
}

const pn::Batch<float>& inputs(const std::string& name, pn::Index n) {
  static std::map<std::pair<std::string, pn::Index>, pn::Batch<float>> cache;
  const auto key = std::make_pair(name, n);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  const pn::Shape s = workload(name).shape;
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  pn::Matrix<float> x(s.size(), n);
  for (pn::Index k = 0; k < x.size(); ++k) x.data()[k] = u(rng);
  return cache.emplace(key, pn::Batch<float>(s, std::move(x))).first->second;
}

/// The GEMM shapes (rows x depth x cols) of one forward pass of `net` on n samples.
struct Gemm {
  pn::Index m, k, n;
};
std::vector<Gemm> forward_gemms(const Net& net, pn::Index n) {
  std::vector<Gemm> g;
  for (pn::Index l = 0; l < net.size(); ++l) {
    std::visit([&](const auto& layer) {
      using L = std::decay_t<decltype(layer)>;
      if constexpr (std::is_same_v<L, pn::Conv2D<float>>) {
        g.push_back({layer.positions() * n, layer.weight().cols(), layer.weight().rows()});
      } else if constexpr (std::is_same_v<L, pn::Dense<float>>) {
        g.push_back({layer.weight().rows(), layer.weight().cols(), n});
      }
    }, net.layer(l));
  }
  return g;
}
double forward_flop(const Net& net, pn::Index n) {
  double f = 0;
  for (const Gemm& g : forward_gemms(net, n)) f += 2.0 * static_cast<double>(g.m * g.k * g.n);
  return f;
}

/// Seconds for the forward pass's GEMMs alone (best of a few runs), measured once per
/// workload and batch in this process.
double gemm_seconds(const std::string& name, pn::Index n) {
  static std::map<std::pair<std::string, pn::Index>, double> cache;
  const auto key = std::make_pair(name, n);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  const std::vector<Gemm> gemms = forward_gemms(workload(name).net, n);
  std::vector<pn::Matrix<float>> a, b, c;
  for (const Gemm& g : gemms) {
    a.push_back(pn::Matrix<float>::Random(g.m, g.k));
    b.push_back(pn::Matrix<float>::Random(g.k, g.n));
    c.push_back(pn::Matrix<float>(g.m, g.n));
  }
  double best = 1e300;
  const double flop = forward_flop(workload(name).net, n);
  const int runs = std::clamp(static_cast<int>(2e10 / std::max(flop, 1.0)), 3, 200);
  for (int r = 0; r < runs; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < gemms.size(); ++i) c[i].noalias() = a[i] * b[i];
    benchmark::DoNotOptimize(c.back().data());
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return cache.emplace(key, best).first->second;
}

/// MiB by which the resident memory grew while f() ran once (Linux: VmHWM after VmRSS
/// at the start, with every thread's workspace and the allocator's free memory given back
/// first). The benchmarks call it before their timed loop, so that it is also the warm-up.
template <class F>
double peak_mib(F&& f) {
  const auto status_kib = [](const std::string& field) {
    std::ifstream status("/proc/self/status");
    for (std::string key; status >> key;) {
      if (key == field) {
        double kib = 0;
        status >> kib;
        return kib;
      }
    }
    return 0.0;
  };
#ifdef _OPENMP
#pragma omp parallel
#endif
  pn::workspace::clear();
  malloc_trim(0);
  std::ofstream("/proc/self/clear_refs") << "5";  // resets VmHWM to VmRSS
  const double baseline = status_kib("VmRSS:");
  f();
  return (status_kib("VmHWM:") - baseline) / 1024.0;
}

/// MiB of every node's output for a batch of n (float32): what a recorded forward keeps.
double activations_mib(const Net& net, pn::Index n) {
  double values = 0;
  for (pn::Index v = 0; v <= net.size(); ++v) values += static_cast<double>(net.shape_at(v).size() * n);
  return values * sizeof(float) / (1024.0 * 1024.0);
}

/// Sets the counters of a benchmark that did `passes` forward passes' worth of GEMMs
/// per iteration and grew the resident memory by `peak` MiB (peak_mib()).
void report(benchmark::State& state, const std::string& name, pn::Index n, double peak, double passes = 1) {
  state.counters["peak_MiB"] = peak;
  state.counters["act_MiB"] = activations_mib(workload(name).net, n);
  const double flop = forward_flop(workload(name).net, n) * passes;
  state.counters["fwd_GFLOPs"] = benchmark::Counter(flop * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["gemm_ms"] = gemm_seconds(name, n) * 1e3;
  state.counters["of_gemm"] = benchmark::Counter(gemm_seconds(name, n) * passes, benchmark::Counter::kIsIterationInvariantRate);
  state.SetItemsProcessed(state.iterations() * n);
}

/// Two-component (S_a+-) patterns with random values: explaining costs the same for any
/// values, and fitting is measured on its own (fit_two_component).
const pn::Patterns<float>& patterns(const std::string& name) {
  static std::map<std::string, pn::Patterns<float>> cache;
  if (auto it = cache.find(name); it != cache.end()) return it->second;
  const Net& net = workload(name).net;
  std::vector<pn::LayerPatterns<float>> layers;
  for (pn::Index l = 0; l < net.size(); ++l) {
    std::visit([&](const auto& layer) {
      if constexpr (pn::LinearLayer<std::decay_t<decltype(layer)>>) {
        const auto& w = layer.weight();
        layers.push_back({l, pn::PatternKind::two_component, pn::Matrix<float>::Random(w.rows(), w.cols()),
                          pn::Matrix<float>::Random(w.rows(), w.cols())});
      }
    }, net.layer(l));
  }
  return cache.emplace(name, pn::Patterns<float>("S_a+-", std::move(layers))).first->second;
}

void forward(benchmark::State& state, const std::string& name) {
  const pn::Index n = state.range(0);
  const auto& w = workload(name);
  const auto& x = inputs(name, n);
  const auto run = [&] { benchmark::DoNotOptimize(w.net.forward(x)); };
  const double peak = peak_mib(run);
  for (auto _ : state) run();
  report(state, name, n, peak);
}
template <class Rule>
void explain(benchmark::State& state, const std::string& name, const Rule& rule) {
  const pn::Index n = state.range(0);
  const auto& w = workload(name);
  const auto& x = inputs(name, n);
  const auto run = [&] { benchmark::DoNotOptimize(pn::explain(w.net, rule, x)); };
  const double peak = peak_mib(run);
  for (auto _ : state) run();
  report(state, name, n, peak);
}
void pattern_net(benchmark::State& state, const std::string& name) {
  explain(state, name, pn::rules::PatternNet<float>{patterns(name)});
}
void pattern_attribution(benchmark::State& state, const std::string& name) {
  explain(state, name, pn::rules::PatternAttribution<float>{patterns(name)});
}
void gradient(benchmark::State& state, const std::string& name) { explain(state, name, pn::rules::Gradient{}); }
void epsilon_plus_flat(benchmark::State& state, const std::string& name) {
  explain(state, name, pn::composites::EpsilonPlusFlat{});
}
void integrated_gradients_32(benchmark::State& state, const std::string& name) {
  const pn::Index n = state.range(0);
  pn::methods::IntegratedGradientsOptions<float> o;
  o.steps = 32;
  const auto& w = workload(name);
  const auto& x = inputs(name, n);
  const auto run = [&] { benchmark::DoNotOptimize(pn::methods::integrated_gradients(w.net, x, pn::Target::argmax(), o)); };
  const double peak = peak_mib(run);
  for (auto _ : state) run();
  report(state, name, n, peak, 33);
}
void smoothgrad_16(benchmark::State& state, const std::string& name) {
  const pn::Index n = state.range(0);
  pn::methods::SmoothGradOptions o;
  o.samples = 16;
  const auto& w = workload(name);
  const auto& x = inputs(name, n);
  const auto run = [&] { benchmark::DoNotOptimize(pn::methods::smoothgrad(w.net, x, pn::Target::argmax(), o)); };
  const double peak = peak_mib(run);
  for (auto _ : state) run();
  report(state, name, n, peak, 16);
}
/// Fitting S_a+- (compute_moments + the patterns) on one batch; items/s = samples/s.
void fit_two_component(benchmark::State& state, const std::string& name) {
  const pn::Index n = state.range(0);
  const auto& w = workload(name);
  const auto& x = inputs(name, n);
  const auto run = [&] { benchmark::DoNotOptimize(pn::fit_patterns<pn::estimators::TwoComponent>(w.net, pn::batches(x, n))); };
  const double peak = peak_mib(run);
  for (auto _ : state) run();
  report(state, name, n, peak);
}
/// rho(S) of the S_a+- patterns from moments gathered beforehand (with the input
/// covariance, on the batch): the cost of evaluating one more estimator, on 4 neurons per
/// layer (a neuron with K inputs costs a K x K factorisation: seconds for K = 3136);
/// items/s = neurons/s.
void rho_from_moments(benchmark::State& state, const std::string& name) {
  const pn::Index n = state.range(0);
  const auto& w = workload(name);
  pn::MomentOptions mo;
  mo.input_covariance = true;
  const pn::NetworkMoments moments = pn::compute_moments(w.net, pn::batches(inputs(name, n), n), mo);
  pn::QualityOptions qo;
  qo.max_neurons = 4;
  pn::Index neurons = 0;
  const auto run = [&] {
    const pn::SignalQuality q = pn::signal_quality(w.net, patterns(name), moments, qo);
    neurons = 0;
    for (const auto& layer : q.layers) neurons += static_cast<pn::Index>(layer.evaluated.size());
  };
  const double peak = peak_mib(run);
  for (auto _ : state) run();
  report(state, name, n, peak, 0);
  state.SetItemsProcessed(state.iterations() * neurons);
}
/// Image degradation (DegradationOptions' defaults: 4x4 patches, 10 steps, so 11 forward
/// passes of every image) by random attributions.
void degradation(benchmark::State& state, const std::string& name) {
  const pn::Index n = state.range(0);
  const auto& w = workload(name);
  const auto& x = inputs(name, n);
  const pn::Batch<float> attributions(x.shape, pn::Matrix<float>::Random(x.data.rows(), x.data.cols()));
  const auto run = [&] { benchmark::DoNotOptimize(pn::degrade(w.net, x, attributions)); };
  const double peak = peak_mib(run);
  for (auto _ : state) run();
  report(state, name, n, peak, 11);
}

}  // namespace

BENCHMARK_CAPTURE(forward, mlp, "mlp")->Unit(benchmark::kMillisecond)->UseRealTime()->Arg(1)->Arg(256);
BENCHMARK_CAPTURE(gradient, mlp, "mlp")->Unit(benchmark::kMillisecond)->UseRealTime()->Arg(1)->Arg(256);
BENCHMARK_CAPTURE(pattern_attribution, mlp, "mlp")->Unit(benchmark::kMillisecond)->UseRealTime()->Arg(1)->Arg(256);
BENCHMARK_CAPTURE(fit_two_component, mlp, "mlp")->Unit(benchmark::kMillisecond)->UseRealTime()->Arg(256);
BENCHMARK_CAPTURE(forward, cnn, "cnn")->Unit(benchmark::kMillisecond)->UseRealTime()->Arg(1)->Arg(256);
BENCHMARK_CAPTURE(gradient, cnn, "cnn")->Unit(benchmark::kMillisecond)->UseRealTime()->Arg(1)->Arg(256);
BENCHMARK_CAPTURE(pattern_net, cnn, "cnn")->Unit(benchmark::kMillisecond)->UseRealTime()->Arg(256);
BENCHMARK_CAPTURE(pattern_attribution, cnn, "cnn")->Unit(benchmark::kMillisecond)->UseRealTime()->Arg(256);
BENCHMARK_CAPTURE(epsilon_plus_flat, cnn, "cnn")->Unit(benchmark::kMillisecond)->UseRealTime()->Arg(256);
BENCHMARK_CAPTURE(integrated_gradients_32, cnn, "cnn")->Unit(benchmark::kMillisecond)->UseRealTime()->Arg(1)->Arg(256);
BENCHMARK_CAPTURE(smoothgrad_16, cnn, "cnn")->Unit(benchmark::kMillisecond)->UseRealTime()->Arg(1);
BENCHMARK_CAPTURE(fit_two_component, cnn, "cnn")->Unit(benchmark::kMillisecond)->UseRealTime()->Arg(256);
BENCHMARK_CAPTURE(rho_from_moments, mlp, "mlp")->Unit(benchmark::kMillisecond)->UseRealTime()->Arg(256);
BENCHMARK_CAPTURE(rho_from_moments, cnn, "cnn")->Unit(benchmark::kMillisecond)->UseRealTime()->Arg(256);
BENCHMARK_CAPTURE(degradation, cnn, "cnn")->Unit(benchmark::kMillisecond)->UseRealTime()->Arg(1000);
BENCHMARK_CAPTURE(forward, vgg16, "vgg16")->Unit(benchmark::kMillisecond)->UseRealTime()->Arg(1)->Arg(8);
BENCHMARK_CAPTURE(gradient, vgg16, "vgg16")->Unit(benchmark::kMillisecond)->UseRealTime()->Arg(1)->Arg(8);
BENCHMARK_CAPTURE(pattern_attribution, vgg16, "vgg16")->Unit(benchmark::kMillisecond)->UseRealTime()->Arg(1)->Arg(8);
BENCHMARK_CAPTURE(epsilon_plus_flat, vgg16, "vgg16")->Unit(benchmark::kMillisecond)->UseRealTime()->Arg(1)->Arg(8);

BENCHMARK_MAIN();
