// patternnet::precompiled (include/patternnet/precompiled.hpp): explain() / backward() with every LRP rule.
// Compiled with PATTERNNET_PRECOMPILED: the other groups are only declared here, not compiled.
#include <patternnet/precompiled.hpp>

PATTERNNET_LRP_INSTANCES(template)
