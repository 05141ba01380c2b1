// patternnet::precompiled (include/patternnet/precompiled.hpp): AnyRule (for every layer type) of the LRP rules.
// Compiled with PATTERNNET_PRECOMPILED: the other groups are only declared here, not compiled.
#include <patternnet/precompiled.hpp>

PATTERNNET_ANY_LRP_RULE_INSTANCES(template)
