// The patternnet command-line tool end to end, on the committed Fashion-MNIST CNN (an ONNX
// export from PyTorch) and its ten PNGs: what each command writes equals what the library's
// API computes on the same inputs, and bad invocations fail with a one-line message and
// the documented exit status (2 usage, 1 failure), leaving earlier outputs intact.
#include "files.hpp"
#include "support.hpp"

#include <patternnet/io/image_file.hpp>
#include <patternnet/io/npy.hpp>
#include <patternnet/io/onnx.hpp>
#include <patternnet/io/pattern_file.hpp>
#include <patternnet/network/summary.hpp>
#include <patternnet/patternnet.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>

namespace fs = std::filesystem;

namespace {

const std::string data = PATTERNNET_TEST_DATA;
const std::string model = data + "/onnx/fashion_cnn.onnx";
const std::string images = data + "/images";
const std::string norm = "--mean 0.2860 --std 0.3530";

struct Run {
  int status = -1;
  std::string out, err;
};

/// Runs `patternnet ARGS` (quiet on stderr unless it fails), capturing both streams.
Run run_cli(const support::TempDir& dir, const std::string& args) {
  const fs::path out = dir.path / "stdout.txt", err = dir.path / "stderr.txt";
  const std::string command =
      fmt::format("'{}' {} > '{}' 2> '{}'", PATTERNNET_CLI, args, out.string(), err.string());
  const int raw = std::system(command.c_str());
  Run r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  const auto o = support::read_bytes(out), e = support::read_bytes(err);
  r.out.assign(o.begin(), o.end());
  r.err.assign(e.begin(), e.end());
  return r;
}

/// The ten PNGs in file-name order, normalised like the CLI's --mean 0.2860 --std 0.3530.
pn::Batch<float> reference_inputs(pn::Shape shape) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(images)) {
    if (entry.path().extension() == ".png") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<pn::io::Image> decoded;
  for (const auto& f : files) decoded.push_back(pn::io::read_image(f));
  pn::io::Normalization n;
  n.mean[0] = 0.2860;
  n.std[0] = 0.3530;
  return pn::io::image_batch<float>(decoded, shape, n);
}

int lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

}  // namespace

TEST_CASE("info lists every node and the nodes that get patterns") {
  support::TempDir dir;
  const auto net = pn::io::load_onnx<float>(model);
  const Run r = run_cli(dir, "info " + model);
  REQUIRE(r.status == 0);
  CHECK(r.err.empty());
  CHECK_THAT(r.out, Catch::Contains(fmt::format("{} nodes, input {}, 10 outputs", net.size(), net.input_shape())));
  std::vector<pn::Index> linear;
  pn::for_each_linear(net, [&](pn::Index n, const auto&) { linear.push_back(n); });
  CHECK_THAT(r.out, Catch::Contains(fmt::format("for the {} Dense and Conv2D nodes: {}\n", linear.size(),
                                                fmt::join(linear, ", "))));
  CHECK_THAT(r.out, Catch::Contains(pn::summary(net)));
}

