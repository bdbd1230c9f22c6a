// RMSNorm forward and backward.
#include <cmath>

#include "common/parallel.h"
#include "model/kernels/exec.h"
#include "model/kernels/kernels.h"
#include "model/kernels/vector_math.h"

namespace em {

namespace {

EM_VECTOR_CLONES void norm_row(float *y, const float *x, const float *weight, float r, int64_t C) {
    for (int64_t c = 0; c < C; ++c) y[c] = x[c] * r * weight[c];
}

EM_VECTOR_CLONES void norm_row_backward(float *dx, const float *dy, const float *x,
                                        const float *weight, float r, float k, int64_t C) {
    for (int64_t c = 0; c < C; ++c) dx[c] += r * dy[c] * weight[c] - k * x[c];
}

EM_VECTOR_CLONES void norm_weight_backward(float *dweight, const float *dy, const float *x, float r,
                                           int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) dweight[c] += dy[c] * x[c] * r;
}

}  // namespace

void rmsnorm_forward(float *out, float *rstd, const float *inp, const float *weight, int64_t N,
                     int64_t C, float eps, Exec ex) {
    exec_for(ex, N, [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n) {
            const float *x = inp + n * C;
            const double ss = dot_lanes(x, x, nullptr, C);
            float r = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(C) + eps));
            norm_row(out + n * C, x, weight, r, C);
            if (rstd) rstd[n] = r;
        }
    });
}

void rmsnorm_backward(float *dinp, float *dweight, const float *dout, const float *inp,
                      const float *weight, const float *rstd, int64_t N, int64_t C) {
    parallel_for(N, [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n) {
            const float *x = inp + n * C, *dy = dout + n * C;
            const float r = rstd[n];
            const double dot = dot_lanes(dy, weight, x, C);  // sum_c dy*w*x
            const float k = static_cast<float>(dot / static_cast<double>(C)) * r * r * r;
            norm_row_backward(dinp + n * C, dy, x, weight, r, k, C);
        }
    });
    // dweight: each thread owns a range of columns, so the sums do not depend on the split.
    parallel_for(C, [&](int64_t c0, int64_t c1) {
        for (int64_t n = 0; n < N; ++n)
            norm_weight_backward(dweight, dout + n * C, inp + n * C, rstd[n], c0, c1);
    });
}

}  // namespace em
