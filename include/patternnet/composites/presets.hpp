#pragma once
// Zennit's preset composites (zennit.composites), and Deep Taylor.
//
// Common to all (Zennit's LAYER_MAP_BASE): ReLU -> Pass; average pooling and Add -> Norm
// (relevance split by contribution); max-pool, Concat and softmax -> gradient (winner
// takes all, a split, the softmax Jacobian); BatchNorm2D left in the network (not folded
// by canonize()) -> gradient; seed y_c unless Seed::one is given. Bias{false} makes every rule of
// the preset ignore the bias (Zennit's zero_params=['bias']). The rules keep their default
// stabiliser 1e-6; build a Composite by hand for anything else.

#include <patternnet/composites/composite.hpp>

#include <Eigen/Core>

#include <array>
#include <cctype>
#include <string>
#include <string_view>
#include <utility>

namespace patternnet::composites {

namespace detail {

/// Zennit's LAYER_MAP_BASE, followed by `rest`: activations -> Pass, pooling and merge
/// layers -> Norm (average pooling and Add split relevance by contribution; max-pool and
/// Concat route it as the gradient does).
[[nodiscard]] inline std::vector<Mapping> with_base(std::vector<Mapping> rest) {
  std::vector<Mapping> map{{Match::category(Category::activation), rules::Pass{}},
                           {Match::category(Category::pooling), rules::Norm{}},
                           {Match::category(Category::merge), rules::Norm{}}};
  for (Mapping& m : rest) map.push_back(std::move(m));
  return map;
}

/// The base map, Conv2D -> `conv`, Dense -> Epsilon(epsilon).
[[nodiscard]] inline std::vector<Mapping> conv_dense_map(AnyRule conv, double epsilon, Seed seed, Bias bias) {
  return with_base({{Match::type("Conv2D"), std::move(conv)}, {Match::type("Dense"), rules::Epsilon{epsilon, seed, bias}}});
}

}  // namespace detail

/// Conv2D -> ZPlus, Dense -> Epsilon(epsilon). Default epsilon 1e-6 (Zennit's).
class EpsilonPlus : public Composite {
public:
  explicit EpsilonPlus(double epsilon = 1e-6, Seed seed = Seed::logit, Bias bias = Bias{true})
      : Composite(detail::conv_dense_map(rules::ZPlus{seed, bias}, epsilon, seed, bias), {}, seed) {}
};

/// The lowest linear layer (Dense or Conv2D) -> Flat; other Conv2D -> ZPlus, Dense -> Epsilon.
class EpsilonPlusFlat : public Composite {
public:
  explicit EpsilonPlusFlat(double epsilon = 1e-6, Seed seed = Seed::logit, Bias bias = Bias{true})
      : Composite(detail::conv_dense_map(rules::ZPlus{seed, bias}, epsilon, seed, bias),
                  {{Match::category(Category::linear), rules::Flat{seed, bias}}}, seed) {}
};

/// Conv2D -> AlphaBeta(2, 1), Dense -> Epsilon(epsilon).
class EpsilonAlpha2Beta1 : public Composite {
public:
  explicit EpsilonAlpha2Beta1(double epsilon = 1e-6, Seed seed = Seed::logit, Bias bias = Bias{true})
      : Composite(detail::conv_dense_map(rules::AlphaBeta{2, 1, seed, bias}, epsilon, seed, bias), {}, seed) {}
};

/// The lowest linear layer -> Flat; other Conv2D -> AlphaBeta(2, 1), Dense -> Epsilon.
class EpsilonAlpha2Beta1Flat : public Composite {
public:
  explicit EpsilonAlpha2Beta1Flat(double epsilon = 1e-6, Seed seed = Seed::logit, Bias bias = Bias{true})
      : Composite(detail::conv_dense_map(rules::AlphaBeta{2, 1, seed, bias}, epsilon, seed, bias),
                  {{Match::category(Category::linear), rules::Flat{seed, bias}}}, seed) {}
};

/// The lowest Conv2D -> ZBox(low, high); other Conv2D -> Gamma(gamma), Dense -> Epsilon.
/// Defaults epsilon 1e-6, gamma 0.25 (Zennit's). Bounds: scalars, or one value per input
/// feature of the first Conv2D (see rules::ZBox).
class EpsilonGammaBox : public Composite {
public:
  explicit EpsilonGammaBox(double low, double high, double epsilon = 1e-6, double gamma = 0.25,
                           Seed seed = Seed::logit, Bias bias = Bias{true})
      : EpsilonGammaBox(rules::ZBox{low, high, seed, bias}, epsilon, gamma, seed, bias) {}
  explicit EpsilonGammaBox(const Eigen::VectorXd& low, const Eigen::VectorXd& high, double epsilon = 1e-6,
                           double gamma = 0.25, Seed seed = Seed::logit, Bias bias = Bias{true})
      : EpsilonGammaBox(rules::ZBox{low, high, seed, bias}, epsilon, gamma, seed, bias) {}

private:
  EpsilonGammaBox(rules::ZBox box, double epsilon, double gamma, Seed seed, Bias bias)
      : Composite(detail::conv_dense_map(rules::Gamma{gamma, seed, bias}, epsilon, seed, bias),
                  {{Match::type("Conv2D"), std::move(box)}}, seed) {}
};

/// Deep Taylor decomposition for ReLU networks with inputs in the box [low, high]
/// (Montavon et al. 2017; docs/methods.md): the lowest linear layer -> ZBox(low, high),
/// every other linear layer -> ZPlus, ReLU -> Pass. The output layer (not followed by a
/// ReLU) also gets ZPlus: Deep Taylor treats the explained output as a positive ReLU
/// neuron (iNNvestigate makes it one by appending a ReLU), so explain a positive y_c.
class DeepTaylor : public Composite {
public:
  explicit DeepTaylor(double low, double high, Seed seed = Seed::logit, Bias bias = Bias{true})
      : DeepTaylor(rules::ZBox{low, high, seed, bias}, seed, bias) {}
  explicit DeepTaylor(const Eigen::VectorXd& low, const Eigen::VectorXd& high, Seed seed = Seed::logit,
                      Bias bias = Bias{true})
      : DeepTaylor(rules::ZBox{low, high, seed, bias}, seed, bias) {}

private:
  DeepTaylor(rules::ZBox box, Seed seed, Bias bias)
      : Composite(detail::with_base({{Match::category(Category::linear), rules::ZPlus{seed, bias}}}),
                  {{Match::category(Category::linear), std::move(box)}}, seed) {}
};

/// The parameters of preset(): each preset reads the ones it has (low and high: the input
/// box of EpsilonGammaBox and DeepTaylor).
struct PresetOptions {
  double epsilon = 1e-6;
  double gamma = 0.25;
  double low = 0, high = 1;
  Seed seed = Seed::logit;
  Bias bias{true};
};

/// The names preset() knows.
inline constexpr std::array<std::string_view, 6> preset_names{
    "EpsilonPlus", "EpsilonPlusFlat", "EpsilonAlpha2Beta1", "EpsilonAlpha2Beta1Flat", "EpsilonGammaBox", "DeepTaylor"};

/// The preset composite called `name`, for choosing one at run time (a command line, a
/// configuration file). Accepts the names above, Zennit's registered names
/// ("epsilon_plus_flat", "epsilon_gamma_box", ...) and the same in kebab case
/// ("epsilon-plus-flat"): case, '_' and '-' are ignored. Throws ConfigError listing the
/// names for any other.
[[nodiscard]] inline Composite preset(std::string_view name, const PresetOptions& o = {}) {
  auto key = [](std::string_view n) {
    std::string k;
    for (const char c : n) {
      if (c != '_' && c != '-') k += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return k;
  };
  const std::string k = key(name);
  if (k == key("EpsilonPlus")) return EpsilonPlus{o.epsilon, o.seed, o.bias};
  if (k == key("EpsilonPlusFlat")) return EpsilonPlusFlat{o.epsilon, o.seed, o.bias};
  if (k == key("EpsilonAlpha2Beta1")) return EpsilonAlpha2Beta1{o.epsilon, o.seed, o.bias};
  if (k == key("EpsilonAlpha2Beta1Flat")) return EpsilonAlpha2Beta1Flat{o.epsilon, o.seed, o.bias};
  if (k == key("EpsilonGammaBox")) return EpsilonGammaBox{o.low, o.high, o.epsilon, o.gamma, o.seed, o.bias};
  if (k == key("DeepTaylor")) return DeepTaylor{o.low, o.high, o.seed, o.bias};
  patternnet::detail::fail<ConfigError>("composites::preset(): no preset is called '{}'; the presets are {}", name,
                                        fmt::join(preset_names, ", "));
}

}  // namespace patternnet::composites
