// patternnet::precompiled (include/patternnet/precompiled.hpp): Composite::resolve(), explain() / backward() of a resolved composite, the preset composites.
// Compiled with PATTERNNET_PRECOMPILED: the other groups are only declared here, not compiled.
#include <patternnet/precompiled.hpp>

PATTERNNET_COMPOSITE_INSTANCES(template)
