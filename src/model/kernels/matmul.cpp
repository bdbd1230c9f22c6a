// Matrix products through OpenBLAS. OpenBLAS itself runs single-threaded; the products are split
// over the project's thread pool along an output dimension, so no two pools compete for cores
// and each output element is computed by exactly one sgemm call.
//
// The bits do not depend on the thread count either. OpenBLAS's blocked path gives an element the
// same value whatever the number of rows of the call (its sums over the inner dimension are blocked
// by a fixed depth), but a product of at most 100^3 multiply-adds goes, on the CPUs that have them,
// to small-matrix kernels that sum in another order. So every chunk stays well above that size:
// a product too small for two such chunks is one call at any thread count.
#include <cblas.h>

#include <algorithm>

#include "common/parallel.h"
#include "model/kernels/exec.h"
#include "model/kernels/kernels.h"

namespace em {
namespace {

// The least multiply-adds of a chunk: four times OpenBLAS's small-matrix bound.
constexpr int64_t kMinChunkWork = int64_t{1} << 22;

// Calls fn on row ranges covering [0, n), each row costing `row_work` multiply-adds: one range per
// thread, in blocks of 16 rows from 64 rows up so that chunks stay on BLAS's fast path. Fewer
// ranges than threads where one would fall under kMinChunkWork (each then still does at least half
// of it, whatever the rounding to blocks), and [0, n) at once where two would; serially, [0, n).
template <typename F>
void split_rows(Exec ex, int64_t n, int64_t row_work, F &&fn) {
    const int64_t align = n >= 64 ? 16 : 1;
    const int64_t blocks = (n + align - 1) / align;
    // At most one range per thread and per block, two rows at least (a one-row product may go to
    // BLAS's matrix-vector path), and each of at least kMinChunkWork.
    const int64_t ranges = std::min({static_cast<int64_t>(parallel_threads()),
                                     std::min(blocks, n / 2), n * row_work / kMinChunkWork});
    if (ex == Exec::serial || ranges < 2) {
        if (n > 0) fn(0, n);
        return;
    }
    // `ranges` contiguous runs of blocks; parallel_for hands out one run per thread.
    parallel_for(ranges, [&](int64_t g0, int64_t g1) {
        const int64_t r0 = g0 * blocks / ranges * align,
                      r1 = std::min(n, g1 * blocks / ranges * align);
        if (r0 < r1) fn(r0, r1);
    });
}

struct BlasSingleThread {
    BlasSingleThread() { openblas_set_num_threads(1); }
} blas_single_thread;

}  // namespace

void matmul_forward(float *out, const float *inp, const float *weight, int64_t N, int64_t C,
                    int64_t OC, Exec ex) {
    split_rows(ex, N, C * OC, [&](int64_t r0, int64_t r1) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r1 - r0, OC, C, 1.0f, inp + r0 * C, C,
                    weight, C, 0.0f, out + r0 * OC, OC);
    });
}

void matmul_backward(float *dinp, float *dweight, const float *dout, const float *inp,
                     const float *weight, int64_t N, int64_t C, int64_t OC) {
    if (dinp) {
        split_rows(Exec::pool, N, C * OC, [&](int64_t r0, int64_t r1) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r1 - r0, C, OC, 1.0f,
                        dout + r0 * OC, OC, weight, C, 1.0f, dinp + r0 * C, C);
        });
    }
    if (dweight) {
        split_rows(Exec::pool, OC, C * N, [&](int64_t o0, int64_t o1) {
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, o1 - o0, C, N, 1.0f, dout + o0, OC,
                        inp, C, 1.0f, dweight + o0 * C, C);
        });
    }
}

}  // namespace em
