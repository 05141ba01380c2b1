// The whole path a user takes: a CNN trained in PyTorch (make_fashion_cnn.py), exported to
// ONNX, explained on PNG files read and normalised by the library, against PyTorch on the
// same files decoded by PIL.
#include "onnx/pytorch_reference.hpp"
#include "support.hpp"

#include <patternnet/io/image_file.hpp>
#include <patternnet/io/npy.hpp>
#include <patternnet/io/onnx.hpp>
#include <patternnet/patternnet.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>


TEST_CASE("ONNX + PNG: a Fashion-MNIST CNN trained in PyTorch gives PyTorch's logits and gradients on PNG files") {
  const std::string data = PATTERNNET_TEST_DATA;
  const auto net = pn::io::load_onnx<float>(data + "/onnx/fashion_cnn.onnx");
  REQUIRE(net.input_shape() == pn::Shape{1, 28, 28});
  std::vector<pn::io::Image> images;
  for (int k = 0; k < 10; ++k) {
    for (const auto& entry : std::filesystem::directory_iterator(data + "/images")) {
      if (entry.path().filename().string().starts_with("fashion_" + std::to_string(k) + "_")) {
        images.push_back(pn::io::read_image(entry.path()));
      }
    }
  }
  REQUIRE(images.size() == 10);
  pn::io::Normalization norm;  // make_fashion_cnn.py's MEAN and STD
  norm.mean[0] = 0.2860;
  norm.std[0] = 0.3530;
  const auto x = pn::io::image_batch<float>(images, net.input_shape(), norm);
  const auto logits = pn::io::load_npy<float>(data + "/onnx/fashion_cnn.logits.npy");
  const auto grad = pn::io::load_npy<float>(data + "/onnx/fashion_cnn.grad.npy");

  const auto out = net.forward(x);
  CHECK(support::scaled_error(out.data, logits.data) <= 1e-5);
  for (pn::Index j = 0; j < 10; ++j) {
    pn::Index ours = 0, theirs = 0;
    out.data.col(j).maxCoeff(&ours);
    logits.data.col(j).maxCoeff(&theirs);
    CHECK(ours == theirs);
  }
  const auto e = pn::explain(net, pn::rules::Gradient{}, x);
  CHECK(support::scaled_error(e.attribution.data, grad.data) <= 1e-5);
}
