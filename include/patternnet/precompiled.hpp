#pragma once
// The optional patternnet::precompiled component (docs/getting-started.md): the library's
// costliest templates compiled once, for float and double, into a static library.
//
// Linking the CMake target patternnet::precompiled defines PATTERNNET_PRECOMPILED; this
// header (included by the umbrella patternnet.hpp) then declares the instantiations below
// `extern template`, so a file that includes the umbrella does not compile them again: the
// forward pass over every layer type, every built-in rule's hook for every layer type
// (detail::run_hook: compiled once, for explain() and for the composites' erased rules alike),
// explain() and backward() with every built-in rule and with any composite (all composites resolve to composites::Resolved), AnyRule of every
// built-in rule (a rule mapped to all layer types), the preset composites (resolve(), composite()), pattern fitting (over batches()) with every estimator, rho(S),
// Integrated Gradients, SmoothGrad, image degradation and training. Without the macro the library stays header-only and this header
// declares nothing. The component's sources (src/precompiled/) define the same lists.

#include <patternnet/composites/composite.hpp>
#include <patternnet/composites/presets.hpp>
#include <patternnet/core/batches.hpp>
#include <patternnet/estimators/filter.hpp>
#include <patternnet/estimators/fit.hpp>
#include <patternnet/estimators/identity.hpp>
#include <patternnet/estimators/linear.hpp>
#include <patternnet/estimators/random.hpp>
#include <patternnet/estimators/two_component.hpp>
#include <patternnet/evaluation/degradation.hpp>
#include <patternnet/methods/integrated_gradients.hpp>
#include <patternnet/methods/smoothgrad.hpp>
#include <patternnet/network/explain.hpp>
#include <patternnet/network/graph.hpp>
#include <patternnet/quality/rho.hpp>
#include <patternnet/rules/deconvnet.hpp>
#include <patternnet/rules/gradient.hpp>
#include <patternnet/rules/guided_backprop.hpp>
#include <patternnet/rules/lrp.hpp>
#include <patternnet/rules/pattern.hpp>
#include <patternnet/training/accuracy.hpp>
#include <patternnet/training/adam.hpp>
#include <patternnet/training/batch_norm_statistics.hpp>
#include <patternnet/training/gradients.hpp>
#include <patternnet/training/sgd.hpp>
#include <patternnet/training/train.hpp>

#include <Eigen/Core>

#include <memory>
#include <span>
#include <type_traits>

// KEYWORD is `extern template` (a declaration) or `template` (the definition).

#define PATTERNNET_GRAPH_INSTANCES(KEYWORD) \
  KEYWORD class patternnet::Graph<float>;   \
  KEYWORD class patternnet::Graph<double>;

/// The layer types of the registry (layers/registry.hpp), for the hook instances below; the
/// static_assert after the macros keeps this list equal to the registry's.
#define PATTERNNET_FOR_EACH_LAYER_TYPE(X, ...)                                                                  \
  X(Dense, __VA_ARGS__) X(Conv2D, __VA_ARGS__) X(ReLU, __VA_ARGS__) X(MaxPool2D, __VA_ARGS__)                  \
  X(AvgPool2D, __VA_ARGS__) X(GlobalAvgPool2D, __VA_ARGS__) X(BatchNorm2D, __VA_ARGS__) X(Add, __VA_ARGS__)    \
  X(Concat, __VA_ARGS__) X(Softmax, __VA_ARGS__) X(Flatten, __VA_ARGS__)

/// Rule R's hook for layer type L<T> (detail::run_hook, rules/rule.hpp).
#define PATTERNNET_HOOK_INSTANCE(L, KEYWORD, T, R)                                                          \
  KEYWORD patternnet::detail::HookResult<T, patternnet::L<T>> patternnet::detail::run_hook(                 \
      const R&, const patternnet::L<T>&, const patternnet::LayerContext<T>&, const patternnet::Matrix<T>&);

/// explain() and backward() with rule R on Graph<T>, and R's hooks for every layer type.
#define PATTERNNET_RULE_INSTANCE(KEYWORD, T, R)                                                                        \
  PATTERNNET_FOR_EACH_LAYER_TYPE(PATTERNNET_HOOK_INSTANCE, KEYWORD, T, R)                                              \
  KEYWORD patternnet::Explanation<T> patternnet::explain(const patternnet::Graph<T>&, const R&,                         \
                                                         const patternnet::Batch<T>&, const patternnet::Target&,        \
                                                         const patternnet::ExplainOptions&);                            \
  KEYWORD patternnet::Matrix<T> patternnet::backward(const patternnet::Graph<T>&, const R&,                             \
                                                     const patternnet::ForwardRecord<T>&, patternnet::Index,            \
                                                     patternnet::Matrix<T>, patternnet::Matrix<double>*);
