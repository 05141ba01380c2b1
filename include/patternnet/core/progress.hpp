#pragma once
// Progress reports of long passes (fitting, training, evaluation). The library never
// prints: it calls the user's callback after every batch.

#include <patternnet/core/shape.hpp>

#include <functional>

namespace patternnet {

/// Progress of a pass over a batch source (total_samples = -1 if the source cannot tell).
struct Progress {
  Index batches = 0;
  Index samples = 0;
  Index total_samples = -1;
};
using ProgressCallback = std::function<void(const Progress&)>;

}  // namespace patternnet
