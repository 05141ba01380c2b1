#include "support.hpp"

#include <patternnet/evaluation/degradation.hpp>

#include <catch2/catch.hpp>

using Opt = pn::DegradationOptions;

namespace {

// 1 x 8 x 8 images, 2 x 2 patches (16). A linear classifier whose class-0 logit reads only
// the pixels of patches 0, 5 and 10: logit0 = sum over those 12 pixels - 6, logit1 = 0.
// The relevant patches are bright (1), the rest uniform in [0, 1].
struct Reader {
  pn::Sequential<double> net;
  pn::Batch<double> images, truth;  // truth = exact contributions w .* x of class 0
};

Reader reader(pn::Index n, unsigned seed) {
  const pn::Shape s{1, 8, 8};
  pn::Matrix<double> w = pn::Matrix<double>::Zero(2, 64);
  std::vector<pn::Index> relevant;
  for (pn::Index patch : {0, 5, 10}) {
    for (pn::Index dy = 0; dy < 2; ++dy)
      for (pn::Index dx = 0; dx < 2; ++dx) relevant.push_back(s.at(0, (patch / 4) * 2 + dy, (patch % 4) * 2 + dx));
  }
  for (pn::Index i : relevant) w(0, i) = 1;
  pn::Vector<double> b(2);
  b << -6, 0;
  Reader r{pn::Sequential<double>{pn::Dense<double>(w, b), pn::Softmax<double>{}}, pn::Batch<double>(s, support::random_matrix<double>(64, n, seed, 0, 1)), {}};
  r.net.set_input_shape(s);
  for (pn::Index i : relevant) r.images.data.row(i).setOnes();
  r.truth = pn::Batch<double>(s, pn::Matrix<double>(r.images.data.array().colwise() * w.row(0).transpose().array()));
  return r;
}

// The experiment written plainly: one image and one step at a time.
// distance(k, j) = ||x_k - x_0|| of image j.
Eigen::MatrixXd naive(const pn::Sequential<double>& net, const pn::Batch<double>& images, const pn::Batch<double>& attr,
                      const pn::Matrix<double>& replacement, pn::Index patch, pn::Index steps, Eigen::MatrixXd& distance) {
  const pn::Shape s = images.shape;
  Eigen::MatrixXd out(steps + 1, images.size());
  distance.resize(steps + 1, images.size());
  for (pn::Index j = 0; j < images.size(); ++j) {
    pn::Batch<double> x(s, pn::Matrix<double>(images.data.col(j)));
    const pn::Index target = [&] { pn::Index c; net.forward(x).data.col(0).maxCoeff(&c); return c; }();
    std::vector<std::pair<double, pn::Index>> scores;
    for (pn::Index py = 0; py < s.h / patch; ++py)
      for (pn::Index px = 0; px < s.w / patch; ++px) {
        double sum = 0;
        for (pn::Index y = py * patch; y < (py + 1) * patch; ++y)
          for (pn::Index xx = px * patch; xx < (px + 1) * patch; ++xx) sum += attr.data(s.at(0, y, xx), j);
        scores.emplace_back(-sum, py * (s.w / patch) + px);
      }
    std::stable_sort(scores.begin(), scores.end(), [](auto a, auto b) { return a.first < b.first; });
    for (pn::Index k = 0; k <= steps; ++k) {
      if (k > 0) {
        const pn::Index p = scores[static_cast<std::size_t>(k - 1)].second, y0 = (p / (s.w / patch)) * patch, x0 = (p % (s.w / patch)) * patch;
        for (pn::Index y = y0; y < y0 + patch; ++y)
          for (pn::Index xx = x0; xx < x0 + patch; ++xx) x.data(s.at(0, y, xx), 0) = replacement(s.at(0, y, xx), j);
      }
      out(k, j) = net.forward(x).data(target, 0);
      distance(k, j) = (x.data.col(0) - images.data.col(j)).norm();
    }
  }
  return out;
}

}  // namespace

TEST_CASE("degradation: the true attribution falls fastest, least-relevant-first stays on top") {
  const auto r = reader(60, 1);
  Opt o;
  o.patch_size = 2;
  o.steps = 6;
  o.seed = 3;
  const auto truth = pn::degrade(r.net, r.images, r.truth, o);
  o.order = Opt::Order::random;
  const auto random = pn::degrade(r.net, r.images, r.truth, o);
  o.order = Opt::Order::least_relevant_first;
  const auto least = pn::degrade(r.net, r.images, r.truth, o);
  // Original: logit0 = 6, p = 1 / (1 + e^-6) for every image.
  CHECK(truth.mean(0) == Approx(1 / (1 + std::exp(-6.0))).epsilon(1e-12));
  // After the 3 relevant patches (12 pixels, uniform mean 0.5): logit0 ~ 0, p ~ 0.5.
  CHECK(truth.mean(3) < 0.65);
  CHECK(truth.area < random.area - 0.1);
  CHECK(random.area < least.area - 0.02);
  CHECK((least.probability.array() == truth.mean(0)).all());  // irrelevant patches change nothing
  CHECK(truth.sd.size() == 7);
  CHECK(truth.targets == std::vector<pn::Index>(60, 0));
}