#define PATTERNNET_RULE_INSTANCES(KEYWORD, R)    \
  PATTERNNET_RULE_INSTANCE(KEYWORD, float, R) \
  PATTERNNET_RULE_INSTANCE(KEYWORD, double, R)

#define PATTERNNET_GRADIENT_INSTANCES(KEYWORD)                           \
  PATTERNNET_RULE_INSTANCES(KEYWORD, patternnet::rules::Gradient)           \
  PATTERNNET_RULE_INSTANCES(KEYWORD, patternnet::rules::InputTimesGradient) \
  PATTERNNET_RULE_INSTANCES(KEYWORD, patternnet::rules::DeConvNet)          \
  PATTERNNET_RULE_INSTANCES(KEYWORD, patternnet::rules::GuidedBackprop)

#define PATTERNNET_PATTERN_RULE_INSTANCES(KEYWORD)                                 \
  PATTERNNET_RULE_INSTANCE(KEYWORD, float, patternnet::rules::PatternNet<float>)           \
  PATTERNNET_RULE_INSTANCE(KEYWORD, double, patternnet::rules::PatternNet<double>)         \
  PATTERNNET_RULE_INSTANCE(KEYWORD, float, patternnet::rules::PatternAttribution<float>)   \
  PATTERNNET_RULE_INSTANCE(KEYWORD, double, patternnet::rules::PatternAttribution<double>)

#define PATTERNNET_LRP_INSTANCES(KEYWORD)                       \
  PATTERNNET_RULE_INSTANCES(KEYWORD, patternnet::rules::Pass)      \
  PATTERNNET_RULE_INSTANCES(KEYWORD, patternnet::rules::Norm)      \
  PATTERNNET_RULE_INSTANCES(KEYWORD, patternnet::rules::Epsilon)   \
  PATTERNNET_RULE_INSTANCES(KEYWORD, patternnet::rules::ZPlus)     \
  PATTERNNET_RULE_INSTANCES(KEYWORD, patternnet::rules::AlphaBeta) \
  PATTERNNET_RULE_INSTANCES(KEYWORD, patternnet::rules::Gamma)     \
  PATTERNNET_RULE_INSTANCES(KEYWORD, patternnet::rules::ZBox)      \
  PATTERNNET_RULE_INSTANCES(KEYWORD, patternnet::rules::Flat)      \
  PATTERNNET_RULE_INSTANCES(KEYWORD, patternnet::rules::WSquare)

/// AnyRule(R) for every layer type (Mapping{match, rule}): the hooks of the erased rule.
#define PATTERNNET_ANY_RULE_INSTANCE(KEYWORD, R)                                                        \
  KEYWORD std::shared_ptr<const patternnet::composites::detail::RuleConcept>                           \
  patternnet::composites::detail::make_rule_model<R, patternnet::composites::detail::AllLayers>(R);
#define PATTERNNET_ANY_GRADIENT_RULE_INSTANCES(KEYWORD)                                    \
  PATTERNNET_ANY_RULE_INSTANCE(KEYWORD, patternnet::rules::Gradient)                          \
  PATTERNNET_ANY_RULE_INSTANCE(KEYWORD, patternnet::rules::InputTimesGradient)                \
  PATTERNNET_ANY_RULE_INSTANCE(KEYWORD, patternnet::rules::DeConvNet)                         \
  PATTERNNET_ANY_RULE_INSTANCE(KEYWORD, patternnet::rules::GuidedBackprop)                    \
  PATTERNNET_ANY_RULE_INSTANCE(KEYWORD, patternnet::rules::Pass)                              \
  PATTERNNET_ANY_RULE_INSTANCE(KEYWORD, patternnet::rules::Norm)                              \
  PATTERNNET_ANY_RULE_INSTANCE(KEYWORD, patternnet::rules::PatternNet<float>)                 \
  PATTERNNET_ANY_RULE_INSTANCE(KEYWORD, patternnet::rules::PatternNet<double>)                \
  PATTERNNET_ANY_RULE_INSTANCE(KEYWORD, patternnet::rules::PatternAttribution<float>)         \
  PATTERNNET_ANY_RULE_INSTANCE(KEYWORD, patternnet::rules::PatternAttribution<double>)
