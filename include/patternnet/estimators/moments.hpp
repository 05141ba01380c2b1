#pragma once
// Streaming, mergeable neuron statistics (docs/concepts.md), accumulated in double.
//
// For a linear layer with F neurons of K inputs each (Dense: K = in_features, one sample
// per input sample; Conv2D: K = C*kh*kw, one sample per output position = im2col patch),
// and y = w^T x WITHOUT the bias, the regime of a sample for neuron i is
//   positive  <=>  w_i^T x + b_i > 0   (the ReLU state),  negative otherwise.
// Per neuron and regime r in {+, -} we keep the count n_r, the means xbar_r (K), ybar_r
// and the co-moments C_r = sum_r (x - xbar_r)(y - ybar_r) (K) and V_r = sum_r (y - ybar_r)^2.
// Batches are merged with Chan et al.'s pairwise update (count-weighted, exact up to
// rounding), so the result does not depend on batch size or order. Within a batch the data
// is centred on the batch mean before any product, so data with a large offset does not
// cancel catastrophically. Optionally the input second moment Sigma_x (K x K) is kept too
// (needed by the quality criterion rho, not by the estimators).
//
// The statistics are kept in `Real` (double: LayerMoments); being templates, they cost a
// translation unit nothing until it uses them.

#include <patternnet/core/batch.hpp>
#include <patternnet/core/workspace.hpp>

#include <algorithm>
#include <concepts>
#include <initializer_list>

namespace patternnet {

/// Per-regime moments of all F neurons of one layer. Matrices are K x F (column = neuron).
template <std::floating_point Real>
struct BasicRegimeMoments {
  using Mat = Eigen::Matrix<Real, Eigen::Dynamic, Eigen::Dynamic>;
  using Row = Eigen::Matrix<Real, 1, Eigen::Dynamic>;

  Row n;       // 1 x F  sample counts
  Mat mean_x;  // K x F  E_r[x]
  Row mean_y;  // 1 x F  E_r[y]
  Mat c_xy;    // K x F  sum_r (x - E_r x)(y - E_r y)
  Row c_yy;    // 1 x F  sum_r (y - E_r y)^2

  void reset(Index k, Index f) {
    n.setZero(f);
    mean_x.setZero(k, f);
    mean_y.setZero(f);
    c_xy.setZero(k, f);
    c_yy.setZero(f);
  }

  /// Chan's pairwise merge of `b` into *this (both over the same neurons).
  void merge(const BasicRegimeMoments& b) {
    const Row total = n + b.n;
    // Weights n_b / n and n_a n_b / n, defined as 0 where a regime is empty.
    const Row wb = (total.array() > 0).select(b.n.array() / total.array(), Real(0));
    const Row wab = (total.array() > 0).select(n.array() * b.n.array() / total.array(), Real(0));
    const workspace::Scratch<Real> dx_buffer(b.mean_x - mean_x);
    const Mat& dx = *dx_buffer;
    const Row dy = b.mean_y - mean_y;
    c_xy += b.c_xy + (dx.array().rowwise() * (dy.array() * wab.array())).matrix();
    c_yy += b.c_yy + (dy.array().square() * wab.array()).matrix();
    mean_x += (dx.array().rowwise() * wb.array()).matrix();
    mean_y += (dy.array() * wb.array()).matrix();
    n = total;
  }
};

using RegimeMoments = BasicRegimeMoments<double>;

/// All statistics of one linear layer (the neurons of layer `layer` of a network).
template <std::floating_point Real>
struct BasicLayerMoments {
  using Mat = Eigen::Matrix<Real, Eigen::Dynamic, Eigen::Dynamic>;
  using Row = Eigen::Matrix<Real, 1, Eigen::Dynamic>;
  using Vec = Eigen::Matrix<Real, Eigen::Dynamic, 1>;

  Index layer = -1;
  BasicRegimeMoments<Real> positive, negative;
  bool with_input_covariance = false;
  Real count = 0;  // samples seen (per neuron: every neuron sees all of them)
  Vec mean_x;      // K      E[x]           (only with_input_covariance)
  Mat c_xx;        // K x K  sum (x - E x)(x - E x)^T  (only with_input_covariance)

