#include <patternnet/patternnet.hpp>

#include "support.hpp"

#include <catch2/catch.hpp>

#include <limits>

namespace {

namespace ws = pn::workspace;

/// Restores the workspace limit and empties this thread's workspace on scope exit.
struct WorkspaceGuard {
  std::size_t limit = ws::limit();
  WorkspaceGuard() { ws::clear(); }
  ~WorkspaceGuard() {
    ws::set_limit(limit);
    ws::clear();
  }
};

constexpr std::size_t kFloat = sizeof(float);

}  // namespace

TEST_CASE("A recycled buffer is handed out again for a matrix of the same number of values") {
  const WorkspaceGuard guard;
  pn::Matrix<float> a = ws::matrix<float>(300, 400);
  const float* buffer = a.data();
  ws::recycle(a);
  CHECK(a.size() == 0);
  CHECK(ws::kept_bytes() == 300 * 400 * kFloat);
  const pn::Matrix<float> b = ws::matrix<float>(400, 300);
  CHECK(b.data() == buffer);
  CHECK(b.rows() == 400);
  CHECK(b.cols() == 300);
  CHECK(ws::kept_bytes() == 0);
  // A different size does not take it.
  pn::Matrix<double> c = ws::matrix<double>(300, 400);
  ws::recycle(c);
  const pn::Matrix<double> d = ws::matrix<double>(300, 401);
  CHECK(ws::kept_bytes() == 300 * 400 * sizeof(double));
  CHECK(d.size() == 300 * 401);
}

TEST_CASE("The workspace keeps no small buffers and at most its limit, dropping the oldest first") {
  const WorkspaceGuard guard;
  pn::Matrix<float> small = ws::matrix<float>(10, 10);
  ws::recycle(small);
  CHECK(ws::kept_bytes() == 0);

  ws::set_limit(4 * 65536 * kFloat);
  for (const pn::Index n : {65536, 65537, 65538}) {
    pn::Matrix<float> m = ws::matrix<float>(1, n);
    ws::recycle(m);
  }
  CHECK(ws::kept_bytes() == (65536 + 65537 + 65538) * kFloat);
  pn::Matrix<float> d = ws::matrix<float>(1, 65539);
  ws::recycle(d);  // over the limit by 3 values: the oldest (65536) goes
  CHECK(ws::kept_bytes() == (65537 + 65538 + 65539) * kFloat);
  const pn::Matrix<float> e = ws::matrix<float>(65537, 1);  // still kept
  CHECK(ws::kept_bytes() == (65538 + 65539) * kFloat);

  ws::set_limit(0);
  pn::Matrix<float> f = ws::matrix<float>(1, 65536);
  ws::recycle(f);
  CHECK(ws::kept_bytes() == (65538 + 65539) * kFloat);
  ws::clear();
  CHECK(ws::kept_bytes() == 0);
}

TEST_CASE("Explaining gives the same numbers whatever buffers the workspace hands out") {
  const WorkspaceGuard guard;
  const auto net = support::mixed_net<double>(3);
  const pn::Batch<double> x({2, 9, 8}, support::random_matrix<double>(144, 128, 5));  // buffers of 147 KB and more
  const pn::Patterns<double> patterns = pn::fit_patterns<pn::estimators::TwoComponent>(net, pn::batches(x, 64));
  const auto run = [&] {
    return std::vector<pn::Matrix<double>>{
        net.forward(x).data, pn::explain(net, pn::rules::Gradient{}, x).attribution.data,
        pn::explain(net, pn::composites::EpsilonAlpha2Beta1Flat{}, x).attribution.data,
        pn::explain(net, pn::composites::EpsilonPlusFlat{}, x).attribution.data,
        pn::explain(net, pn::rules::PatternAttribution{patterns}, x).attribution.data};
  };
  ws::set_limit(0);  // every matrix a fresh allocation
  const auto fresh = run();
  ws::set_limit(guard.limit);
  (void)run();
  // Every buffer of a recorded value's size now holds NaN.
  const pn::ForwardRecord<double> rec = net.record(x);
  std::vector<pn::Matrix<double>> poisoned;
  for (const auto& a : rec.activations) {
    for (int copy = 0; copy < 3; ++copy) {
      poisoned.push_back(ws::matrix<double>(a.rows(), a.cols()));
      poisoned.back().setConstant(std::numeric_limits<double>::quiet_NaN());
    }
  }
  for (auto& m : poisoned) ws::recycle(m);
  REQUIRE(ws::kept_bytes() > 0);
  const auto reused = run();
  for (std::size_t i = 0; i < fresh.size(); ++i) {
    INFO("result " << i);
    CHECK(reused[i] == fresh[i]);
  }
}
