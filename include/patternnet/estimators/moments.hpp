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

#include <patternnet/core/batch.hpp>

#include <algorithm>

namespace patternnet {

/// Per-regime moments of all F neurons of one layer. Matrices are K x F (column = neuron).
struct RegimeMoments {
  Eigen::RowVectorXd n;      // 1 x F  sample counts
  Eigen::MatrixXd mean_x;    // K x F  E_r[x]
  Eigen::RowVectorXd mean_y; // 1 x F  E_r[y]
  Eigen::MatrixXd c_xy;      // K x F  sum_r (x - E_r x)(y - E_r y)
  Eigen::RowVectorXd c_yy;   // 1 x F  sum_r (y - E_r y)^2

  void reset(Index k, Index f) {
    n.setZero(f);
    mean_x.setZero(k, f);
    mean_y.setZero(f);
    c_xy.setZero(k, f);
    c_yy.setZero(f);
  }

  /// Chan's pairwise merge of `b` into *this (both over the same neurons).
  void merge(const RegimeMoments& b) {
    const Eigen::RowVectorXd total = n + b.n;
    // Weights n_b / n and n_a n_b / n, defined as 0 where a regime is empty.
    const Eigen::RowVectorXd wb = (total.array() > 0).select(b.n.array() / total.array(), 0.0);
    const Eigen::RowVectorXd wab = (total.array() > 0).select(n.array() * b.n.array() / total.array(), 0.0);
    const Eigen::MatrixXd dx = b.mean_x - mean_x;
    const Eigen::RowVectorXd dy = b.mean_y - mean_y;
    c_xy += b.c_xy + (dx.array().rowwise() * (dy.array() * wab.array())).matrix();
    c_yy += b.c_yy + (dy.array().square() * wab.array()).matrix();
    mean_x += (dx.array().rowwise() * wb.array()).matrix();
    mean_y += (dy.array() * wb.array()).matrix();
    n = total;
  }
};

/// All statistics of one linear layer (the neurons of layer `layer` of a network).
struct LayerMoments {
  Index layer = -1;
  RegimeMoments positive, negative;
  bool with_input_covariance = false;
  double count = 0;           // samples seen (per neuron: every neuron sees all of them)
  Eigen::VectorXd mean_x;     // K      E[x]           (only with_input_covariance)
  Eigen::MatrixXd c_xx;       // K x K  sum (x - E x)(x - E x)^T  (only with_input_covariance)

  LayerMoments() = default;
  LayerMoments(Index layer_index, Index k, Index f, bool input_covariance)
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
  /// `chunk_rows` rows so that the double-precision work space stays bounded.
  template <class DX, class DZ>
  void add(const Eigen::MatrixBase<DX>& x, const Eigen::MatrixBase<DZ>& z, const Eigen::VectorXd& bias,
           Index chunk_rows = 16384) {
    for (Index r0 = 0; r0 < x.rows(); r0 += chunk_rows) {
      const Index m = std::min(chunk_rows, x.rows() - r0);
      add_block(x.middleRows(r0, m).template cast<double>(), z.middleRows(r0, m).template cast<double>(), bias);
    }
  }

  /// Merges another accumulation over the same layer (e.g. from another thread).
  void merge(const LayerMoments& b) {
    positive.merge(b.positive);
    negative.merge(b.negative);
    if (with_input_covariance) merge_input(b.count, b.mean_x, b.c_xx);
    count += b.count;
  }

  /// The regime's part of cov[x, y]: E_r[x y] - E_r[x] E[y] (K x F), i.e.
  /// C_r / n_r + E_r[x] (E_r[y] - E[y]); zero columns for empty regimes. This is the
  /// numerator of the two-component patterns a_+ and a_- (docs/concepts.md).
  /// E_r[y] - E[y] is formed as n_o / n (E_r[y] - E_o[y]) (o = the other regime), which
  /// keeps its relative accuracy when y has a large mean.
  [[nodiscard]] Eigen::MatrixXd regime_cross(const RegimeMoments& r) const {
    const RegimeMoments& o = &r == &positive ? negative : positive;
    const Eigen::RowVectorXd total = (r.n + o.n).array().max(1.0);
    const Eigen::RowVectorXd shift = ((r.mean_y - o.mean_y).array() * o.n.array() / total.array()).matrix();
    Eigen::MatrixXd out = (r.c_xy.array().rowwise() / r.n.array().max(1.0)).matrix();
    out += (r.mean_x.array().rowwise() * shift.array()).matrix();
    for (Index f = 0; f < out.cols(); ++f) {
      if (r.n(f) == 0) out.col(f).setZero();
    }
    return out;
  }

