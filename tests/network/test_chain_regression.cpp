// A chain built with the Sequential API gives the results of the pre-graph
// network core (chain-only Sequential, commit 9d781e0) on every method.
//
// tests/data/chain_golden.bin holds those results, written by this same file built at
// that commit and run with OMP_NUM_THREADS=1 PATTERNNET_WRITE_GOLDEN=<path>; every later
// build compares them (same compiler, same flags: Release, -O3, no -march): double bit
// for bit; float to rounding, since Conv2D runs one GEMM per sample instead of one for the
// whole batch (a different float summation order): within 1e-5 of the case's largest
// magnitude.
// Eigen sizes its GEMM blocks from the cache sizes it reads from the CPU, so the summation
// order of the large products (the moments' statistics) depends on the machine: the golden
// file was written, and is compared, with the fixed sizes of FixedCacheSizes.

#include "support.hpp"

#include <patternnet/training/gradients.hpp>

#include <catch2/catch.hpp>

#ifdef _OPENMP
#include <omp.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace {

struct Case {
  std::string name;
  pn::Index rows = 0, cols = 0;
  std::vector<double> values;
};

template <class T>
Case make_case(std::string name, const pn::Matrix<T>& m) {
  Case c{std::move(name), m.rows(), m.cols(), {}};
  c.values.assign(m.data(), m.data() + m.size());
  return c;
}

template <class T>
void add_methods(std::vector<Case>& out, const char* scalar) {
  namespace r = pn::rules;
  namespace pc = pn::composites;
  const pn::Sequential<T> net = support::mixed_net<T>(11);
  const pn::Batch<T> x(net.input_shape(), support::random_matrix<T>(net.input_shape().size(), 5, 23));
  const pn::Batch<T> train(net.input_shape(), support::random_matrix<T>(net.input_shape().size(), 64, 29));
  const std::string s = scalar;
  auto add = [&](const std::string& name, const pn::Matrix<T>& m) { out.push_back(make_case(s + " " + name, m)); };
  auto explained = [&](const std::string& name, const auto& rule) {
    add(name, pn::explain(net, rule, x, pn::Target::argmax()).attribution.data);
  };

  add("forward", net.forward(x).data);
  explained("Gradient", r::Gradient{});
  explained("InputTimesGradient", r::InputTimesGradient{});
  explained("DeConvNet", r::DeConvNet{});
  explained("GuidedBackprop", r::GuidedBackprop{});
  explained("Pass", r::Pass{});
  explained("Epsilon", r::Epsilon{0.1});
  explained("Gamma", r::Gamma{0.25});
  explained("ZPlus", r::ZPlus{});
  explained("AlphaBeta", r::AlphaBeta{2, 1});
  explained("ZBox", r::ZBox{-1.0, 1.0});
  explained("Flat", r::Flat{});
  explained("WSquare", r::WSquare{});
  explained("EpsilonPlus", pc::EpsilonPlus{});
  explained("EpsilonPlusFlat", pc::EpsilonPlusFlat{});
  explained("EpsilonAlpha2Beta1", pc::EpsilonAlpha2Beta1{});
  explained("EpsilonAlpha2Beta1Flat", pc::EpsilonAlpha2Beta1Flat{});
  explained("EpsilonGammaBox", pc::EpsilonGammaBox{-1.0, 1.0});
  explained("DeepTaylor", pc::DeepTaylor{-1.0, 1.0});
  pn::ExplainOptions softmax;
  softmax.through_softmax = true;
  softmax.layer_sums = true;
  const auto through = pn::explain(net, r::Gradient{}, x, pn::Target::index(1), softmax);
  add("Gradient through softmax", through.attribution.data);
  add("Gradient layer sums", through.layer_sums.template cast<T>());

  pn::MomentOptions with_covariance;
  with_covariance.input_covariance = true;
  const pn::NetworkMoments moments = pn::compute_moments(net, pn::batches(train, 16), with_covariance);
  auto patterned = [&](const std::string& name, const pn::Patterns<T>& p) {
    for (const auto& layer : p.layers()) {
      if (layer.a.size() != 0) add(name + " a " + std::to_string(layer.layer), layer.a);
      if (layer.a_neg.size() != 0) add(name + " a- " + std::to_string(layer.layer), layer.a_neg);
    }
    explained("PatternNet " + name, r::PatternNet{p});
    explained("PatternAttribution " + name, r::PatternAttribution{p});
    if (name != "S_x") {
      for (const auto& q : pn::signal_quality(net, p, moments).layers) {
        add("rho " + name + " " + std::to_string(q.layer),
            Eigen::Map<const Eigen::VectorXd>(q.rho.data(), static_cast<pn::Index>(q.rho.size())).template cast<T>());
      }
    }
  };
  patterned("S_x", pn::make_patterns<pn::estimators::Identity>(net, moments));
  patterned("S_w", pn::make_patterns<pn::estimators::Filter>(net, moments));
  patterned("S_a", pn::make_patterns<pn::estimators::Linear>(net, moments));
  patterned("S_a+-", pn::make_patterns<pn::estimators::TwoComponent>(net, moments));

  pn::methods::IntegratedGradientsOptions<T> ig;
  ig.steps = 8;
  ig.chunk = 3;
  add("IntegratedGradients", pn::methods::integrated_gradients(net, x, pn::Target::argmax(), ig).attribution.data);
  pn::methods::SmoothGradOptions sg;
  sg.samples = 6;
  sg.chunk = 4;
  sg.seed = 5;
  add("SmoothGrad", pn::methods::smoothgrad(net, x, pn::Target::argmax(), sg).attribution.data);

  const pn::ForwardRecord<T> rec = net.record(x, net.logits_end());
  const pn::Matrix<T> dz = support::random_matrix<T>(rec.activations.back().rows(), x.size(), 31);
  for (const auto& g : pn::training::parameter_gradients(net, rec, net.logits_end(), dz)) {
    add("dW " + std::to_string(g.layer), g.weight);
    if (g.bias.size() != 0) add("db " + std::to_string(g.layer), g.bias);
  }
}

