#pragma once
// Threads over the samples of a batch. Compiled with OpenMP (-fopenmp; in CMake, link
// OpenMP::OpenMP_CXX), the per-sample loops of the layers run on OpenMP's threads
// (OMP_NUM_THREADS, omp_set_num_threads()); without it, and inside a parallel region of
// the caller's, they run on the calling thread. Each sample is computed by the same
// code whatever thread runs it, so results do not depend on the thread count.

#include <patternnet/core/shape.hpp>

#include <algorithm>

#ifdef _OPENMP
#include <omp.h>
#endif

/// Put before a loop over samples, with `const Index threads = detail::threads_for(N);` in
/// scope: runs the loop on that many threads (nothing without OpenMP).
#ifdef _OPENMP
#define PATTERNNET_PARALLEL_FOR_SAMPLES _Pragma("omp parallel for num_threads(threads) schedule(static) if (threads > 1)")
#else
#define PATTERNNET_PARALLEL_FOR_SAMPLES
#endif

namespace patternnet::detail {

/// The threads to run `tasks` independent tasks on: at most one per task, 1 when nested.
[[nodiscard]] inline Index threads_for(Index tasks) noexcept {
#ifdef _OPENMP
  if (omp_in_parallel()) return 1;
  return std::clamp<Index>(omp_get_max_threads(), 1, std::max<Index>(tasks, 1));
#else
  (void)tasks;
  return 1;
#endif
}

/// The index of the calling thread within the current parallel region (0 outside one).
[[nodiscard]] inline Index thread_index() noexcept {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

}  // namespace patternnet::detail
