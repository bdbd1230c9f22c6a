// Token embedding lookup, residual addition and SwiGLU: the cheap elementwise ops.
#include <cmath>

#include "common/parallel.h"
#include "model/kernels/exec.h"
#include "model/kernels/kernels.h"

namespace em {

void embedding_forward(float *out, const int32_t *inp, const float *wte, int64_t BT, int64_t C,
                       Exec ex) {
    exec_for(ex, BT, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
            const float *row = wte + static_cast<int64_t>(inp[i]) * C;
            for (int64_t c = 0; c < C; ++c) out[i * C + c] = row[c];
        }
    });
}

void embedding_backward(float *dwte, const float *dout, const int32_t *inp, int64_t BT, int64_t C) {
    // Threads own column ranges, so repeated tokens never race and sums keep a fixed order.
    parallel_for(C, [&](int64_t c0, int64_t c1) {
        for (int64_t i = 0; i < BT; ++i) {
            float *row = dwte + static_cast<int64_t>(inp[i]) * C;
            const float *g = dout + i * C;
            for (int64_t c = c0; c < c1; ++c) row[c] += g[c];
        }
    });
}

void residual_add(float *out, const float *inp, int64_t n, Exec ex) {
    exec_for(ex, n, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) out[i] += inp[i];
    });
}

void swiglu_forward(float *out, const float *gate, const float *up, int64_t N, int64_t F, Exec ex) {
    exec_for(ex, N * F, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
            float a = gate[i];
            out[i] = a / (1.0f + std::exp(-a)) * up[i];
        }
    });
}

void swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate,
                     const float *up, int64_t N, int64_t F) {
    parallel_for(N * F, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
            float a = gate[i];
            float s = 1.0f / (1.0f + std::exp(-a));
            float silu = a * s;
            dgate[i] += dout[i] * up[i] * s * (1.0f + a * (1.0f - s));
            dup[i] += dout[i] * silu;
        }
    });
}

}  // namespace em