TEST_CASE("fit, explain and rho give the API's numbers on the same PNGs") {
  support::TempDir dir;
  const auto net = pn::io::load_onnx<float>(model);
  const pn::Batch<float> x = reference_inputs(net.input_shape());
  const fs::path patterns_file = dir.path / "cnn.pnp", out = dir.path / "out";

  // fit: the two-component patterns of one pass, batch 4 (three batches, the last partial).
  const Run fit = run_cli(dir, fmt::format("fit {} {} {} --batch 4 -o {}", model, images, norm, patterns_file.string()));
  REQUIRE(fit.status == 0);
  CHECK_THAT(fit.out, Catch::Contains("fitted the S_a+- patterns of"));
  CHECK_THAT(fit.out, Catch::Contains("on 10 inputs"));
  const auto patterns = pn::io::load_patterns(patterns_file, net);
  const auto expected = pn::fit_patterns<pn::estimators::TwoComponent>(net, pn::batches(x, 4));
  REQUIRE(patterns.layers().size() == expected.layers().size());
  for (std::size_t l = 0; l < expected.layers().size(); ++l) {
    CHECK(patterns.layers()[l].a == expected.layers()[l].a);
    CHECK(patterns.layers()[l].a_neg == expected.layers()[l].a_neg);
  }

  // explain: PatternAttribution and two methods more, one .npy and one PNG per input and method.
  const Run ex = run_cli(dir, fmt::format("explain {} {} {} --methods pattern-attribution,gradient,epsilon-plus-flat "
                                             "--patterns {} --zoom 2 -o {} --labels {}/fashion_labels.txt",
                                             model, images, norm, patterns_file.string(), out.string(), images));
  REQUIRE(ex.status == 0);
  CHECK(lines(ex.out) == 11);
  CHECK_THAT(ex.out, Catch::Contains("fashion_7_Sneaker: Sneaker (p = "));
  const auto pa = pn::explain(net, pn::rules::PatternAttribution<float>{patterns}, x);
  const auto grad = pn::explain(net, pn::rules::Gradient{}, x);
  const auto lrp = pn::explain(net, pn::composites::EpsilonPlusFlat{}, x);
  const std::string names[] = {"fashion_0_T-shirt-top", "fashion_4_Coat", "fashion_9_Ankle-boot"};
  const pn::Index columns[] = {0, 4, 9};
  for (int k = 0; k < 3; ++k) {
    const std::string stem = (out / names[k]).string();
    const auto a = pn::io::load_npy<float>(stem + ".pattern-attribution.npy");
    REQUIRE(a.shape == x.shape);
    REQUIRE(a.size() == 1);
    CHECK(a.data.col(0) == pa.attribution.data.col(columns[k]));
    CHECK(pn::io::load_npy<float>(stem + ".gradient.npy").data.col(0) == grad.attribution.data.col(columns[k]));
    CHECK(pn::io::load_npy<float>(stem + ".epsilon-plus-flat.npy").data.col(0) == lrp.attribution.data.col(columns[k]));
    const auto png = pn::io::read_image(stem + ".pattern-attribution.png");
    CHECK(png.width == 56);
    CHECK(png.height == 56);
    CHECK(png.pixels == pn::io::upscale(pn::io::heatmap_image(pa.attribution.sample(columns[k]), x.shape), 2).pixels);
  }
  const auto svg = support::read_bytes(out / "grid.svg");
  const std::string svg_text(svg.begin(), svg.end());
  CHECK(svg_text.find("<svg") != std::string::npos);
  // 112-pixel tiles fit 16 characters: long method names are broken after a hyphen.
  CHECK(svg_text.find(">pattern-</text>") != std::string::npos);
  CHECK(svg_text.find(">attribution</text>") != std::string::npos);
  CHECK(svg_text.find(">epsilon-plus-</text>") != std::string::npos);
  CHECK(svg_text.find(">gradient</text>") != std::string::npos);

  // Another colour map, absolute normalisation and an overlay on the input: the PNG is the
  // library's heat map in that style blended over the greyscale input.
  const fs::path styled = dir.path / "styled";
  const Run st = run_cli(dir, fmt::format("explain {} {} {} --method epsilon-plus-flat --colormap reds --normalize absolute "
                                             "--overlay 0.6 -o {}", model, images, norm, styled.string()));
  REQUIRE(st.status == 0);
  for (int k = 0; k < 3; ++k) {
    const auto sample = x.sample(columns[k]);
    const auto input = pn::io::input_image(sample, x.shape, sample.minCoeff(), sample.maxCoeff());
    const auto heat = pn::io::heatmap_image(lrp.attribution.sample(columns[k]), x.shape, pn::io::Scale::per_image(),
                                            {pn::io::Colormap::reds, pn::io::HeatmapScaling::absolute});
    const auto png = pn::io::read_image((styled / names[k]).string() + ".epsilon-plus-flat.png");
    CHECK(png.pixels == pn::io::blend(heat, pn::io::greyscale(input), 0.6).pixels);
    CHECK(png.pixels != heat.pixels);
  }

  // Targets from a classes file (the true class k of fashion_k, in a line and comma mix):
  // the API's explanation of those classes, which differ from the argmax for most inputs.
  const fs::path classes = dir.path / "classes.txt";
  support::write_text(classes, "3, 1,2\n\n0\n4,5,6,7,8\n9\n");
  const Run tf = run_cli(dir, fmt::format("explain {} {} {} --method gradient --target-file {} -o {}", model, images, norm,
                                             classes.string(), (dir.path / "classes").string()));
  REQUIRE(tf.status == 0);
  const std::vector<pn::Index> true_classes{3, 1, 2, 0, 4, 5, 6, 7, 8, 9};
  const auto by_class = pn::explain(net, pn::rules::Gradient{}, x, pn::Target::indices(true_classes));
  for (int k = 0; k < 3; ++k) {
    CHECK(pn::io::load_npy<float>((dir.path / "classes" / names[k]).string() + ".gradient.npy").data.col(0) ==
          by_class.attribution.data.col(columns[k]));
  }
  CHECK(by_class.attribution.data.col(0) != grad.attribution.data.col(0));  // class 3, not the argmax 0
  // The same classes as an IDX label file (magic 0x00000801, count 10, one byte each).
  std::string idx_bytes{'\0', '\0', '\x08', '\x01', '\0', '\0', '\0', '\x0a'};
  for (const pn::Index c : true_classes) idx_bytes.push_back(static_cast<char>(c));
  support::write_text(dir.path / "classes.idx", idx_bytes);
  REQUIRE(run_cli(dir, fmt::format("explain {} {} {} --method gradient --target-file {} -o {}", model, images, norm,
                                    (dir.path / "classes.idx").string(), (dir.path / "classes_idx").string())).status == 0);
  CHECK(pn::io::load_npy<float>((dir.path / "classes_idx" / names[0]).string() + ".gradient.npy").data.col(0) ==
        by_class.attribution.data.col(0));

  // The same inputs as a .npy array give the same explanation.
  pn::io::save_npy(x, dir.path / "inputs.npy");
  const Run npy = run_cli(dir, fmt::format("explain {} {} --method gradient -o {}", model,
                                              (dir.path / "inputs.npy").string(), (dir.path / "npy").string()));
  REQUIRE(npy.status == 0);
  CHECK(pn::io::load_npy<float>(dir.path / "npy" / "inputs_4.gradient.npy").data.col(0) == grad.attribution.data.col(4));

  // rho as CSV: the API's means, printed to 6 significant digits.
  const Run rho = run_cli(dir, fmt::format("rho {} {} {} --patterns {} --format csv", model, images, norm,
                                              patterns_file.string()));
  REQUIRE(rho.status == 0);
  pn::MomentOptions mo;
  mo.input_covariance = true;
  const auto q = pn::signal_quality(net, patterns, pn::compute_moments(net, pn::batches(x, 256), mo));
  std::istringstream csv(rho.out);
  std::string line;
  std::getline(csv, line);
  CHECK(line == "layer,type,neurons,evaluated,constant,mean,sd,min,max,chance_floor");
  for (const auto& layer : q.layers) {
    REQUIRE(std::getline(csv, line));
    CHECK(line.starts_with(fmt::format("{},{},{},{},", layer.layer, layer.layer_type, layer.neurons, layer.evaluated.size())));
    std::vector<std::string> fields;
    std::istringstream row(line);
    for (std::string f; std::getline(row, f, ',');) fields.push_back(f);
    REQUIRE(fields.size() == 10);
    REQUIRE(layer.mean.has_value());
    CHECK(std::stod(fields[5]) == Approx(*layer.mean).epsilon(1e-5));
    CHECK(std::stod(fields[9]) == Approx(layer.chance_floor()).epsilon(1e-5));
  }
  CHECK_FALSE(std::getline(csv, line));
  // Ten images are fewer samples than the dense node's 784 inputs: warned, and its floor is 0.
  CHECK(q.layers.back().chance_floor() == 0);
  CHECK_THAT(rho.err, Catch::Contains("warning: node 10 (Dense): 10 samples for 784 inputs per neuron are too few"));
}