#define PATTERNNET_ANY_LRP_RULE_INSTANCES(KEYWORD)                      \
  PATTERNNET_ANY_RULE_INSTANCE(KEYWORD, patternnet::rules::Epsilon)        \
  PATTERNNET_ANY_RULE_INSTANCE(KEYWORD, patternnet::rules::ZPlus)          \
  PATTERNNET_ANY_RULE_INSTANCE(KEYWORD, patternnet::rules::AlphaBeta)      \
  PATTERNNET_ANY_RULE_INSTANCE(KEYWORD, patternnet::rules::Gamma)          \
  PATTERNNET_ANY_RULE_INSTANCE(KEYWORD, patternnet::rules::ZBox)           \
  PATTERNNET_ANY_RULE_INSTANCE(KEYWORD, patternnet::rules::Flat)           \
  PATTERNNET_ANY_RULE_INSTANCE(KEYWORD, patternnet::rules::WSquare)

/// Composite::resolve(), explain() / backward() of the resolved composite, and the presets.
#define PATTERNNET_COMPOSITE_INSTANCES(KEYWORD)                                                                      \
  KEYWORD patternnet::composites::Resolved patternnet::composites::Composite::resolve(const patternnet::Graph<float>&) \
      const;                                                                                                           \
  KEYWORD patternnet::composites::Resolved patternnet::composites::Composite::resolve(                                 \
      const patternnet::Graph<double>&) const;                                                                         \
  PATTERNNET_RULE_INSTANCES(KEYWORD, patternnet::composites::Resolved)                                                 \
  PATTERNNET_PRESET_INSTANCES(KEYWORD, patternnet::composites::EpsilonPlus)                                           \
  PATTERNNET_PRESET_INSTANCES(KEYWORD, patternnet::composites::EpsilonPlusFlat)                                       \
  PATTERNNET_PRESET_INSTANCES(KEYWORD, patternnet::composites::EpsilonAlpha2Beta1)                                    \
  PATTERNNET_PRESET_INSTANCES(KEYWORD, patternnet::composites::EpsilonAlpha2Beta1Flat)                                \
  PATTERNNET_PRESET_INSTANCES(KEYWORD, patternnet::composites::EpsilonGammaBox)                                       \
  PATTERNNET_PRESET_INSTANCES(KEYWORD, patternnet::composites::DeepTaylor)
/// A preset's resolve() for float and double networks, and its composite().
#define PATTERNNET_PRESET_INSTANCES(KEYWORD, P)                                                                       \
  KEYWORD patternnet::composites::Resolved patternnet::composites::detail::Preset<P>::resolve(                         \
      const patternnet::Graph<float>&) const;                                                                          \
  KEYWORD patternnet::composites::Resolved patternnet::composites::detail::Preset<P>::resolve(                         \
      const patternnet::Graph<double>&) const;                                                                         \
  KEYWORD patternnet::composites::Composite patternnet::composites::detail::Preset<P>::composite() const;

/// Moments over batches() and their merge, make_patterns() with every estimator, rho(S) from moments.
#define PATTERNNET_PATTERN_FITTING_INSTANCE(KEYWORD, T)                                                              \
  KEYWORD patternnet::NetworkMoments patternnet::compute_moments(                                                    \
      const patternnet::Graph<T>&, const patternnet::BatchView<T>&, const patternnet::MomentOptions&);             \
  PATTERNNET_MAKE_PATTERNS_INSTANCE(KEYWORD, T, patternnet::estimators::Identity)                                    \
  PATTERNNET_MAKE_PATTERNS_INSTANCE(KEYWORD, T, patternnet::estimators::Filter)                                      \
  PATTERNNET_MAKE_PATTERNS_INSTANCE(KEYWORD, T, patternnet::estimators::Linear)                                      \
  PATTERNNET_MAKE_PATTERNS_INSTANCE(KEYWORD, T, patternnet::estimators::TwoComponent)                                \
  PATTERNNET_MAKE_PATTERNS_INSTANCE(KEYWORD, T, patternnet::estimators::Random)                                      \
  KEYWORD patternnet::SignalQuality patternnet::signal_quality(const patternnet::Graph<T>&,                          \
                                                               const patternnet::Patterns<T>&,                       \
                                                               const patternnet::NetworkMoments&,                    \
                                                               const patternnet::QualityOptions&);
#define PATTERNNET_MAKE_PATTERNS_INSTANCE(KEYWORD, T, E)                                                   \
  KEYWORD patternnet::Patterns<T> patternnet::make_patterns(const patternnet::Graph<T>&,                    \
                                                            const patternnet::NetworkMoments*, const E&);
