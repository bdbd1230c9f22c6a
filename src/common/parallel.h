// A small fork-join thread pool with passive waits. Workers sleep on a condition variable between
// parallel regions, so an idle pool costs no CPU (spinning workers are ruinous on a shared host).
// Work is split into fixed contiguous chunks that depend only on n and the thread count, so
// results are bit-identical from run to run at the same thread count.
#pragma once

#include <cstdint>
#include <functional>

namespace em {

// Sets the number of threads used by parallel_for (>= 1) and by matrix products. Not thread-safe;
// call it from the main thread while no parallel region runs.
void parallel_set_threads(int n);
int parallel_threads();

// Calls fn(begin, end) on disjoint chunks covering [0, n), one chunk per thread (fewer when n is
// small). Blocks until all chunks are done. Must not be nested.
void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)> &fn);

// The default thread count: EMERGENCE_THREADS if set, else the number of online CPUs.
int parallel_default_threads();

}  // namespace em
