// patternnet::precompiled (include/patternnet/precompiled.hpp): moments over batches(), make_patterns() with every estimator, rho(S).
// Compiled with PATTERNNET_PRECOMPILED: the other groups are only declared here, not compiled.
#include <patternnet/precompiled.hpp>

PATTERNNET_PATTERN_FITTING_INSTANCES(template)
