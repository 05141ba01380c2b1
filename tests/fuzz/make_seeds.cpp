// Writes the seed corpora of the fuzz targets with the library's own writers:
// make_seeds DIR  ->  DIR/model_file/, DIR/pattern_file/, DIR/moments_file/, DIR/idx/ (plain and gzip).
#include <patternnet/estimators/fit.hpp>
#include <patternnet/estimators/filter.hpp>
#include <patternnet/estimators/random.hpp>
#include <patternnet/io/model_file.hpp>
#include <patternnet/io/moments_file.hpp>
#include <patternnet/io/pattern_file.hpp>
#include <patternnet/network/sequential.hpp>
#include <patternnet/training/initialization.hpp>

#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

namespace pn = patternnet;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& path, const std::vector<unsigned char>& bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                              static_cast<std::streamsize>(bytes.size()));
}

/// The bytes as a gzip file (what Fashion-MNIST's .gz files are), so that the IDX target
/// also mutates gzip streams.
void write_gzip(const fs::path& path, const std::vector<unsigned char>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  if (f == nullptr || gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) != static_cast<int>(bytes.size()) ||
      gzclose(f) != Z_OK) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    std::exit(1);
  }
}

/// An IDX file: magic 0 0 8 dims, big-endian sizes, then `count` bytes of data.
std::vector<unsigned char> idx(std::vector<unsigned> dims) {
  std::vector<unsigned char> b{0, 0, 8, static_cast<unsigned char>(dims.size())};
  std::size_t count = 1;
  for (const unsigned d : dims) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<unsigned char>(d >> s));
    count *= d;
  }
  for (std::size_t i = 0; i < count; ++i) b.push_back(static_cast<unsigned char>(i * 37));
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds DIR\n");
    return 2;
  }
  const fs::path dir = argv[1];
  for (const char* d : {"model_file", "pattern_file", "moments_file", "idx"}) fs::create_directories(dir / d);

  // Every layer type: a chain, and a graph with Add, Concat, BatchNorm and pooling.
  pn::Sequential<float> chain{pn::Conv2D<float>{1, 2, 3}, pn::ReLU<float>{}, pn::MaxPool2D<float>{2},
                              pn::Flatten<float>{}, pn::Dense<float>{8, 3}, pn::Softmax<float>{}};
  chain.set_input_shape({1, 6, 6});
  pn::training::initialize_he(chain, 1);
  pn::io::save_model(chain, dir / "model_file" / "chain.pnm");
  pn::Graph<float> g;
  const auto stem = g.add(pn::Conv2D<float>(1, 2, 3, pn::Padding{1}), g.input, "stem");
  const auto bn = g.add(pn::BatchNorm2D<float>(2), stem, "bn");
  const auto sum = g.add(pn::Add<float>{}, {bn, stem}, "add");
  const auto p1 = g.add(pn::AvgPool2D<float>(2), sum);
  const auto p2 = g.add(pn::AvgPool2D<float>(3, pn::Stride{2}, pn::Padding{1}, pn::CountIncludePad{false}), stem);
  const auto cat = g.add(pn::Concat<float>{}, {p1, p2}, "concat");
  g.add(pn::Dense<float>(4, 2), g.add(pn::GlobalAvgPool2D<float>{}, cat));
  g.set_input_shape({1, 4, 4});
  pn::training::initialize_he(g, 2);
  pn::io::save_model(g, dir / "model_file" / "graph.pnm");

  // Patterns of the fuzz target's network (conv 1->2 3x3 on 1x4x4, flatten, dense 8->3).
  pn::Sequential<float> net{pn::Conv2D<float>{1, 2, 3}, pn::ReLU<float>{}, pn::Flatten<float>{},
                            pn::Dense<float>{8, 3}};
  net.set_input_shape({1, 4, 4});
  pn::training::initialize_he(net, 3);
  pn::io::save_patterns(pn::fit_patterns<pn::estimators::Filter>(net), dir / "pattern_file" / "filter.pnp");
  pn::io::save_patterns(pn::fit_patterns<pn::estimators::Random>(net), dir / "pattern_file" / "random.pnp");
  // Its moments on 5 random inputs, without and with the input covariance.
  pn::Batch<float> x({1, 4, 4}, 5);
  x.data.setRandom();
  for (const bool covariance : {false, true}) {
    pn::MomentOptions o;
    o.input_covariance = covariance;
    pn::io::save_moments(pn::compute_moments(net, pn::batches(x, 2), o), net,
                         dir / "moments_file" / (covariance ? "covariance.pnm" : "plain.pnm"));
  }

  write(dir / "idx" / "images.idx", idx({3, 4, 5}));
  write(dir / "idx" / "labels.idx", idx({3}));
  write_gzip(dir / "idx" / "images.idx.gz", idx({3, 4, 5}));
  write_gzip(dir / "idx" / "labels.idx.gz", idx({3}));
  std::printf("seeds written to %s\n", dir.c_str());
  return 0;
}
