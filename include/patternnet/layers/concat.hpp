#pragma once
// Concatenation of two or more inputs along the channel axis (torch.cat(dim=1)).

#include <patternnet/core/batch.hpp>
#include <patternnet/layers/traits.hpp>

#include <span>
#include <string_view>
#include <vector>

namespace patternnet {

/// Stacks inputs of shapes C_k x H x W into (sum C_k) x H x W. Samples are stored in C, H, W
/// order, so this stacks the inputs' rows. Rules see it through concat(); every rule splits
/// the backward quantity back into the inputs' rows (split()).
template <class T>
class Concat {
public:
  using Scalar = T;
  static constexpr std::string_view name = "Concat";
  static constexpr LayerCategory category = LayerCategory::merge;
  static constexpr std::uint32_t tag = 10;
  static constexpr Index arity = kAnyArity;
  using Cache = NoCache;

  /// Rules see a concatenation through their concat() hook.
  template <class R, class Ctx>
  [[nodiscard]] static auto rule_hook(const R& rule, const Concat& layer, const Ctx& ctx,
                                                        const Matrix<T>& r)
      -> decltype(rule.concat(layer, ctx, r)) {
    return rule.concat(layer, ctx, r);
  }

  Shape bind(std::span<const Shape> in, Index index) {
    sizes_.clear();
    Index channels = 0;
    for (std::size_t k = 0; k < in.size(); ++k) {
      if (in[k].h != in[0].h || in[k].w != in[0].w) {
        detail::fail<ShapeError>("layer {} (Concat): input {} has shape {}, input 0 has shape {} (only the channels "
                                 "may differ)", index, k, in[k], in[0]);
      }
      channels += in[k].c;
      sizes_.push_back(in[k].size());
    }
    return Shape{channels, in[0].h, in[0].w};
  }

  [[nodiscard]] Matrix<T> forward(std::span<const Matrix<T>* const> x) const {
    Matrix<T> z(rows(), x[0]->cols());
    Index row = 0;
    for (const Matrix<T>* xk : x) {
      z.middleRows(row, xk->rows()) = *xk;
      row += xk->rows();
    }
    return z;
  }

  /// The adjoint of forward(): r split into the inputs' rows.
  [[nodiscard]] std::vector<Matrix<T>> split(const Matrix<T>& r) const {
    std::vector<Matrix<T>> out;
    out.reserve(sizes_.size());
    Index row = 0;
    for (const Index n : sizes_) {
      out.emplace_back(r.middleRows(row, n));
      row += n;
    }
    return out;
  }

private:
  [[nodiscard]] Index rows() const {
    Index n = 0;
    for (const Index s : sizes_) n += s;
    return n;
  }

  std::vector<Index> sizes_;
};

}  // namespace patternnet
