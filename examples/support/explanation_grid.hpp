#pragma once
// The figure the Fashion-MNIST examples share: rows = test images (the first of each
// class), columns = methods, signals in input colours and attributions as heat maps.
// Not part of the library. Link patternnet::idx and patternnet::image.

#include <patternnet/io/fashion_mnist.hpp>
#include <patternnet/io/image_grid.hpp>
#include <patternnet/network/explain.hpp>

#include <fmt/format.h>

#include <functional>
#include <string>
#include <vector>

namespace examples {

namespace pn = patternnet;

/// One column of the figure: how to explain a batch, and how to show the result.
struct Method {
  enum class Kind { signal, heatmap };
  std::string title;  // "\n" breaks the column title
  Kind kind;
  std::function<pn::Batch<float>(const pn::Batch<float>&)> explain;
};

/// A rule or composite as a column: explain() of the predicted class. `net` must outlive it.
template <class R>
Method column(std::string title, Method::Kind kind, const pn::Graph<float>& net, R rule) {
  return {std::move(title), kind,
          [&net, rule = std::move(rule)](const pn::Batch<float>& x) { return pn::explain(net, rule, x).attribution; }};
}

/// The first image of each of the ten classes of `set`, as indices into it.
inline std::vector<pn::Index> first_of_each_class(const pn::io::LabelledImages<float>& set) {
  std::vector<pn::Index> picked;
  for (pn::Index c = 0; c < 10; ++c) {
    for (pn::Index j = 0; j < set.images.size(); ++j) {
      if (set.labels[static_cast<std::size_t>(j)] == c) {
        picked.push_back(j);
        break;
      }
    }
  }
  return picked;
}

/// The images `picked` of `set` as one batch.
inline pn::Batch<float> gather(const pn::io::LabelledImages<float>& set, const std::vector<pn::Index>& picked) {
  pn::Batch<float> x(set.images.shape, static_cast<pn::Index>(picked.size()));
  for (std::size_t i = 0; i < picked.size(); ++i) x.data.col(static_cast<pn::Index>(i)) = set.images.data.col(picked[i]);
  return x;
}

/// The grid: the input and every method's result for each picked image, labelled with the
/// true and predicted class (red when wrong), and the two colour legends.
/// `probabilities` are the network's outputs for x (classes x images).
inline pn::io::ImageGrid explanation_grid(std::string title, const pn::io::LabelledImages<float>& set,
                                          const std::vector<pn::Index>& picked, const pn::Batch<float>& x,
                                          const pn::Matrix<float>& probabilities, const std::vector<Method>& methods,
                                          const std::vector<pn::Batch<float>>& results) {
  pn::io::ImageGrid grid;
  grid.title = std::move(title);
  grid.tile_scale = 4;
  grid.columns.push_back("input");
  for (const Method& m : methods) grid.columns.push_back(m.title);
  for (std::size_t i = 0; i < picked.size(); ++i) {
    const auto j = static_cast<pn::Index>(i);
    pn::Index predicted = 0;
    const float confidence = probabilities.col(j).maxCoeff(&predicted);
    const pn::Index truth = set.labels[static_cast<std::size_t>(picked[i])];
    pn::io::GridRow row;
    row.label = {fmt::format("test image {}", picked[i]), fmt::format("true: {}", pn::io::kFashionMnistClasses[truth]),
                 fmt::format("predicted: {}", pn::io::kFashionMnistClasses[predicted]),
                 fmt::format("confidence {:.1f} %", 100 * confidence)};
    if (predicted != truth) row.label_color = "#c00";
    row.tiles.push_back(pn::io::input_image(x.sample(j), x.shape));
    for (std::size_t k = 0; k < methods.size(); ++k) {
      const auto sample = results[k].sample(j);
      row.tiles.push_back(methods[k].kind == Method::Kind::signal ? pn::io::signal_image(sample, x.shape)
                                                                  : pn::io::heatmap_image(sample, x.shape));
    }
    grid.rows.push_back(std::move(row));
  }
  grid.legends.push_back({"signals (grey): x / (2 max|x|) + 1/2", pn::io::signal_colorbar(300, 14), "-max|x|", "0", "+max|x|"});
  grid.legends.push_back({"heat maps: contribution per pixel", pn::io::heatmap_colorbar(300, 14), "-max|r|", "0", "+max|r|"});
  return grid;
}

}  // namespace examples