TEST_CASE("fit --shard on three shards, then merge, gives the patterns of one pass") {
  support::TempDir dir;
  const auto net = pn::io::load_onnx<float>(model);
  std::vector<std::string> parts;
  for (int i = 0; i < 3; ++i) {  // 10 inputs in batches of 2: shards of 4, 4 and 2 inputs
    const fs::path shard = dir.path / fmt::format("part{}.pnm", i);
    const Run r = run_cli(dir, fmt::format("fit {} {} {} --batch 2 --shard {}/3 -o {}", model, images, norm, i, shard.string()));
    REQUIRE(r.status == 0);
    CHECK_THAT(r.out, Catch::Contains(fmt::format("shard {}/3 ({} of 10 inputs)", i, i < 2 ? 4 : 2)));
    parts.push_back(shard.string());
  }
  const std::string shards = fmt::format(" {}", fmt::join(parts, " "));
  const fs::path merged = dir.path / "merged.pnp";
  const Run r = run_cli(dir, fmt::format("merge {}{} -o {}", model, shards, merged.string()));
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("merged 3 moments files (10 inputs)"));
  const auto patterns = pn::io::load_patterns(merged, net);
  const pn::Batch<float> x = reference_inputs(net.input_shape());
  const auto one_pass = pn::fit_patterns<pn::estimators::TwoComponent>(net, pn::batches(x, 2));
  REQUIRE(patterns.layers().size() == one_pass.layers().size());
  for (std::size_t l = 0; l < one_pass.layers().size(); ++l) {
    const auto& a = one_pass.layers()[l];
    CHECK((patterns.layers()[l].a - a.a).cwiseAbs().maxCoeff() <= 1e-6 * a.a.cwiseAbs().maxCoeff());
    CHECK((patterns.layers()[l].a_neg - a.a_neg).cwiseAbs().maxCoeff() <= 1e-6 * a.a_neg.cwiseAbs().maxCoeff());
  }
  // The moments of another network are refused by name.
  const Run other = run_cli(dir, fmt::format("merge {}/onnx/chain_opset17.onnx{} -o {}", data, shards, merged.string()));
  CHECK(other.status == 1);
  CHECK_THAT(other.err, Catch::Contains("part0.pnm' holds the moments of another network"));
}

