// How the forward kernels hand out their rows: to the thread pool's chunks, or all at once on the
// calling thread (see Exec in kernels.h). The row loop is the same function either way.
#pragma once

#include <functional>

#include "common/parallel.h"
#include "model/kernels/kernels.h"

namespace em {

// Calls fn(begin, end) on chunks covering [0, n): parallel_for's, or [0, n) on this thread.
inline void exec_for(Exec ex, int64_t n, const std::function<void(int64_t, int64_t)> &fn) {
    if (ex == Exec::pool)
        parallel_for(n, fn);
    else if (n > 0)
        fn(0, n);
}

}  // namespace em