  BasicLayerMoments() = default;
  BasicLayerMoments(Index layer_index, Index k, Index f, bool input_covariance)
      : layer(layer_index), with_input_covariance(input_covariance) {
    positive.reset(k, f);
    negative.reset(k, f);
    if (input_covariance) {
      mean_x.setZero(k);
      c_xx.setZero(k, k);
    }
  }

  [[nodiscard]] Index inputs() const noexcept { return positive.mean_x.rows(); }
  [[nodiscard]] Index neurons() const noexcept { return positive.mean_x.cols(); }

  /// Adds samples: `x` (m x K, one neuron input per row) and `z` (m x F, the layer's
  /// pre-activations z = x W^T + b as the forward pass computed them), with the bias b
  /// (F, or empty). y = z - b; the regime is z > 0. Works on row blocks of at most
  /// `chunk_rows` rows so that the `Real` work space stays bounded.
  template <class DX, class DZ>
  void add(const Eigen::MatrixBase<DX>& x, const Eigen::MatrixBase<DZ>& z, const Vec& bias, Index chunk_rows = 16384) {
    for (Index r0 = 0; r0 < x.rows(); r0 += chunk_rows) {
      const Index m = std::min(chunk_rows, x.rows() - r0);
      add_block(*workspace::Scratch<Real>(x.middleRows(r0, m).template cast<Real>()),
                *workspace::Scratch<Real>(z.middleRows(r0, m).template cast<Real>()), bias);
    }
  }

  /// Merges another accumulation over the same layer (e.g. from another thread).
  void merge(const BasicLayerMoments& b);

  /// The regime's part of cov[x, y]: E_r[x y] - E_r[x] E[y] (K x F), i.e.
  /// C_r / n_r + E_r[x] (E_r[y] - E[y]); zero columns for empty regimes. This is the
  /// numerator of the two-component patterns a_+ and a_- (docs/concepts.md).
  /// E_r[y] - E[y] is formed as n_o / n (E_r[y] - E_o[y]) (o = the other regime), which
  /// keeps its relative accuracy when y has a large mean.
  [[nodiscard]] Mat regime_cross(const BasicRegimeMoments<Real>& r) const {
    const BasicRegimeMoments<Real>& o = &r == &positive ? negative : positive;
    const Row total = (r.n + o.n).array().max(Real(1));
    const Row shift = ((r.mean_y - o.mean_y).array() * o.n.array() / total.array()).matrix();
    Mat out = (r.c_xy.array().rowwise() / r.n.array().max(Real(1))).matrix();
    out += (r.mean_x.array().rowwise() * shift.array()).matrix();
    for (Index f = 0; f < out.cols(); ++f) {
      if (r.n(f) == 0) out.col(f).setZero();
    }
    return out;
  }