TEST_CASE("degrade writes the library's degradation curves as CSV and SVG, and their areas") {
  support::TempDir dir;
  const auto net = pn::io::load_onnx<float>(model);
  const pn::Batch<float> x = reference_inputs(net.input_shape());
  const Run r = run_cli(dir, fmt::format("degrade {} {} {} --methods gradient,input-x-gradient --flip-steps 6 "
                                         "--patches-per-step 3 --seed 5 -o {}", model, images, norm, dir.path.string()));
  REQUIRE(r.status == 0);
  pn::DegradationOptions o;
  o.steps = 6;
  o.patches_per_step = 3;
  o.seed = 5;
  const auto gradient = pn::degrade(net, x, pn::explain(net, pn::rules::Gradient{}, x).attribution, o);
  const auto ixg = pn::degrade(net, x, pn::explain(net, pn::rules::InputTimesGradient{}, x).attribution, o);
  o.order = pn::DegradationOptions::Order::random;
  const auto random = pn::degrade(net, x, x, o);
  CHECK_THAT(r.out, Catch::Contains(fmt::format("{:<28} {:>8.4f} {:>12.4f}\n", "gradient", gradient.area, gradient.mean(6))));
  CHECK_THAT(r.out, Catch::Contains(fmt::format("{:<28} {:>8.4f} {:>12.4f}\n", "random order", random.area, random.mean(6))));
  const auto bytes = support::read_bytes(dir.path / "degradation.csv");
  std::istringstream csv(std::string(bytes.begin(), bytes.end()));
  std::string line;
  std::getline(csv, line);
  CHECK(line == "step,patches_replaced,gradient mean,input-x-gradient mean,random order mean,gradient sd,"
                "input-x-gradient sd,random order sd");
  for (pn::Index k = 0; k <= 6; ++k) {
    REQUIRE(std::getline(csv, line));
    std::vector<double> v;
    std::istringstream row(line);
    for (std::string f; std::getline(row, f, ',');) v.push_back(std::stod(f));
    REQUIRE(v.size() == 8);
    CHECK(v[1] == 3 * k);
    CHECK(v[2] == gradient.mean(k));
    CHECK(v[3] == ixg.mean(k));
    CHECK(v[4] == random.mean(k));
    CHECK(v[7] == random.sd(k));
  }
  const auto svg = support::read_bytes(dir.path / "degradation.svg");
  CHECK(std::string(svg.begin(), svg.end()).find(fmt::format("gradient ({:.3f})", gradient.area)) != std::string::npos);
}

