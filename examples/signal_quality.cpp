// The paper's Fig. 3 at small scale: how much of each neuron's output is left in the
// distractor estimate, rho(S) = 1 - max_v corr(y, v^T (x - S(x))), per layer of the
// reference Fashion-MNIST CNN, for the random baseline, S_w, S_a and S_a+-. Patterns are
// fitted on the 60000 training images; rho is measured on the 10000 test images.
//
// Usage: signal_quality [output directory] [cache directory]
//   writes signal_quality.svg; the model and patterns come from the cache
//   (examples/support/fashion_mnist.hpp), trained / fitted on the first run.

#include <patternnet/patternnet.hpp>

#include "support/fashion_mnist.hpp"
#include "support/progress.hpp"
#include "support/svg.hpp"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>

namespace pn = patternnet;
namespace est = pn::estimators;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

int main(int argc, char** argv) try {
  const std::filesystem::path out_dir = argc > 1 ? argv[1] : ".";
  const std::filesystem::path cache_dir = argc > 2 ? argv[2] : "";
  std::filesystem::create_directories(out_dir);

  const auto data = examples::load_fashion_mnist();
  const auto model = examples::load_or_train_reference_cnn(data.train, cache_dir);
  const auto& net = model.net;
  const auto fitted = examples::load_or_fit_patterns(model, data.train.images);
  const pn::Patterns<float> patterns[] = {pn::fit_patterns(net, est::Random{1}), pn::fit_patterns<est::Filter>(net),
                                          fitted.linear, fitted.two_component};

  // One pass over the held-out test set gathers every layer's moments, Sigma_x included.
  auto t = Clock::now();
  const auto forward_pass = [&] {
    for (const pn::Batch<float>& b : pn::batches(data.test.images, 256)) (void)net.forward(b);
  };
  forward_pass();
  const double forward_seconds = seconds_since(t);
  pn::MomentOptions opt;
  opt.input_covariance = true;
  opt.progress = examples::progress_bar("moments of the test set");
  t = Clock::now();
  const auto held_out = pn::compute_moments(net, pn::batches(data.test.images, 256), opt);
  const double moment_seconds = seconds_since(t);

  std::vector<pn::SignalQuality> quality;
  t = Clock::now();
  for (const auto& p : patterns) quality.push_back(pn::signal_quality(net, p, held_out));
  const double rho_seconds = seconds_since(t);

  fmt::print("\nrho(S) per layer on the {} test images (mean over neurons, sd in brackets; higher is better):\n",
             data.test.images.size());
  fmt::print("  {:<18}", "layer");
  for (const auto& q : quality) fmt::print("{:>18}", q.estimator);
  fmt::print("{:>14}\n", "chance floor");
  const std::size_t layers = quality[0].layers.size();
  for (std::size_t i = 0; i < layers; ++i) {
    const auto& l = quality[0].layers[i];
    fmt::print("  {:<18}", fmt::format("{} {} (K={})", l.layer, l.layer_type, l.regressors));
    for (const auto& q : quality) fmt::print("{:>18}", fmt::format("{:.4f} ({:.3f})", *q.layers[i].mean, *q.layers[i].sd));
    fmt::print("{:>14.4f}\n", l.chance_floor());
  }
  fmt::print("  S_x: not applicable in every layer (the distractor estimate x - S(x) is 0).\n"
             "  chance floor: 1 - sqrt(K / n), the rho of an estimator leaving no correlation with y at all,\n"
             "  since a regression on K inputs from n held-out samples (conv: positions x images) fits\n"
             "  R^2 ~ K / n by chance. Where rho is near the floor, the test set cannot rank the estimators.\n");

  // The paper's ordering: random ~ S_w < S_a < S_a+-, especially in the dense layers.
  fmt::print("\nThe paper's ordering random <= S_w < S_a < S_a+- here:\n");
  for (std::size_t i = 0; i < layers; ++i) {
    const double r = *quality[0].layers[i].mean, w = *quality[1].layers[i].mean, a = *quality[2].layers[i].mean,
                 apm = *quality[3].layers[i].mean;
    fmt::print("  layer {:<2} {:<8}: S_w {} random ({:+.4f}), S_a {} S_w ({:+.4f}), S_a+- {} S_a ({:+.4f})\n",
               quality[0].layers[i].layer, quality[0].layers[i].layer_type, w >= r ? ">=" : "<", w - r, a > w ? ">" : "<=",
               a - w, apm > a ? ">" : "<=", apm - a);
  }
  int a_over_w = 0;
  double lo = 1, hi = -1;
  for (std::size_t i = 0; i < layers; ++i) {
    a_over_w += *quality[2].layers[i].mean > *quality[1].layers[i].mean;
    lo = std::min(lo, *quality[3].layers[i].mean - *quality[2].layers[i].mean);
    hi = std::max(hi, *quality[3].layers[i].mean - *quality[2].layers[i].mean);
  }
  fmt::print("  S_a > S_w in {} of {} layers; rho(S_a+-) - rho(S_a) lies in [{:+.4f}, {:+.4f}] over the layers.\n", a_over_w,
             layers, lo, hi);
  fmt::print("\nTime on the test set: one forward pass {:.2f} s; the moments (one pass, Sigma_x included) {:.2f} s "
             "= {:.1f}x; rho for 4 estimators from them {:.2f} s = {:.1f}x the forward pass.\n",
             forward_seconds, moment_seconds, moment_seconds / forward_seconds, rho_seconds, rho_seconds / forward_seconds);

  // The figure: layers on x, rho on y, one line per estimator.
  svg::Document doc(720, 480);
  auto panel = doc.panel(80, 50, 600, 360, {-0.5, static_cast<double>(layers) - 0.5}, {0, 1});
  panel.axes("rho(S) per layer, reference CNN, Fashion-MNIST test set", "", "rho(S)", 0, 5);
  const char* colors[] = {"#7f7f7f", "#d62728", "#1f77b4", "#2ca02c"};
  for (std::size_t e = 0; e < quality.size(); ++e) {
    std::vector<std::pair<double, double>> pts;
    for (std::size_t i = 0; i < layers; ++i) pts.emplace_back(static_cast<double>(i), *quality[e].layers[i].mean);
    // S_a is drawn wide and S_a+- dashed on top, so that both show where they coincide.
    const std::string dash = e == 3 ? "6,4" : "";
    panel.polyline(pts, colors[e], e == 2 ? 6 : 2, dash);
    panel.legend(static_cast<int>(e), colors[e], quality[e].estimator, dash);
  }
  std::vector<std::pair<double, double>> floor;
  for (std::size_t i = 0; i < layers; ++i) {
    floor.emplace_back(static_cast<double>(i), quality[0].layers[i].chance_floor());
  }
  panel.polyline(floor, "#bcbd22", 1.5, "2,3", false);
  panel.legend(4, "#bcbd22", "chance floor", "2,3");
  for (std::size_t i = 0; i < layers; ++i) {
    const auto& l = quality[0].layers[i];
    panel.text(panel.px(static_cast<double>(i)), 430, fmt::format("{} {}", l.layer_type, l.layer), 11, "middle");
  }
  doc.text(80, 470, "patternnet examples/signal_quality: patterns fitted on the training set, rho on the test set.", 12);
  const auto file = out_dir / "signal_quality.svg";
  doc.save(file);
  fmt::print("Wrote {}\n", file.string());
} catch (const std::exception& e) {
  fmt::print(stderr, "signal_quality: {}\n", e.what());
  return 1;
}
