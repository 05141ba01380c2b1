#include "inputs.hpp"

#include "usage_error.hpp"

#include <patternnet/io/idx.hpp>
#include <patternnet/io/model_file.hpp>
#include <patternnet/io/npy.hpp>
#ifdef PATTERNNET_CLI_ONNX
#include <patternnet/io/onnx.hpp>
#endif

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <system_error>

namespace patternnet::cli {

namespace fs = std::filesystem;

namespace {

/// The first n bytes of a file (fewer if it is shorter); throws Error if it cannot be read.
std::string first_bytes(const fs::path& path, std::size_t n, const char* what) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) detail::fail<Error>("cannot read {} '{}': it is a directory", what, path.string());
  std::ifstream in(path, std::ios::binary);
  if (!in) detail::fail<Error>("cannot open {} '{}'", what, path.string());
  std::string bytes(n, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(n));
  bytes.resize(static_cast<std::size_t>(in.gcount()));
  return bytes;
}

std::string lower_extension(const fs::path& p) {
  std::string e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return e;
}

bool is_image_file(const fs::path& p) {
  static constexpr std::array<std::string_view, 2> extensions{".png", ".bmp"};
  return std::find(extensions.begin(), extensions.end(), lower_extension(p)) != extensions.end();
}

/// The samples of an array file as `shape`: equal shapes, or (N, C*H*W) arrays.
Batch<float> as_shape(Batch<float> x, Shape shape, const fs::path& file) {
  if (x.shape == shape) return x;
  if (x.shape.h == 1 && x.shape.w == 1 && x.shape.c == shape.size()) return Batch<float>(shape, std::move(x.data));
  detail::fail<ShapeError>("'{}' holds samples of shape {}, the model's input is {}", file.string(), x.shape, shape);
}

/// torchvision's Normalize on [0, 1] values, channel c with mean[c], std[c] (c < 3; a
/// single-channel input uses mean[0], std[0]).
void normalize(Batch<float>& x, const io::Normalization& norm) {
  if (x.shape.c > 3) return;
  const Index plane = x.shape.h * x.shape.w;
  for (Index c = 0; c < x.shape.c; ++c) {
    const auto k = static_cast<std::size_t>(c);
    x.data.middleRows(c * plane, plane).array() =
        (x.data.middleRows(c * plane, plane).array() - static_cast<float>(norm.mean[k])) / static_cast<float>(norm.std[k]);
  }
}

}  // namespace

Graph<float> load_network(const fs::path& path) {
  const std::string head = first_bytes(path, io::kModelMagic.size(), "model");
  const auto& magic = io::kModelMagic;
  Graph<float> net;
  if (head == std::string(magic.begin(), magic.end())) {
    net = io::load_model<float>(path);
  } else {
#ifdef PATTERNNET_CLI_ONNX
    net = io::load_onnx<float>(path);
#else
    detail::fail<FormatError>("model '{}' is not a patternnet model file, and this build of patternnet reads no ONNX "
                              "(it was built without the onnx component: libonnx-dev, libprotobuf-dev)", path.string());
#endif
  }
  if (!net.ready()) {
    detail::fail<FormatError>("model '{}' stores no input shape: save it from a network bound with set_input_shape()",
                              path.string());
  }
  return net;
}

