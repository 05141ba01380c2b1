// patternnet::precompiled (include/patternnet/precompiled.hpp): AnyRule (for every layer type) of the gradient-type rules, Pass, Norm, PatternNet, PatternAttribution.
// Compiled with PATTERNNET_PRECOMPILED: the other groups are only declared here, not compiled.
#include <patternnet/precompiled.hpp>

PATTERNNET_ANY_GRADIENT_RULE_INSTANCES(template)
