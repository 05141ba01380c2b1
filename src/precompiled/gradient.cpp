// patternnet::precompiled (include/patternnet/precompiled.hpp): explain() / backward() with Gradient, InputTimesGradient, DeConvNet, Guided Backprop.
// Compiled with PATTERNNET_PRECOMPILED: the other groups are only declared here, not compiled.
#include <patternnet/precompiled.hpp>

PATTERNNET_GRADIENT_INSTANCES(template)