TEST_CASE("bad invocations fail with one line naming the problem, and the exit status") {
  support::TempDir dir;
  const fs::path kept = dir.path / "kept.pnp";
  REQUIRE(run_cli(dir, fmt::format("fit {} {} --estimator filter -o {}", model, images, kept.string())).status == 0);
  const auto before = support::read_bytes(kept);
  const fs::path npy = dir.path / "wrong.npy";
  pn::io::save_npy(pn::Batch<float>(pn::Shape{5, 1, 1}, pn::Matrix<float>::Ones(5, 2)), npy);
  const fs::path other = dir.path / "other.pnp";
  const std::string chain = data + "/onnx/chain_opset17.onnx";
  REQUIRE(run_cli(dir, fmt::format("fit {} --estimator filter {} -o {}", chain, data + "/onnx/chain_opset17.input.npy",
                                      other.string())).status == 0);

  const fs::path classes = dir.path / "classes.txt", bad_classes = dir.path / "bad_classes.txt",
                 word_classes = dir.path / "word_classes.txt";
  support::write_text(classes, "0\n1\n2\n");
  support::write_text(bad_classes, "0,1,2,3,4\n5,6,7,8,10\n");
  support::write_text(word_classes, "Coat\n");

  struct Case {
    std::string args;
    int status;
    std::string message;
  };
  const std::vector<Case> cases{
      {"", 2, "A subcommand is required"},
      {"explain " + model + " " + images + " --method magic -o " + dir.path.string(), 2,
       "--method: 'magic' is not a method; the methods are gradient, input-x-gradient,"},
      {"explain " + model + " " + images + " --method pattern-net -o " + dir.path.string(), 2,
       "--method pattern-net needs --patterns FILE"},
      {"explain " + model + " " + images + " --method gradient --target 10 -o " + dir.path.string(), 2,
       "--target 10 is out of range: the model has 10 outputs"},
      {"fit " + model + " " + images + " --estimator best -o " + kept.string(), 2, "--estimator: 'best' is not an estimator"},
      {"fit " + model + " " + images + " --std 0 -o " + kept.string(), 2, "--std must be positive, got 0"},
      {"fit " + model + " " + images + " --batch 0 -o " + kept.string(), 2, "--batch must be >= 1, got 0"},
      {"fit " + model + " " + images + " --shard 3/3 -o " + kept.string(), 2, "--shard: '3/3' is not I/N with 0 <= I < N"},
      {"explain " + model + " " + images + " --method gradient --colormap jet -o " + dir.path.string(), 2,
       "--colormap: 'jet' is not a colour map; the colour maps are red-blue, reds, grey"},
      {"explain " + model + " " + images + " --method gradient --overlay 1.5 -o " + dir.path.string(), 2,
       "--overlay must be in [0, 1], got 1.5"},
      {"degrade " + model + " " + images + " --methods gradient --perturbation noise -o " + dir.path.string(), 2,
       "--perturbation: 'noise' is not a perturbation"},
      {"merge " + model + " " + kept.string() + " -o " + kept.string(), 1, "not a patternnet moments file (bad magic)"},
      {"rho " + model + " " + images + " --patterns " + kept.string() + " --format xml", 2, "'xml' is not a format"},
      {"info " + data + "/missing.onnx", 1, "cannot open model '" + data + "/missing.onnx'"},
      {"fit " + model + " " + npy.string() + " -o " + kept.string(), 1,
       "'" + npy.string() + "' holds samples of shape [5, 1, 1], the model's input is [1, 28, 28]"},
      {"fit " + model + " " + data + "/missing.png -o " + kept.string(), 1, "cannot open input '" + data + "/missing.png'"},
      {"explain " + model + " " + images + " --method gradient --target 1 --target-file " + classes.string() + " -o " +
           dir.path.string(), 2, "--target excludes --target-file"},
      {"explain " + model + " " + images + " --method gradient --target-file " + classes.string() + " -o " +
           dir.path.string(), 1, "classes file '" + classes.string() + "' has 3 classes for 10 inputs"},
      {"explain " + model + " " + images + " --method gradient --target-file " + bad_classes.string() + " -o " +
           dir.path.string(), 1, "classes file '" + bad_classes.string() + "', line 2: class 10 is out of range: the model has 10 outputs"},
      {"explain " + model + " " + images + " --method gradient --target-file " + word_classes.string() + " -o " +
           dir.path.string(), 1, "classes file '" + word_classes.string() + "', line 1: 'Coat' is not a class index"},
      {"fit " + model + " " + images + " -o " + (dir.path / "none" / "p.pnp").string(), 1,
       "the directory '" + (dir.path / "none").string() + "' does not exist"},
      {"explain " + model + " " + images + " --method pattern-attribution --patterns " + other.string() + " -o " +
           dir.path.string(), 1, other.string()},
  };
  for (const Case& c : cases) {
    INFO("patternnet " << c.args);
    const Run r = run_cli(dir, c.args);
    CHECK(r.status == c.status);
    CHECK(lines(r.err) == 1);
    CHECK_THAT(r.err, Catch::StartsWith("patternnet: ") && Catch::Contains(c.message));
    CHECK_THAT(r.err, !Catch::Contains("terminate"));
  }
  CHECK(support::read_bytes(kept) == before);  // every failed fit left the earlier output intact
}
