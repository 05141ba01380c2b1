#pragma once
// Zennit's preset composites (zennit.composites), and Deep Taylor.
//
// Common to all: ReLU -> Pass; max-pool and softmax -> gradient (winner takes all, the
// softmax Jacobian); seed y_c unless Seed::one is given. Bias{false} makes every rule of
// the preset ignore the bias (Zennit's zero_params=['bias']). The rules keep their default
// stabiliser 1e-6; build a Composite by hand for anything else.

#include <patternnet/composites/composite.hpp>

#include <Eigen/Core>

#include <utility>

namespace patternnet::composites {

namespace detail {

[[nodiscard]] inline Mapping relu_pass() { return {Match::category(Category::activation), rules::Pass{}}; }

/// ReLU -> Pass, Conv2D -> `conv`, Dense -> Epsilon(epsilon).
[[nodiscard]] inline std::vector<Mapping> conv_dense_map(AnyRule conv, double epsilon, Seed seed, Bias bias) {
  return {relu_pass(), {Match::type(LayerType::conv2d), std::move(conv)},
          {Match::type(LayerType::dense), rules::Epsilon{epsilon, seed, bias}}};
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
                  {{Match::type(LayerType::conv2d), std::move(box)}}, seed) {}
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
      : Composite({detail::relu_pass(), {Match::category(Category::linear), rules::ZPlus{seed, bias}}},
                  {{Match::category(Category::linear), std::move(box)}}, seed) {}
};

}  // namespace patternnet::composites
