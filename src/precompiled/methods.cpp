// patternnet::precompiled (include/patternnet/precompiled.hpp): Integrated Gradients, SmoothGrad, image degradation, training.
// Compiled with PATTERNNET_PRECOMPILED: the other groups are only declared here, not compiled.
#include <patternnet/precompiled.hpp>

PATTERNNET_METHODS_INSTANCES(template)
