// The paper's Fig. 4a at small scale: image degradation on the Fashion-MNIST test set.
// Patches of 4 x 4 pixels are ranked by each method's summed attribution and replaced,
// most relevant first, by uniform random values in [0, 1] (or the per-pixel mean, or a
// blur); the softmax probability of the originally predicted class is recorded after each
// step. Steeper (smaller area) is better. See docs/evaluation.md for a measured run.
//
// Usage: image_degradation [output directory] [cache directory] [number of test images]
//                          [perturbation: uniform (default) | mean | blur]
//   writes image_degradation.csv (per step and method: mean and sd of the probability, mean
//   distance of the perturbed input from the original) and image_degradation.svg.

#include <patternnet/patternnet.hpp>
#include <patternnet/composites/presets.hpp>
#include <patternnet/methods/integrated_gradients.hpp>
#include <patternnet/rules/guided_backprop.hpp>

#include "support/fashion_mnist.hpp"
#include "support/progress.hpp"
#include "support/svg.hpp"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>

namespace pn = patternnet;
namespace est = pn::estimators;
using Clock = std::chrono::steady_clock;

namespace {

constexpr pn::Index kChunk = 500;  // images per explanation pass (bounds the recorded activations)

// Runs `explain_chunk` over the images in chunks and concatenates the attributions.
pn::Batch<float> attribute(const pn::Batch<float>& images, const std::string& label,
                           const std::function<pn::Matrix<float>(const pn::Batch<float>&)>& explain_chunk) {
  pn::Batch<float> out(images.shape, images.size());
  const auto bar = examples::progress_bar(label);
  pn::Progress progress{0, 0, images.size()};
  for (pn::Index start = 0; start < images.size(); start += kChunk) {
    const pn::Index n = std::min(kChunk, images.size() - start);
    out.data.middleCols(start, n) = explain_chunk(pn::Batch<float>(images.shape, pn::Matrix<float>(images.data.middleCols(start, n))));
    progress.batches += 1;
    progress.samples += n;
    bar(progress);
  }
  return out;
}

template <class Rule>
std::function<pn::Matrix<float>(const pn::Batch<float>&)> with_rule(const pn::Sequential<float>& net, Rule rule) {
  return [&net, rule](const pn::Batch<float>& x) { return pn::explain(net, rule, x).attribution.data; };
}

}  // namespace