  /// cov[x, y] over all samples (K x F), merged from the regimes without forming
  /// products of means: (C_+ + C_- + n_+ n_- / n (E_+x - E_-x)(E_+y - E_-y)) / n.
  [[nodiscard]] Mat cov_xy() const {
    BasicRegimeMoments<Real> all = positive;
    all.merge(negative);
    return (all.c_xy.array().rowwise() / all.n.array().max(Real(1))).matrix();
  }

private:
  void add_block(const Mat& x, const Mat& z, const Vec& bias) {
    const auto m = static_cast<Real>(x.rows());
    const Index f = z.cols(), k = x.cols();
    // The row-block temporaries come from the workspace (core/workspace.hpp).
    workspace::Scratch<Real> y_buffer(z);
    Mat& y = *y_buffer;
    if (bias.size() != 0) y.rowwise() -= bias.transpose();
    const Row xbar = x.colwise().mean(), ybar = y.colwise().mean();
    const workspace::Scratch<Real> xc_buffer(x.rowwise() - xbar);
    const Mat& xc = *xc_buffer;
    workspace::Scratch<Real> rhs_buffer(x.rows(), 3 * f);
    Mat& rhs = *rhs_buffer;  // [Yc | Yc .* P | P], P = positive-regime mask
    rhs.leftCols(f) = y.rowwise() - ybar;
    rhs.rightCols(f) = (z.array() > Real(0)).template cast<Real>();
    rhs.middleCols(f, f) = rhs.leftCols(f).cwiseProduct(rhs.rightCols(f));
    workspace::Scratch<Real> prod_buffer(k, 3 * f);
    Mat& prod = *prod_buffer;  // the one GEMM: Xc^T [Yc | Yc.*P | P]
    prod.noalias() = xc.transpose() * rhs;

    const Row sum_y = rhs.leftCols(f).colwise().sum();
    const Row sum_yy = rhs.leftCols(f).colwise().squaredNorm();
    const Vec sum_x = xc.colwise().sum().transpose();

    BasicRegimeMoments<Real> pos, neg;  // their K x F parts come from the workspace and go back below
    for (BasicRegimeMoments<Real>* r : {&pos, &neg}) {
      r->mean_x = workspace::matrix<Real>(k, f);
      r->c_xy = workspace::matrix<Real>(k, f);
    }
    pos.n = rhs.rightCols(f).colwise().sum();
    neg.n = Row::Constant(f, m) - pos.n;
    const Row pos_sum_y = rhs.middleCols(f, f).colwise().sum();
    const Row pos_sum_yy = (rhs.leftCols(f).cwiseProduct(rhs.middleCols(f, f))).colwise().sum();
    finish_block(pos, xbar, ybar, prod.rightCols(f), pos_sum_y, prod.middleCols(f, f), pos_sum_yy);
    finish_block(neg, xbar, ybar, (-prod.rightCols(f)).colwise() + sum_x, sum_y - pos_sum_y,
                 prod.leftCols(f) - prod.middleCols(f, f), sum_yy - pos_sum_yy);
    positive.merge(pos);
    negative.merge(neg);
    for (BasicRegimeMoments<Real>* r : {&pos, &neg}) {
      workspace::recycle(r->mean_x);
      workspace::recycle(r->c_xy);
    }
    if (with_input_covariance) {
      Mat cxx(k, k);
      cxx.noalias() = xc.transpose() * xc;
      cxx -= sum_x * sum_x.transpose() / m;
      merge_input(m, xbar.transpose() + sum_x / m, cxx);
    }
    count += m;
  }

  // Turns centred sums of one regime within a block into moments:
  // n_r, E_r[x] = xbar + Sx/n, E_r[y] = ybar + Sy/n, C = Sxy - Sx Sy/n, V = Syy - Sy^2/n.
  template <class SX, class SXY>
  static void finish_block(BasicRegimeMoments<Real>& r, const Row& xbar, const Row& ybar, const SX& sx_expr,
                           const Row& sy, const SXY& sxy_expr, const Row& syy) {
    const workspace::Scratch<Real> sx_buffer(sx_expr), sxy_buffer(sxy_expr);
    const Mat &sx = *sx_buffer, &sxy = *sxy_buffer;
    const Row inv_n = (r.n.array() > 0).select(Real(1) / r.n.array(), Real(0));
    r.mean_x = (sx.array().rowwise() * inv_n.array()).matrix();
    for (Index f = 0; f < sx.cols(); ++f) {
      if (r.n(f) > 0) r.mean_x.col(f) += xbar.transpose();
    }
    r.mean_y = ((sy.array() * inv_n.array()) + (r.n.array() > 0).template cast<Real>() * ybar.array()).matrix();
    r.c_xy = sxy - (sx.array().rowwise() * (sy.array() * inv_n.array())).matrix();
    r.c_yy = (syy.array() - sy.array().square() * inv_n.array()).matrix();
  }

  void merge_input(Real nb, const Vec& mean_b, const Mat& c_b) {
    const Real total = count + nb;
    if (nb == 0) return;
    const Vec d = mean_b - mean_x;
    c_xx += c_b + d * d.transpose() * (count * nb / total);
    mean_x += d * (nb / total);
  }
};

// Out of the class, so that patternnet::precompiled can provide it (precompiled.hpp): the
// inline NetworkMoments::merge() would otherwise compile it in every file that includes it.
template <std::floating_point Real>
void BasicLayerMoments<Real>::merge(const BasicLayerMoments& b) {
  positive.merge(b.positive);
  negative.merge(b.negative);
  if (with_input_covariance) merge_input(b.count, b.mean_x, b.c_xx);
  count += b.count;
}

using LayerMoments = BasicLayerMoments<double>;

}  // namespace patternnet
