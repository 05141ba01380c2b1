#pragma once
// Zennit's preset composites (zennit.composites), and Deep Taylor.
//
// A preset holds its rules (validated when it is constructed) and builds its composite when
// it is used: explain(net, preset, x) and preset.resolve(net) compile its rules for the
// network's scalar type only; preset.composite() (what preset() by name returns) is the
// same composite for float and double networks.
//
// Common to all (Zennit's LAYER_MAP_BASE): ReLU -> Pass; average pooling and Add -> Norm
// (relevance split by contribution); max-pool, Concat and softmax -> gradient (winner
// takes all, a split, the softmax Jacobian); BatchNorm2D left in the network (not folded
// by canonize()) -> gradient; seed y_c unless Seed::one is given. Bias{false} makes every rule of
// the preset ignore the bias (Zennit's zero_params=['bias']). The rules keep their default
// stabiliser 1e-6; build a Composite by hand for anything else.

#include <patternnet/composites/composite.hpp>

#include <Eigen/Core>

#include <utility>
#include <vector>

namespace patternnet::composites {

namespace detail {

/// Zennit's LAYER_MAP_BASE, followed by `rest`: activations -> Pass, pooling and merge
/// layers -> Norm (average pooling and Add split relevance by contribution; max-pool and
/// Concat route it as the gradient does).
template <class S>
[[nodiscard]] std::vector<Mapping> with_base(std::vector<Mapping> rest) {
  std::vector<Mapping> map{of_category<Category::activation, S>(rules::Pass{}),
                           of_category<Category::pooling, S>(rules::Norm{}),
                           of_category<Category::merge, S>(rules::Norm{})};
  for (Mapping& m : rest) map.push_back(std::move(m));
  return map;
}

/// The base map, Conv2D -> conv, Dense -> dense.
template <class S, class Conv>
[[nodiscard]] std::vector<Mapping> conv_dense_map(const Conv& conv, const rules::Epsilon& dense) {
  return with_base<S>({of_type<Conv2D, S>(conv), of_type<Dense, S>(dense)});
}

/// A preset's layer map and first map.
using Maps = std::pair<std::vector<Mapping>, std::vector<Mapping>>;

/// What the presets share: the seed, and the composite built from the derived preset's
/// maps (P::maps<S>(): its layer map and first map, rules compiled for the scalars S accepts:
/// OfScalar<T> for resolve() on a T network, AllLayers for composite()).
/// The members are defined out of the class, so that patternnet::precompiled can provide
/// them (precompiled.hpp): a member function defined in its class is inline, and an inline
/// function is compiled wherever it is used even if an explicit instantiation exists.
template <class P>
class Preset {
public:
  [[nodiscard]] Seed seed() const noexcept { return seed_; }
  /// The rule of every node of `net`, compiled for T networks only.
  template <class T>
  [[nodiscard]] Resolved resolve(const Graph<T>& net) const;
  /// The preset as a Composite for float and double networks (its rules compiled for both).
  [[nodiscard]] Composite composite() const;

protected:
  explicit Preset(Seed seed) noexcept : seed_(seed) {}

private:
  Seed seed_;
};

template <class P>
template <class T>
Resolved Preset<P>::resolve(const Graph<T>& net) const {
  auto [layer_map, first_map] = static_cast<const P&>(*this).template maps<OfScalar<T>>();
  return Composite(std::move(layer_map), std::move(first_map), seed_).resolve(net);
}

template <class P>
Composite Preset<P>::composite() const {
  auto [layer_map, first_map] = static_cast<const P&>(*this).template maps<AllLayers>();
  return Composite(std::move(layer_map), std::move(first_map), seed_);
}

}  // namespace detail

/// Conv2D -> ZPlus, Dense -> Epsilon(epsilon). Default epsilon 1e-6 (Zennit's).
class EpsilonPlus : public detail::Preset<EpsilonPlus> {
public:
  explicit EpsilonPlus(double epsilon = 1e-6, Seed seed = Seed::logit, Bias bias = Bias{true})
      : Preset(seed), conv_(seed, bias), dense_(epsilon, seed, bias) {}

  template <class S>
  [[nodiscard]] detail::Maps maps() const {
    return {detail::conv_dense_map<S>(conv_, dense_), {}};
  }

private:
  rules::ZPlus conv_;
  rules::Epsilon dense_;
};

/// The lowest linear layer (Dense or Conv2D) -> Flat; other Conv2D -> ZPlus, Dense -> Epsilon.
class EpsilonPlusFlat : public detail::Preset<EpsilonPlusFlat> {
public:
  explicit EpsilonPlusFlat(double epsilon = 1e-6, Seed seed = Seed::logit, Bias bias = Bias{true})
      : Preset(seed), conv_(seed, bias), dense_(epsilon, seed, bias), first_(seed, bias) {}