int main(int argc, char** argv) try {
  const std::filesystem::path out_dir = argc > 1 ? argv[1] : ".";
  const std::filesystem::path cache_dir = argc > 2 ? argv[2] : "";
  std::filesystem::create_directories(out_dir);
  const auto start = Clock::now();

  const auto data = examples::load_fashion_mnist();
  const auto model = examples::load_or_train_reference_cnn(data.train, cache_dir);
  const auto& net = model.net;
  const auto fitted = examples::load_or_fit_patterns(model, data.train.images);
  const pn::Index n = argc > 3 ? std::min<pn::Index>(std::stol(argv[3]), data.test.images.size()) : data.test.images.size();
  const pn::Batch<float> images(data.test.images.shape, pn::Matrix<float>(data.test.images.data.leftCols(n)));

  struct Method {
    std::string name;
    std::function<pn::Matrix<float>(const pn::Batch<float>&)> explain;
  };
  const std::vector<Method> methods = {
      {"PatternAttribution S_x (= LRP-z)", with_rule(net, pn::rules::PatternAttribution{pn::fit_patterns<est::Identity>(net)})},
      {"PatternAttribution S_w (= w^2 rule)", with_rule(net, pn::rules::PatternAttribution{pn::fit_patterns<est::Filter>(net)})},
      {"PatternAttribution S_a", with_rule(net, pn::rules::PatternAttribution{fitted.linear})},
      {"PatternAttribution S_a+-", with_rule(net, pn::rules::PatternAttribution{fitted.two_component})},
      {"Gradient", with_rule(net, pn::rules::Gradient{})},
      {"Guided Backprop", with_rule(net, pn::rules::GuidedBackprop{})},
      {"LRP EpsilonPlusFlat", with_rule(net, pn::composites::EpsilonPlusFlat{})},
      {"Integrated Gradients (32 steps)",
       [&net](const pn::Batch<float>& x) {
         pn::methods::IntegratedGradientsOptions<float> o;
         o.steps = 32;
         return pn::methods::integrated_gradients(net, x, pn::Target::argmax(), o).attribution.data;
       }},
  };

  pn::DegradationOptions opt;
  opt.patch_size = 4;        // 7 x 7 = 49 patches
  opt.steps = 24;            // 2 patches per step: 48 of the 49 patches
  opt.patches_per_step = 2;
  const std::string perturbation = argc > 4 ? argv[4] : "uniform";
  if (perturbation == "uniform") {
    opt.perturbation = pn::DegradationOptions::Perturbation::uniform;
    opt.low = 0, opt.high = 1;
  } else if (perturbation == "mean") {
    opt.perturbation = pn::DegradationOptions::Perturbation::mean;
  } else if (perturbation == "blur") {
    opt.perturbation = pn::DegradationOptions::Perturbation::blur;
  } else {
    throw pn::ConfigError("image_degradation: the perturbation must be uniform, mean or blur, got '" + perturbation + "'");
  }
  opt.seed = 2018;

  std::vector<std::pair<std::string, pn::DegradationCurve>> curves;
  for (const auto& m : methods) {
    const auto t = Clock::now();
    const pn::Batch<float> a = attribute(images, m.name + ": attributions", m.explain);
    auto o = opt;
    o.progress = examples::progress_bar(m.name + ": degradation");
    curves.emplace_back(m.name, pn::degrade(net, images, a, o));
    fmt::print("  {:<36} area {:.4f}   ({:.0f} s)\n", m.name, curves.back().second.area,
               std::chrono::duration<double>(Clock::now() - t).count());
  }
  {
    auto random = opt;
    random.order = pn::DegradationOptions::Order::random;
    random.progress = examples::progress_bar("random order: degradation");
    curves.emplace_back("random order", pn::degrade(net, images, images, random));
  }

  fmt::print("\nImage degradation on {} test images (4x4 patches, 2 per step, {} perturbation, most relevant first).\n"
             "Area under the mean probability of the original class (lower = steeper = better):\n", n, perturbation);
  auto sorted = curves;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second.area < b.second.area; });
  for (const auto& [name, c] : sorted) {
    fmt::print("  {:<36} {:.4f}   p after 2/8/24 steps: {:.3f} {:.3f} {:.3f}   |x - x0| after 8 steps: {:.2f}\n", name, c.area,
               c.mean(2), c.mean(8), c.mean(24), c.distance(8));
  }

  // CSV: one row per step, one column per method (mean probability), then the sds, then the
  // mean distances |x_k - x_0| of the perturbed inputs.
  const auto csv = out_dir / "image_degradation.csv";
  {
    std::ofstream out(csv);
    out << "step,patches_replaced";
    for (const auto& [name, c] : curves) out << ",\"" << name << " mean\"";
    for (const auto& [name, c] : curves) out << ",\"" << name << " sd\"";
    for (const auto& [name, c] : curves) out << ",\"" << name << " distance\"";
    out << "\n";
    for (pn::Index k = 0; k <= opt.steps; ++k) {
      out << k << "," << k * opt.patches_per_step;
      for (const auto& [name, c] : curves) out << "," << c.mean(k);
      for (const auto& [name, c] : curves) out << "," << c.sd(k);
      for (const auto& [name, c] : curves) out << "," << c.distance(k);
      out << "\n";
    }
  }

  svg::Document doc(900, 520);
  auto panel = doc.panel(80, 50, 520, 400, {0, static_cast<double>(opt.steps * opt.patches_per_step)}, {0, 1});
  panel.axes(fmt::format("image degradation ({}), Fashion-MNIST test set ({} images)", perturbation, n),
             "patches replaced (most relevant first)",
             "p(original class)", 6, 5);
  const char* colors[] = {"#8c564b", "#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#e377c2", "#17becf", "#7f7f7f"};
  for (std::size_t e = 0; e < curves.size(); ++e) {
    std::vector<std::pair<double, double>> pts;
    for (pn::Index k = 0; k <= opt.steps; ++k) pts.emplace_back(static_cast<double>(k * opt.patches_per_step), curves[e].second.mean(k));
    panel.polyline(pts, colors[e % 9], 2, e + 1 == curves.size() ? "6,4" : "", false);
    doc.text(620, 70 + 22 * static_cast<double>(e), fmt::format("{} ({:.3f})", curves[e].first, curves[e].second.area), 12);
    auto legend = doc.panel(600, 64 + 22 * static_cast<double>(e), 16, 1, {0, 1}, {0, 1});
    legend.line(0, 0, 1, 0, colors[e % 9], 3);
  }
  doc.text(620, 55, "method (area)", 12);
  doc.text(80, 505, "patternnet examples/image_degradation; CSV of the curves beside this file.", 12);
  const auto svg_file = out_dir / "image_degradation.svg";
  doc.save(svg_file);
  fmt::print("\nWrote {} and {} ({:.0f} s in all)\n", csv.string(), svg_file.string(),
             std::chrono::duration<double>(Clock::now() - start).count());
} catch (const std::exception& e) {
  fmt::print(stderr, "image_degradation: {}\n", e.what());
  return 1;
}
