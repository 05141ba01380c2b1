#pragma once
// Umbrella header: everything in the core library (no optional I/O components).
// Fine-grained headers are available for faster builds.

#include <patternnet/core/batch.hpp>
#include <patternnet/core/batches.hpp>
#include <patternnet/core/error.hpp>
#include <patternnet/core/im2col.hpp>
#include <patternnet/core/shape.hpp>
#include <patternnet/estimators/estimator.hpp>
#include <patternnet/estimators/filter.hpp>
#include <patternnet/estimators/fit.hpp>
#include <patternnet/estimators/identity.hpp>
#include <patternnet/estimators/linear.hpp>
#include <patternnet/estimators/moments.hpp>
#include <patternnet/estimators/patterns.hpp>
#include <patternnet/estimators/random.hpp>
#include <patternnet/estimators/two_component.hpp>
#include <patternnet/evaluation/toy_problem.hpp>
#include <patternnet/layers/concepts.hpp>
#include <patternnet/layers/conv2d.hpp>
#include <patternnet/layers/dense.hpp>
#include <patternnet/layers/flatten.hpp>
#include <patternnet/layers/max_pool2d.hpp>
#include <patternnet/layers/options.hpp>
#include <patternnet/layers/relu.hpp>
#include <patternnet/layers/softmax.hpp>
#include <patternnet/network/explain.hpp>
#include <patternnet/network/sequential.hpp>
#include <patternnet/network/target.hpp>
#include <patternnet/rules/gradient.hpp>
#include <patternnet/rules/pattern.hpp>
#include <patternnet/rules/rule.hpp>
