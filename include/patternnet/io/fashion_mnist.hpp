#pragma once
// The Fashion-MNIST data set (Xiao et al. 2017): 60000 training and 10000 test images,
// 28 x 28 grey levels, 10 classes, as four IDX files (see idx.hpp). Optional component:
// link patternnet::idx (zlib).
//
// Where the files are looked for, first match wins:
//   1. the directory passed to the function (if not empty),
//   2. the environment variable PATTERNNET_FASHION_MNIST_DIR (if set and not empty),
//   3. /usr/share/datasets/fashion-mnist, where Debian's package dataset-fashion-mnist
//      installs them.
// Each file may be gzip-compressed (name + ".gz", preferred) or plain.

#include <patternnet/io/idx.hpp>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

namespace patternnet::io {

inline constexpr const char* kFashionMnistEnvironment = "PATTERNNET_FASHION_MNIST_DIR";
inline constexpr const char* kFashionMnistDefaultDirectory = "/usr/share/datasets/fashion-mnist";

/// Class names, indexed by label.
inline constexpr std::array<std::string_view, 10> kFashionMnistClasses{
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

enum class Split { train, test };

/// The directory the data is read from: `dir` if not empty, else the environment
/// variable, else the default (see the file comment). The directory need not exist.
[[nodiscard]] inline std::filesystem::path fashion_mnist_directory(const std::filesystem::path& dir = {}) {
  if (!dir.empty()) return dir;
  const char* env = std::getenv(kFashionMnistEnvironment);
  if (env != nullptr && *env != '\0') return env;
  return kFashionMnistDefaultDirectory;
}

}  // namespace patternnet::io

namespace patternnet::detail::idx {

/// The path of one of the four files ("train-images-idx3-ubyte[.gz]", ...); throws Error
/// saying what was looked for and how to install the data set if neither form exists.
[[nodiscard]] inline std::filesystem::path fashion_mnist_file(const std::filesystem::path& dir, io::Split split,
                                                              std::string_view kind) {
  const std::string name = fmt::format("{}-{}-ubyte", split == io::Split::train ? "train" : "t10k", kind);
  for (const std::string& candidate : {name + ".gz", name}) {
    if (std::filesystem::is_regular_file(dir / candidate)) return dir / candidate;
  }
  fail<Error>(
      "load_fashion_mnist(): '{}' holds neither {}.gz nor {}. Install the data set: on Debian / Ubuntu "
      "`sudo apt-get install dataset-fashion-mnist` (it installs to {}); or download the four files from "
      "https://github.com/zalandoresearch/fashion-mnist and pass their directory or set {}",
      dir.string(), name, name, io::kFashionMnistDefaultDirectory, io::kFashionMnistEnvironment);
}

}  // namespace patternnet::detail::idx

namespace patternnet::io {

/// Loads the training (60000) or test (10000) split: images of shape {1, 28, 28} scaled
/// to [0, 1] (byte / 255, see read_idx_images) and labels 0..9 (kFashionMnistClasses).
/// `dir` overrides the directory (see fashion_mnist_directory()). Throws Error if the
/// files are missing (naming the package to install) and FormatError if they are
/// malformed or not 28 x 28 images with labels in 0..9.
template <class T>
[[nodiscard]] LabelledImages<T> load_fashion_mnist(Split split, const std::filesystem::path& dir = {}) {
  const std::filesystem::path where = fashion_mnist_directory(dir);
  const auto images = detail::idx::fashion_mnist_file(where, split, "images-idx3");
  const auto labels = detail::idx::fashion_mnist_file(where, split, "labels-idx1");
  LabelledImages<T> data = read_idx<T>(images, labels);
  if (!(data.images.shape == Shape{1, 28, 28})) {
    detail::fail<FormatError>("load_fashion_mnist(): '{}' holds {}x{} images, expected 28x28",
                                          images.string(), data.images.shape.h, data.images.shape.w);
  }
  for (std::size_t j = 0; j < data.labels.size(); ++j) {
    if (data.labels[j] >= static_cast<Index>(kFashionMnistClasses.size())) {
      detail::fail<FormatError>("load_fashion_mnist(): '{}' has label {} at position {}, expected 0..9",
                                            labels.string(), data.labels[j], j);
    }
  }
  return data;
}

}  // namespace patternnet::io
