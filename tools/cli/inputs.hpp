#pragma once
// What the tool reads: a model (a patternnet model file or, when built with the onnx
// component, an ONNX file; told apart by their first bytes) and inputs (image files or
// directories of them, IDX image files, .npy arrays), turned into one batch of the model's
// input shape.

#include <patternnet/core/batch.hpp>
#include <patternnet/io/image_file.hpp>
#include <patternnet/network/graph.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace patternnet::cli {

/// The network in `path`, bound to its input shape. Throws Error naming the file.
[[nodiscard]] Graph<float> load_network(const std::filesystem::path& path);

struct InputOptions {
  /// torchvision's Normalize for images and IDX files, whose pixels are first scaled to
  /// [0, 1] (ToTensor); .npy arrays are taken as they are.
  io::Normalization norm;
  /// At most this many samples (-1: all), in the order of the paths.
  Index limit = -1;
};

/// A batch of inputs and a name per sample: the file's stem for an image, "<stem>_<k>"
/// for sample k of an IDX or .npy file.
struct Inputs {
  Batch<float> x;
  std::vector<std::string> names;
};

/// The inputs in `paths`, in the model's input `shape`:
///   - a directory: its .png and .bmp files, by name;
///   - a .npy file: float32 / float64 of shape (N, C, H, W), (N, H, W) or (N, C*H*W);
///   - an IDX image file, plain or gzip (told by its first bytes, as Fashion-MNIST's);
///   - any other file: a PNG or BMP image (io::read_image; other formats are refused),
///     resized to the input's width and height.
/// Throws Error / FormatError naming the file, ShapeError for samples of another shape.
[[nodiscard]] Inputs load_inputs(const std::vector<std::filesystem::path>& paths, Shape shape,
                                 const InputOptions& options = {});

/// The class of each input, in the order of the inputs: an IDX label file (plain or gzip,
/// told by its first bytes, as Fashion-MNIST's) or a text file of class indices separated
/// by newlines or commas. The first `count` are returned. Throws Error / FormatError naming
/// the file (and the line of a text file) for fewer than `count` classes, or one that is
/// not an index in [0, outputs).
[[nodiscard]] std::vector<Index> load_classes(const std::filesystem::path& file, Index count, Index outputs);

/// The integer `text` is, all of it (no sign or space around it other than a leading '-'),
/// or nothing.
[[nodiscard]] std::optional<long long> parse_integer(const std::string& text);

/// "0.5" or "0.485,0.456,0.406": one value for every channel, or one per RGB channel.
/// Throws UsageError naming `option`.
[[nodiscard]] std::array<double, 3> per_channel(const std::string& option, const std::string& text);

}  // namespace patternnet::cli