  template <class S>
  [[nodiscard]] detail::Maps maps() const {
    return {detail::conv_dense_map<S>(conv_, dense_),
            {detail::of_category<Category::linear, S>(first_)}};
  }

private:
  rules::ZPlus conv_;
  rules::Epsilon dense_;
  rules::Flat first_;
};

/// Conv2D -> AlphaBeta(2, 1), Dense -> Epsilon(epsilon).
class EpsilonAlpha2Beta1 : public detail::Preset<EpsilonAlpha2Beta1> {
public:
  explicit EpsilonAlpha2Beta1(double epsilon = 1e-6, Seed seed = Seed::logit, Bias bias = Bias{true})
      : Preset(seed), conv_(2, 1, seed, bias), dense_(epsilon, seed, bias) {}

  template <class S>
  [[nodiscard]] detail::Maps maps() const {
    return {detail::conv_dense_map<S>(conv_, dense_), {}};
  }

private:
  rules::AlphaBeta conv_;
  rules::Epsilon dense_;
};

/// The lowest linear layer -> Flat; other Conv2D -> AlphaBeta(2, 1), Dense -> Epsilon.
class EpsilonAlpha2Beta1Flat : public detail::Preset<EpsilonAlpha2Beta1Flat> {
public:
  explicit EpsilonAlpha2Beta1Flat(double epsilon = 1e-6, Seed seed = Seed::logit, Bias bias = Bias{true})
      : Preset(seed), conv_(2, 1, seed, bias), dense_(epsilon, seed, bias), first_(seed, bias) {}

  template <class S>
  [[nodiscard]] detail::Maps maps() const {
    return {detail::conv_dense_map<S>(conv_, dense_),
            {detail::of_category<Category::linear, S>(first_)}};
  }

private:
  rules::AlphaBeta conv_;
  rules::Epsilon dense_;
  rules::Flat first_;
};

/// The lowest Conv2D -> ZBox(low, high); other Conv2D -> Gamma(gamma), Dense -> Epsilon.
/// Defaults epsilon 1e-6, gamma 0.25 (Zennit's). Bounds: scalars, or one value per input
/// feature of the first Conv2D (see rules::ZBox).
class EpsilonGammaBox : public detail::Preset<EpsilonGammaBox> {
public:
  explicit EpsilonGammaBox(double low, double high, double epsilon = 1e-6, double gamma = 0.25,
                           Seed seed = Seed::logit, Bias bias = Bias{true})
      : Preset(seed), conv_(gamma, seed, bias), dense_(epsilon, seed, bias), first_(low, high, seed, bias) {}
  explicit EpsilonGammaBox(const Eigen::VectorXd& low, const Eigen::VectorXd& high, double epsilon = 1e-6,
                           double gamma = 0.25, Seed seed = Seed::logit, Bias bias = Bias{true})
      : Preset(seed), conv_(gamma, seed, bias), dense_(epsilon, seed, bias), first_(low, high, seed, bias) {}

  template <class S>
  [[nodiscard]] detail::Maps maps() const {
    return {detail::conv_dense_map<S>(conv_, dense_),
            {detail::of_type<Conv2D, S>(first_)}};
  }

private:
  rules::Gamma conv_;
  rules::Epsilon dense_;
  rules::ZBox first_;
};

/// Deep Taylor decomposition for ReLU networks with inputs in the box [low, high]
/// (Montavon et al. 2017; docs/methods.md): the lowest linear layer -> ZBox(low, high),
/// every other linear layer -> ZPlus, ReLU -> Pass. The output layer (not followed by a
/// ReLU) also gets ZPlus: Deep Taylor treats the explained output as a positive ReLU
/// neuron (iNNvestigate makes it one by appending a ReLU), so explain a positive y_c.
class DeepTaylor : public detail::Preset<DeepTaylor> {
public:
  explicit DeepTaylor(double low, double high, Seed seed = Seed::logit, Bias bias = Bias{true})
      : Preset(seed), linear_(seed, bias), first_(low, high, seed, bias) {}
  explicit DeepTaylor(const Eigen::VectorXd& low, const Eigen::VectorXd& high, Seed seed = Seed::logit,
                      Bias bias = Bias{true})
      : Preset(seed), linear_(seed, bias), first_(low, high, seed, bias) {}

  template <class S>
  [[nodiscard]] detail::Maps maps() const {
    return {detail::with_base<S>({detail::of_category<Category::linear, S>(linear_)}),
            {detail::of_category<Category::linear, S>(first_)}};
  }

private:
  rules::ZPlus linear_;
  rules::ZBox first_;
};

}  // namespace patternnet::composites
