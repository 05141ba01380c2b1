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

#include <type_traits>
#include <utility>
#include <vector>

namespace patternnet::composites {

namespace detail {

/// R, as a type that depends on Defer: the presets' constructors are templates on an empty
/// pack Defer and build their rules as deferred<R, Defer...>, so that a rule's hooks (for
/// every layer type and both scalars, composites/any_rule.hpp) are compiled only where a
/// preset is constructed, not in every file that includes this header.
template <class R, class... Defer>
using deferred = std::conditional_t<sizeof...(Defer) == 0, R, R>;

/// Tags the presets' private constructors that take the first layer's ZBox.
struct Box {};

/// Zennit's LAYER_MAP_BASE, followed by `rest`: activations -> Pass, pooling and merge
/// layers -> Norm (average pooling and Add split relevance by contribution; max-pool and
/// Concat route it as the gradient does).
template <class... Defer>
[[nodiscard]] std::vector<Mapping> with_base(std::vector<Mapping> rest) {
  std::vector<Mapping> map{Mapping::category<Category::activation>(deferred<rules::Pass, Defer...>{}),
                           Mapping::category<Category::pooling>(deferred<rules::Norm, Defer...>{}),
                           Mapping::category<Category::merge>(deferred<rules::Norm, Defer...>{})};
  for (Mapping& m : rest) map.push_back(std::move(m));
  return map;
}

/// The base map, Conv2D -> `conv`, Dense -> Epsilon(epsilon).
template <class Conv>
[[nodiscard]] std::vector<Mapping> conv_dense_map(Conv conv, double epsilon, Seed seed, Bias bias) {
  return with_base<Conv>({Mapping::type<Conv2D>(std::move(conv)),
                          Mapping::type<Dense>(deferred<rules::Epsilon, Conv>{epsilon, seed, bias})});
}

}  // namespace detail

/// Conv2D -> ZPlus, Dense -> Epsilon(epsilon). Default epsilon 1e-6 (Zennit's).
class EpsilonPlus : public Composite {
public:
  template <class... Defer>
  explicit EpsilonPlus(double epsilon = 1e-6, Seed seed = Seed::logit, Bias bias = Bias{true});
};

/// The lowest linear layer (Dense or Conv2D) -> Flat; other Conv2D -> ZPlus, Dense -> Epsilon.
class EpsilonPlusFlat : public Composite {
public:
  template <class... Defer>
  explicit EpsilonPlusFlat(double epsilon = 1e-6, Seed seed = Seed::logit, Bias bias = Bias{true});
};

/// Conv2D -> AlphaBeta(2, 1), Dense -> Epsilon(epsilon).
class EpsilonAlpha2Beta1 : public Composite {
public:
  template <class... Defer>
  explicit EpsilonAlpha2Beta1(double epsilon = 1e-6, Seed seed = Seed::logit, Bias bias = Bias{true});
};

/// The lowest linear layer -> Flat; other Conv2D -> AlphaBeta(2, 1), Dense -> Epsilon.
class EpsilonAlpha2Beta1Flat : public Composite {
public:
  template <class... Defer>
  explicit EpsilonAlpha2Beta1Flat(double epsilon = 1e-6, Seed seed = Seed::logit, Bias bias = Bias{true});
};

/// The lowest Conv2D -> ZBox(low, high); other Conv2D -> Gamma(gamma), Dense -> Epsilon.
/// Defaults epsilon 1e-6, gamma 0.25 (Zennit's). Bounds: scalars, or one value per input
/// feature of the first Conv2D (see rules::ZBox).
class EpsilonGammaBox : public Composite {
public:
  template <class... Defer>
  explicit EpsilonGammaBox(double low, double high, double epsilon = 1e-6, double gamma = 0.25,
                           Seed seed = Seed::logit, Bias bias = Bias{true});
  template <class... Defer>
  explicit EpsilonGammaBox(const Eigen::VectorXd& low, const Eigen::VectorXd& high, double epsilon = 1e-6,
                           double gamma = 0.25, Seed seed = Seed::logit, Bias bias = Bias{true});

private:
  template <class ZBox>
  EpsilonGammaBox(detail::Box /*tag*/, ZBox box, double epsilon, double gamma, Seed seed, Bias bias);
};

/// Deep Taylor decomposition for ReLU networks with inputs in the box [low, high]
/// (Montavon et al. 2017; docs/methods.md): the lowest linear layer -> ZBox(low, high),
/// every other linear layer -> ZPlus, ReLU -> Pass. The output layer (not followed by a
/// ReLU) also gets ZPlus: Deep Taylor treats the explained output as a positive ReLU
/// neuron (iNNvestigate makes it one by appending a ReLU), so explain a positive y_c.
class DeepTaylor : public Composite {
public:
  template <class... Defer>
  explicit DeepTaylor(double low, double high, Seed seed = Seed::logit, Bias bias = Bias{true});
  template <class... Defer>
  explicit DeepTaylor(const Eigen::VectorXd& low, const Eigen::VectorXd& high, Seed seed = Seed::logit,
                      Bias bias = Bias{true});

private:
  template <class ZBox>
  DeepTaylor(detail::Box /*tag*/, ZBox box, Seed seed, Bias bias);
};

// The constructors, defined out of the classes so that patternnet::precompiled can provide
// them (precompiled.hpp): a constructor defined in its class is inline, and an inline
// function is compiled wherever it is used even if an explicit instantiation exists.

template <class... Defer>
EpsilonPlus::EpsilonPlus(double epsilon, Seed seed, Bias bias)
    : Composite(detail::conv_dense_map(detail::deferred<rules::ZPlus, Defer...>{seed, bias}, epsilon, seed, bias), {}, seed) {}

template <class... Defer>
EpsilonPlusFlat::EpsilonPlusFlat(double epsilon, Seed seed, Bias bias)
    : Composite(detail::conv_dense_map(detail::deferred<rules::ZPlus, Defer...>{seed, bias}, epsilon, seed, bias),
                {Mapping::category<Category::linear>(detail::deferred<rules::Flat, Defer...>{seed, bias})}, seed) {}

template <class... Defer>
EpsilonAlpha2Beta1::EpsilonAlpha2Beta1(double epsilon, Seed seed, Bias bias)
    : Composite(detail::conv_dense_map(detail::deferred<rules::AlphaBeta, Defer...>{2, 1, seed, bias}, epsilon, seed, bias),
                {}, seed) {}

template <class... Defer>
EpsilonAlpha2Beta1Flat::EpsilonAlpha2Beta1Flat(double epsilon, Seed seed, Bias bias)
    : Composite(detail::conv_dense_map(detail::deferred<rules::AlphaBeta, Defer...>{2, 1, seed, bias}, epsilon, seed, bias),
                {Mapping::category<Category::linear>(detail::deferred<rules::Flat, Defer...>{seed, bias})}, seed) {}

template <class... Defer>
EpsilonGammaBox::EpsilonGammaBox(double low, double high, double epsilon, double gamma, Seed seed, Bias bias)
    : EpsilonGammaBox(detail::Box{}, detail::deferred<rules::ZBox, Defer...>{low, high, seed, bias}, epsilon, gamma, seed,
                      bias) {}
template <class... Defer>
EpsilonGammaBox::EpsilonGammaBox(const Eigen::VectorXd& low, const Eigen::VectorXd& high, double epsilon, double gamma,
                                 Seed seed, Bias bias)
    : EpsilonGammaBox(detail::Box{}, detail::deferred<rules::ZBox, Defer...>{low, high, seed, bias}, epsilon, gamma, seed,
                      bias) {}
template <class ZBox>
EpsilonGammaBox::EpsilonGammaBox(detail::Box /*tag*/, ZBox box, double epsilon, double gamma, Seed seed, Bias bias)
    : Composite(detail::conv_dense_map(detail::deferred<rules::Gamma, ZBox>{gamma, seed, bias}, epsilon, seed, bias),
                {Mapping::type<Conv2D>(std::move(box))}, seed) {}

template <class... Defer>
DeepTaylor::DeepTaylor(double low, double high, Seed seed, Bias bias)
    : DeepTaylor(detail::Box{}, detail::deferred<rules::ZBox, Defer...>{low, high, seed, bias}, seed, bias) {}
template <class... Defer>
DeepTaylor::DeepTaylor(const Eigen::VectorXd& low, const Eigen::VectorXd& high, Seed seed, Bias bias)
    : DeepTaylor(detail::Box{}, detail::deferred<rules::ZBox, Defer...>{low, high, seed, bias}, seed, bias) {}
template <class ZBox>
DeepTaylor::DeepTaylor(detail::Box /*tag*/, ZBox box, Seed seed, Bias bias)
    : Composite(detail::with_base<ZBox>({Mapping::category<Category::linear>(detail::deferred<rules::ZPlus, ZBox>{seed, bias})}),
                {Mapping::category<Category::linear>(std::move(box))}, seed) {}

}  // namespace patternnet::composites
