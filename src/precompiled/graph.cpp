// patternnet::precompiled (include/patternnet/precompiled.hpp): the forward pass (Graph<float>, Graph<double>).
// Compiled with PATTERNNET_PRECOMPILED: the other groups are only declared here, not compiled.
#include <patternnet/precompiled.hpp>

PATTERNNET_GRAPH_INSTANCES(template)