#define PATTERNNET_PATTERN_FITTING_INSTANCES(KEYWORD)                                 \
  PATTERNNET_PATTERN_FITTING_INSTANCE(KEYWORD, float)                                  \
  PATTERNNET_PATTERN_FITTING_INSTANCE(KEYWORD, double)                                 \
  KEYWORD void patternnet::BasicLayerMoments<double>::merge(const patternnet::LayerMoments&);

/// Integrated Gradients, SmoothGrad, image degradation, training (SGD, Adam), parameter gradients.
#define PATTERNNET_METHODS_INSTANCE(KEYWORD, T)                                                                         \
  KEYWORD patternnet::methods::IntegratedGradientsResult<T> patternnet::methods::integrated_gradients(                 \
      const patternnet::Graph<T>&, const patternnet::Batch<T>&, const patternnet::Target&,                            \
      const patternnet::methods::IntegratedGradientsOptions<T>&);                                                      \
  KEYWORD patternnet::Explanation<T> patternnet::methods::smoothgrad(const patternnet::Graph<T>&,                      \
                                                                     const patternnet::Batch<T>&,                      \
                                                                     const patternnet::Target&,                        \
                                                                     const patternnet::methods::SmoothGradOptions&);   \
  KEYWORD patternnet::DegradationCurve patternnet::degrade(const patternnet::Graph<T>&, const patternnet::Batch<T>&,   \
                                                           const patternnet::Batch<T>&,                                \
                                                           const patternnet::DegradationOptions&);                     \
  KEYWORD std::vector<patternnet::training::EpochReport> patternnet::training::train(                                  \
      patternnet::Graph<T>&, patternnet::training::Sgd<T>&, const patternnet::Batch<T>&,                              \
      std::span<const patternnet::Index>, const patternnet::training::TrainOptions&);                                  \
  KEYWORD std::vector<patternnet::training::EpochReport> patternnet::training::train(                                  \
      patternnet::Graph<T>&, patternnet::training::Adam<T>&, const patternnet::Batch<T>&,                             \
      std::span<const patternnet::Index>, const patternnet::training::TrainOptions&);                                  \
  KEYWORD std::vector<patternnet::training::ParameterGradient<T>> patternnet::training::parameter_gradients(           \
      const patternnet::Graph<T>&, const patternnet::ForwardRecord<T>&, patternnet::Index, patternnet::Matrix<T>,      \
      patternnet::training::BatchNormMode);                                                                            \
  KEYWORD double patternnet::training::accuracy(const patternnet::Graph<T>&, const patternnet::Batch<T>&,              \
                                                std::span<const patternnet::Index>, patternnet::Index);                \
  KEYWORD patternnet::Index patternnet::training::update_batch_norm(patternnet::Graph<T>&,                             \
                                                                    const patternnet::Batch<T>&, patternnet::Index);
#define PATTERNNET_METHODS_INSTANCES(KEYWORD) \
  PATTERNNET_METHODS_INSTANCE(KEYWORD, float)  \
  PATTERNNET_METHODS_INSTANCE(KEYWORD, double)

namespace patternnet::detail {
template <class List>
struct after_void;
template <class... Ls>
struct after_void<TypeList<Ls...>> {
  using type = TypeList<void, Ls...>;
};
#define PATTERNNET_LAYER_TYPE_OF(L, T) , L<T>
static_assert(std::is_same_v<after_void<LayerTypes<float>>::type,
                             TypeList<void PATTERNNET_FOR_EACH_LAYER_TYPE(PATTERNNET_LAYER_TYPE_OF, float)>>,
              "PATTERNNET_FOR_EACH_LAYER_TYPE must list the layer types of layers/registry.hpp, in its order");
#undef PATTERNNET_LAYER_TYPE_OF
}  // namespace patternnet::detail

#ifdef PATTERNNET_PRECOMPILED
PATTERNNET_GRAPH_INSTANCES(extern template)
PATTERNNET_GRADIENT_INSTANCES(extern template)
PATTERNNET_PATTERN_RULE_INSTANCES(extern template)
PATTERNNET_LRP_INSTANCES(extern template)
PATTERNNET_ANY_GRADIENT_RULE_INSTANCES(extern template)
PATTERNNET_ANY_LRP_RULE_INSTANCES(extern template)
PATTERNNET_COMPOSITE_INSTANCES(extern template)
PATTERNNET_PATTERN_FITTING_INSTANCES(extern template)
PATTERNNET_METHODS_INSTANCES(extern template)
#endif