  /// cov[x, y] over all samples (K x F), merged from the regimes without forming
  /// products of means: (C_+ + C_- + n_+ n_- / n (E_+x - E_-x)(E_+y - E_-y)) / n.
  [[nodiscard]] Eigen::MatrixXd cov_xy() const {
    RegimeMoments all = positive;
    all.merge(negative);
    return (all.c_xy.array().rowwise() / all.n.array().max(1.0)).matrix();
  }

private:
  void add_block(const Eigen::MatrixXd& x, const Eigen::MatrixXd& z, const Eigen::VectorXd& bias) {
    const auto m = static_cast<double>(x.rows());
    const Index f = z.cols(), k = x.cols();
    Eigen::MatrixXd y = z;
    if (bias.size() != 0) y.rowwise() -= bias.transpose();
    const Eigen::RowVectorXd xbar = x.colwise().mean(), ybar = y.colwise().mean();
    const Eigen::MatrixXd xc = x.rowwise() - xbar;
    Eigen::MatrixXd rhs(x.rows(), 3 * f);  // [Yc | Yc .* P | P], P = positive-regime mask
    rhs.leftCols(f) = y.rowwise() - ybar;
    rhs.rightCols(f) = (z.array() > 0.0).cast<double>();
    rhs.middleCols(f, f) = rhs.leftCols(f).cwiseProduct(rhs.rightCols(f));
    Eigen::MatrixXd prod(k, 3 * f);  // the one GEMM: Xc^T [Yc | Yc.*P | P]
    prod.noalias() = xc.transpose() * rhs;

    const Eigen::RowVectorXd sum_y = rhs.leftCols(f).colwise().sum();
    const Eigen::RowVectorXd sum_yy = rhs.leftCols(f).colwise().squaredNorm();
    const Eigen::VectorXd sum_x = xc.colwise().sum().transpose();

    RegimeMoments pos, neg;
    pos.n = rhs.rightCols(f).colwise().sum();
    neg.n = Eigen::RowVectorXd::Constant(f, m) - pos.n;
    const Eigen::RowVectorXd pos_sum_y = rhs.middleCols(f, f).colwise().sum();
    const Eigen::RowVectorXd pos_sum_yy = (rhs.leftCols(f).cwiseProduct(rhs.middleCols(f, f))).colwise().sum();
    finish_block(pos, xbar, ybar, prod.rightCols(f), pos_sum_y, prod.middleCols(f, f), pos_sum_yy);
    finish_block(neg, xbar, ybar, (-prod.rightCols(f)).colwise() + sum_x, sum_y - pos_sum_y,
                 prod.leftCols(f) - prod.middleCols(f, f), sum_yy - pos_sum_yy);
    positive.merge(pos);
    negative.merge(neg);
    if (with_input_covariance) {
      Eigen::MatrixXd cxx(k, k);
      cxx.noalias() = xc.transpose() * xc;
      cxx -= sum_x * sum_x.transpose() / m;
      merge_input(m, xbar.transpose() + sum_x / m, cxx);
    }
    count += m;
  }

  // Turns centred sums of one regime within a block into moments:
  // n_r, E_r[x] = xbar + Sx/n, E_r[y] = ybar + Sy/n, C = Sxy - Sx Sy/n, V = Syy - Sy^2/n.
  template <class SX, class SXY>
  static void finish_block(RegimeMoments& r, const Eigen::RowVectorXd& xbar, const Eigen::RowVectorXd& ybar,
                           const SX& sx_expr, const Eigen::RowVectorXd& sy, const SXY& sxy_expr,
                           const Eigen::RowVectorXd& syy) {
    const Eigen::MatrixXd sx = sx_expr, sxy = sxy_expr;
    const Eigen::RowVectorXd inv_n = (r.n.array() > 0).select(1.0 / r.n.array(), 0.0);
    r.mean_x = (sx.array().rowwise() * inv_n.array()).matrix();
    for (Index f = 0; f < sx.cols(); ++f) {
      if (r.n(f) > 0) r.mean_x.col(f) += xbar.transpose();
    }
    r.mean_y = ((sy.array() * inv_n.array()) + (r.n.array() > 0).cast<double>() * ybar.array()).matrix();
    r.c_xy = sxy - (sx.array().rowwise() * (sy.array() * inv_n.array())).matrix();
    r.c_yy = (syy.array() - sy.array().square() * inv_n.array()).matrix();
  }

  void merge_input(double nb, const Eigen::VectorXd& mean_b, const Eigen::MatrixXd& c_b) {
    const double total = count + nb;
    if (nb == 0) return;
    const Eigen::VectorXd d = mean_b - mean_x;
    c_xx += c_b + d * d.transpose() * (count * nb / total);
    mean_x += d * (nb / total);
  }
};

}  // namespace patternnet
