// patternnet::precompiled (include/patternnet/precompiled.hpp): explain() / backward() with PatternNet and PatternAttribution.
// Compiled with PATTERNNET_PRECOMPILED: the other groups are only declared here, not compiled.
#include <patternnet/precompiled.hpp>

PATTERNNET_PATTERN_RULE_INSTANCES(template)