std::vector<Case> all_cases() {
  std::vector<Case> out;
  add_methods<double>(out, "double");
  add_methods<float>(out, "float");
  return out;
}

template <class V>
void put(std::ofstream& f, const V& v) {
  f.write(reinterpret_cast<const char*>(&v), sizeof(V));
}
template <class V>
V get(std::ifstream& f) {
  V v{};
  f.read(reinterpret_cast<char*>(&v), sizeof(V));
  return v;
}

void write(const std::vector<Case>& cases, const char* path) {
  std::ofstream f(path, std::ios::binary);
  put(f, static_cast<std::uint32_t>(cases.size()));
  for (const Case& c : cases) {
    put(f, static_cast<std::uint32_t>(c.name.size()));
    f.write(c.name.data(), static_cast<std::streamsize>(c.name.size()));
    put(f, static_cast<std::int64_t>(c.rows));
    put(f, static_cast<std::int64_t>(c.cols));
    f.write(reinterpret_cast<const char*>(c.values.data()), static_cast<std::streamsize>(c.values.size() * sizeof(double)));
  }
}

std::vector<Case> read(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f.good());
  std::vector<Case> cases(get<std::uint32_t>(f));
  for (Case& c : cases) {
    c.name.resize(get<std::uint32_t>(f));
    f.read(c.name.data(), static_cast<std::streamsize>(c.name.size()));
    c.rows = get<std::int64_t>(f);
    c.cols = get<std::int64_t>(f);
    c.values.resize(static_cast<std::size_t>(c.rows * c.cols));
    f.read(reinterpret_cast<char*>(c.values.data()), static_cast<std::streamsize>(c.values.size() * sizeof(double)));
  }
  REQUIRE(f.good());
  return cases;
}

// Eigen's GEMM blocking as on a machine with these caches, for the test's duration.
class FixedCacheSizes {
 public:
  FixedCacheSizes() { Eigen::setCpuCacheSizes(32 * 1024, 1024 * 1024, 32 * 1024 * 1024); }
  ~FixedCacheSizes() { Eigen::setCpuCacheSizes(l1_, l2_, l3_); }
  FixedCacheSizes(const FixedCacheSizes&) = delete;
  FixedCacheSizes& operator=(const FixedCacheSizes&) = delete;

 private:
  std::ptrdiff_t l1_ = Eigen::l1CacheSize(), l2_ = Eigen::l2CacheSize(), l3_ = Eigen::l3CacheSize();
};

}  // namespace

TEST_CASE("A Sequential chain gives the pre-graph core's results on every method: double bit for bit, float to rounding") {
  const FixedCacheSizes caches;
#ifdef _OPENMP
  // The golden results are from one thread; Eigen splits its large GEMMs (here the
  // moments' statistics) over threads with other roundings.
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const std::vector<Case> now = all_cases();
  omp_set_num_threads(threads);
#else
  const std::vector<Case> now = all_cases();
#endif
  if (const char* path = std::getenv("PATTERNNET_WRITE_GOLDEN")) {
    write(now, path);
    WARN("wrote " << now.size() << " golden cases to " << path);
    return;
  }
  const std::vector<Case> golden = read(PATTERNNET_TEST_DATA "/chain_golden.bin");
  REQUIRE(now.size() == golden.size());
  for (std::size_t i = 0; i < now.size(); ++i) {
    INFO(golden[i].name);
    REQUIRE(now[i].name == golden[i].name);
    REQUIRE(now[i].rows == golden[i].rows);
    REQUIRE(now[i].cols == golden[i].cols);
    const bool is_float = golden[i].name.rfind("float ", 0) == 0;
    // rho's solver changed after the golden file (b277a21: unit-diagonal scaling and a
    // rank-stopped pivoted Cholesky instead of LDLT): same maths, other roundings.
    const bool is_rho = golden[i].name.find(" rho ") != std::string::npos;
    double scale = 0, worst = 0;
    for (const double v : golden[i].values) scale = std::max(scale, std::abs(v));
    std::size_t differing = 0;
    for (std::size_t k = 0; k < now[i].values.size(); ++k) {
      if (is_float || is_rho) {
        worst = std::max(worst, std::abs(now[i].values[k] - golden[i].values[k]));
      } else {
        differing += std::memcmp(&now[i].values[k], &golden[i].values[k], sizeof(double)) != 0;
      }
    }
    INFO("largest difference " << worst << " on a scale of " << scale);
    CHECK(differing == 0);
    CHECK(worst <= (is_rho && !is_float ? 1e-12 : 1e-5) * scale);
  }
}