TEST_CASE("degradation: the batched implementation equals a per-image loop, for any max_batch") {
  const auto r = reader(7, 2);
  const auto attribution = pn::Batch<double>(r.images.shape, support::random_matrix<double>(64, 7, 4));
  Opt o;
  o.patch_size = 2;
  o.steps = 9;
  o.perturbation = Opt::Perturbation::mean;
  const Eigen::MatrixXd replacement = r.images.data.rowwise().mean().replicate(1, 7);
  Eigen::MatrixXd distance;
  const Eigen::MatrixXd expected = naive(r.net, r.images, attribution, replacement, 2, 9, distance);
  for (pn::Index max_batch : {1, 3, 16, 1000}) {
    o.max_batch = max_batch;
    std::vector<pn::Progress> seen;
    o.progress = [&](const pn::Progress& p) { seen.push_back(p); };
    const auto curve = pn::degrade(r.net, r.images, attribution, o);
    CHECK((curve.probability - expected).cwiseAbs().maxCoeff() < 1e-15);
    CHECK(curve.distance(0) == 0);
    CHECK((curve.distance - distance.rowwise().mean()).cwiseAbs().maxCoeff() < 1e-14);
    // 7 images x 10 steps = 70 forward samples, reported once per forward pass.
    REQUIRE(seen.size() == static_cast<std::size_t>((70 + max_batch - 1) / max_batch));
    for (std::size_t i = 0; i < seen.size(); ++i) {
      CHECK(seen[i].batches == static_cast<pn::Index>(i + 1));
      CHECK(seen[i].samples == std::min<pn::Index>(70, static_cast<pn::Index>(i + 1) * max_batch));
      CHECK(seen[i].total_samples == 70);
    }
  }
}

TEST_CASE("degradation: a seed reproduces the curves; other seeds change only the random parts") {
  const auto r = reader(10, 5);
  Opt o;
  o.patch_size = 2;
  o.steps = 5;
  o.seed = 1;
  const auto a = pn::degrade(r.net, r.images, r.truth, o), b = pn::degrade(r.net, r.images, r.truth, o);
  CHECK(a.probability == b.probability);
  o.seed = 2;
  CHECK(pn::degrade(r.net, r.images, r.truth, o).probability != a.probability);  // new uniform values
  o.perturbation = Opt::Perturbation::blur;  // no random part left
  const auto m1 = pn::degrade(r.net, r.images, r.truth, o);
  o.seed = 9;
  CHECK(pn::degrade(r.net, r.images, r.truth, o).probability == m1.probability);
  o.order = Opt::Order::random;  // the order is random again
  CHECK(pn::degrade(r.net, r.images, r.truth, o).probability != m1.probability);
}

TEST_CASE("degradation: blur replaces a patch by the box-blurred image") {
  const auto r = reader(3, 6);
  Opt o;
  o.patch_size = 2;
  o.steps = 1;
  o.perturbation = Opt::Perturbation::blur;
  const auto c = pn::degrade(r.net, r.images, r.truth, o);
  // The first patch removed is a relevant one (all ones): its blurred values are means of
  // 3 x 3 neighbourhoods; check the resulting logit directly for image 0.
  pn::Batch<double> x(r.images.shape, pn::Matrix<double>(r.images.data.col(0)));
  const auto blurred = pn::detail::box_blur(x.data, x.shape, 1);
  const auto& w = std::get<pn::Dense<double>>(r.net.layer(0)).weight();
  std::vector<std::pair<double, pn::Index>> score;
  for (pn::Index p : {0, 5, 10}) {
    double sum = 0;
    for (pn::Index dy = 0; dy < 2; ++dy)
      for (pn::Index dx = 0; dx < 2; ++dx) sum += r.truth.data(x.shape.at(0, (p / 4) * 2 + dy, (p % 4) * 2 + dx), 0);
    score.emplace_back(sum, p);
  }
  const pn::Index first =  // the first of the highest sums (the ranking is a stable sort)
      std::max_element(score.begin(), score.end(), [](const auto& a, const auto& b) { return a.first < b.first; })->second;
  for (pn::Index dy = 0; dy < 2; ++dy)
    for (pn::Index dx = 0; dx < 2; ++dx) {
      const pn::Index i = x.shape.at(0, (first / 4) * 2 + dy, (first % 4) * 2 + dx);
      x.data(i, 0) = blurred(i, 0);
    }
  const double logit = (w.row(0) * x.data.col(0))(0) - 6;
  CHECK(c.probability(1, 0) == Approx(1 / (1 + std::exp(-logit))).epsilon(1e-12));
}

TEST_CASE("degradation: bad arguments throw ConfigError / ShapeError") {
  const auto r = reader(2, 7);
  Opt o;
  o.patch_size = 3;  // does not divide 8
  CHECK_THROWS_WITH(pn::degrade(r.net, r.images, r.truth, o), Catch::Matchers::Contains("patch size 3 must be >= 1 and divide"));
  o.patch_size = 16;  // larger than the image
  CHECK_THROWS_AS(pn::degrade(r.net, r.images, r.truth, o), pn::ConfigError);
  o.patch_size = 2;
  o.steps = 0;
  CHECK_THROWS_AS(pn::degrade(r.net, r.images, r.truth, o), pn::ConfigError);
  o.steps = 17;  // more than 16 patches
  CHECK_THROWS_AS(pn::degrade(r.net, r.images, r.truth, o), pn::ConfigError);
  o.steps = 4;
  CHECK_THROWS_AS(pn::degrade(r.net, r.images, pn::Batch<double>({1, 4, 16}, 2), o), pn::ShapeError);
  CHECK_THROWS_AS(pn::degrade(r.net, r.images, pn::Batch<double>({1, 8, 8}, 3), o), pn::ShapeError);
  o.low = 1, o.high = 0;
  CHECK_THROWS_AS(pn::degrade(r.net, r.images, r.truth, o), pn::ConfigError);
}