Inputs load_inputs(const std::vector<fs::path>& paths, Shape shape, const InputOptions& options) {
  for (const double s : options.norm.std) {
    if (!(s > 0) || !std::isfinite(s)) usage_error("--std must be positive, got {}", s);
  }
  std::vector<Matrix<float>> parts;
  Inputs in;
  Index count = 0;
  const auto room = [&] { return options.limit < 0 ? std::numeric_limits<Index>::max() : options.limit - count; };
  const auto add = [&](Batch<float> x, const fs::path& file, bool several) {
    const Index n = std::min(x.size(), room());
    for (Index j = 0; j < n; ++j) {
      in.names.push_back(several ? fmt::format("{}_{}", file.stem().string(), j) : file.stem().string());
    }
    parts.push_back(x.data.leftCols(n));
    count += n;
  };
  std::vector<io::Image> images;
  std::vector<fs::path> image_files;
  const auto flush_images = [&] {
    if (images.empty()) return;
    const Batch<float> x = io::image_batch<float>(images, shape, options.norm);
    for (Index j = 0; j < x.size(); ++j) in.names.push_back(image_files[static_cast<std::size_t>(j)].stem().string());
    parts.push_back(x.data);
    count += x.size();
    images.clear();
    image_files.clear();
  };
  const auto add_image = [&](const fs::path& file) {
    if (room() <= 0) return;
    if (shape.c != 1 && shape.c != 3) {
      detail::fail<ShapeError>("image '{}': the model's input {} is not an image (1 or 3 channels)", file.string(), shape);
    }
    images.push_back(io::resize(io::read_image(file), shape.w, shape.h));
    image_files.push_back(file);
  };
  for (const fs::path& path : paths) {
    if (room() <= 0) break;
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<fs::path> files;
      for (const auto& entry : fs::directory_iterator(path)) {
        if (entry.is_regular_file() && is_image_file(entry.path())) files.push_back(entry.path());
      }
      if (files.empty()) detail::fail<Error>("directory '{}' holds no image files (.png, .bmp)", path.string());
      std::sort(files.begin(), files.end());
      for (const fs::path& f : files) add_image(f);
      continue;
    }
    const std::string head = first_bytes(path, 4, "input");
    const bool idx = head.size() == 4 && head[0] == 0 && head[1] == 0 && head[2] == 0x08;
    const bool gzip = head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x1f && static_cast<unsigned char>(head[1]) == 0x8b;
    if (lower_extension(path) == ".npy") {
      flush_images();
      add(as_shape(io::load_npy<float>(path), shape, path), path, true);
    } else if (idx || gzip) {
      flush_images();
      Batch<float> x = as_shape(io::read_idx_images<float>(path), shape, path);
      normalize(x, options.norm);
      add(std::move(x), path, true);
    } else {
      add_image(path);
    }
  }
  flush_images();
  if (count == 0) detail::fail<ConfigError>("no inputs: {}", options.limit == 0 ? "--limit is 0" : "no input files given");
  in.x = Batch<float>(shape, count);
  Index at = 0;
  for (const Matrix<float>& p : parts) {
    in.x.data.middleCols(at, p.cols()) = p;
    at += p.cols();
  }
  return in;
}

std::optional<long long> parse_integer(const std::string& text) {
  std::size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (used != text.size() || text.empty() || std::isspace(static_cast<unsigned char>(text[0]))) return std::nullopt;
  return v;
}

std::vector<Index> load_classes(const fs::path& file, Index count, Index outputs) {
  const std::string head = first_bytes(file, 4, "classes file");
  const bool idx = head.size() == 4 && head[0] == 0 && head[1] == 0 && head[2] == 0x08;
  const bool gzip = head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x1f && static_cast<unsigned char>(head[1]) == 0x8b;
  std::vector<Index> classes;
  std::vector<Index> lines;  // of a text file's classes, for the messages
  if (idx || gzip) {
    classes = io::read_idx_labels(file);
  } else {
    std::ifstream in(file);
    std::string line;
    for (Index number = 1; static_cast<Index>(classes.size()) < count && std::getline(in, line); ++number) {
      for (std::size_t start = 0; start <= line.size();) {
        const std::size_t end = std::min(line.find(',', start), line.size());
        std::string part = line.substr(start, end - start);
        start = end + 1;
        part.erase(0, part.find_first_not_of(" \t\r"));
        part.erase(part.find_last_not_of(" \t\r") + 1);
        if (part.empty()) continue;
        const std::optional<long long> c = parse_integer(part);
        if (!c) detail::fail<FormatError>("classes file '{}', line {}: '{}' is not a class index", file.string(), number, part);
        classes.push_back(static_cast<Index>(*c));
        lines.push_back(number);
      }
    }
  }
  if (static_cast<Index>(classes.size()) < count) {
    detail::fail<Error>("classes file '{}' has {} classes for {} inputs", file.string(), classes.size(), count);
  }
  classes.resize(static_cast<std::size_t>(count));
  for (std::size_t k = 0; k < classes.size(); ++k) {
    if (classes[k] < 0 || classes[k] >= outputs) {
      detail::fail<Error>("classes file '{}', {} {}: class {} is out of range: the model has {} outputs", file.string(),
                          lines.empty() ? "entry" : "line", lines.empty() ? static_cast<Index>(k) : lines[k], classes[k], outputs);
    }
  }
  return classes;
}

std::array<double, 3> per_channel(const std::string& option, const std::string& text) {
  std::vector<double> v;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    const std::string part = text.substr(start, end - start);
    std::size_t used = 0;
    try {
      v.push_back(std::stod(part, &used));
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != part.size()) usage_error("{}: '{}' is not a number", option, part);
    start = end + 1;
  }
  if (v.size() == 1) return {v[0], v[0], v[0]};
  if (v.size() != 3) usage_error("{} takes 1 or 3 comma-separated values, got {}", option, v.size());
  return {v[0], v[1], v[2]};
}

}  // namespace patternnet::cli
