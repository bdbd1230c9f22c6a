// RMSNorm forward and backward.
#include <cmath>

#include "common/parallel.h"
#include "model/kernels/exec.h"
#include "model/kernels/kernels.h"

namespace em {

void rmsnorm_forward(float *out, float *rstd, const float *inp, const float *weight, int64_t N,
                     int64_t C, float eps, Exec ex) {
    exec_for(ex, N, [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n) {
            const float *x = inp + n * C;
            float *y = out + n * C;
            double ss = 0.0;
            for (int64_t c = 0; c < C; ++c) ss += static_cast<double>(x[c]) * x[c];
            float r = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(C) + eps));
            for (int64_t c = 0; c < C; ++c) y[c] = x[c] * r * weight[c];
            if (rstd) rstd[n] = r;
        }
    });
}

void rmsnorm_backward(float *dinp, float *dweight, const float *dout, const float *inp,
                      const float *weight, const float *rstd, int64_t N, int64_t C) {
    parallel_for(N, [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n) {
            const float *x = inp + n * C, *dy = dout + n * C;
            float *dx = dinp + n * C;
            float r = rstd[n];
            double dot = 0.0;  // sum_c dy*w*x
            for (int64_t c = 0; c < C; ++c) dot += static_cast<double>(dy[c]) * weight[c] * x[c];
            float k = static_cast<float>(dot / static_cast<double>(C)) * r * r * r;
            for (int64_t c = 0; c < C; ++c) dx[c] += r * dy[c] * weight[c] - k * x[c];
        }
    });
    // dweight: each thread owns a range of columns, so the sums do not depend on the split.
    parallel_for(C, [&](int64_t c0, int64_t c1) {
        for (int64_t n = 0; n < N; ++n) {
            const float *x = inp + n * C, *dy = dout + n * C;
            float r = rstd[n];
            for (int64_t c = c0; c < c1; ++c) dweight[c] += dy[c] * x[c] * r;
        }
    });
}

}  // namespace em
