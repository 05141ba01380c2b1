#include <patternnet/patternnet.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>

#ifdef _OPENMP
#include <omp.h>

TEST_CASE("Forward passes and explanations do not depend on the thread count") {
  const auto net = support::mixed_net<double>(11);
  const pn::Batch<double> x({2, 9, 8}, support::random_matrix<double>(144, 37, 12));  // 37: uneven shares
  const pn::Patterns<double> patterns = pn::fit_patterns<pn::estimators::TwoComponent>(net, pn::batches(x, 37));
  const auto run = [&](int threads) {
    omp_set_num_threads(threads);
    return std::vector<pn::Matrix<double>>{
        net.forward(x).data, pn::explain(net, pn::rules::Gradient{}, x).attribution.data,
        pn::explain(net, pn::composites::EpsilonAlpha2Beta1Flat{}, x).attribution.data,
        pn::explain(net, pn::rules::PatternAttribution{patterns}, x).attribution.data};
  };
  const int max_threads = omp_get_max_threads();
  const auto one = run(1), two = run(2), three = run(3);
  omp_set_num_threads(max_threads);
  for (std::size_t i = 0; i < one.size(); ++i) {
    INFO("result " << i);
    CHECK(one[i].norm() > 0);
    CHECK(two[i] == one[i]);
    CHECK(three[i] == one[i]);
  }
}

TEST_CASE("Inside the caller's parallel region every thread explains its own batch on its own") {
  const auto net = support::mixed_net<double>(13);
  std::vector<pn::Batch<double>> xs;
  for (unsigned k = 0; k < 4; ++k) xs.emplace_back(pn::Shape{2, 9, 8}, support::random_matrix<double>(144, 9, 20 + k));
  std::vector<pn::Matrix<double>> serial, parallel(xs.size());
  for (const auto& x : xs) serial.push_back(pn::explain(net, pn::rules::Gradient{}, x).attribution.data);
#pragma omp parallel for num_threads(2)
  for (int k = 0; k < 4; ++k) parallel[k] = pn::explain(net, pn::rules::Gradient{}, xs[k]).attribution.data;
  for (std::size_t k = 0; k < xs.size(); ++k) CHECK(parallel[k] == serial[k]);
}
#endif
