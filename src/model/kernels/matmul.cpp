// Matrix products through OpenBLAS. OpenBLAS itself runs single-threaded; the products are split
// over the project's thread pool along an output dimension, so no two pools compete for cores
// and each output element is computed by exactly one sgemm call.
#include <cblas.h>

#include "common/parallel.h"
#include "model/kernels/exec.h"
#include "model/kernels/kernels.h"

namespace em {
namespace {

// Rows per chunk are kept at multiples of 16 so that small chunks do not fall off BLAS's fast path.
int64_t chunk_align(int64_t n) {
    return n >= 64 ? 16 : 1;
}

// Serial: one chunk of all n rows.
template <typename F>
void split_rows(Exec ex, int64_t n, F &&fn) {
    int64_t a = chunk_align(n);
    int64_t blocks = (n + a - 1) / a;
    exec_for(ex, blocks, [&](int64_t b0, int64_t b1) {
        int64_t r0 = b0 * a, r1 = std::min(n, b1 * a);
        if (r0 < r1) fn(r0, r1);
    });
}

struct BlasSingleThread {
    BlasSingleThread() { openblas_set_num_threads(1); }
} blas_single_thread;

}  // namespace

void matmul_forward(float *out, const float *inp, const float *weight, int64_t N, int64_t C,
                    int64_t OC, Exec ex) {
    split_rows(ex, N, [&](int64_t r0, int64_t r1) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r1 - r0, OC, C, 1.0f, inp + r0 * C, C,
                    weight, C, 0.0f, out + r0 * OC, OC);
    });
}

void matmul_backward(float *dinp, float *dweight, const float *dout, const float *inp,
                     const float *weight, int64_t N, int64_t C, int64_t OC) {
    if (dinp) {
        split_rows(Exec::pool, N, [&](int64_t r0, int64_t r1) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r1 - r0, C, OC, 1.0f,
                        dout + r0 * OC, OC, weight, C, 1.0f, dinp + r0 * C, C);
        });
    }
    if (dweight) {
        split_rows(Exec::pool, OC, [&](int64_t o0, int64_t o1) {
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, o1 - o0, C, N, 1.0f, dout + o0, OC,
                        inp, C, 1.0f, dweight + o0 * C, C);
        });
    }
}

}  // namespace em
