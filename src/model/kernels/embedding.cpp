// Token embedding lookup, residual addition and SwiGLU: the cheap elementwise ops.
#include <cmath>

#include "common/parallel.h"
#include "model/kernels/exec.h"
#include "model/kernels/kernels.h"
#include "model/kernels/vector_math.h"

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

namespace {

EM_VECTOR_CLONES void add_rows(float *out, const float *inp, int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) out[i] += inp[i];
}

EM_VECTOR_CLONES void swiglu_rows(float *out, const float *gate, const float *up, int64_t i0,
                                  int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
        const float a = gate[i];
        out[i] = a * sigmoid(a) * up[i];
    }
}

EM_VECTOR_CLONES void swiglu_backward_rows(float *dgate, float *dup, const float *dout,
                                           const float *gate, const float *up, int64_t i0,
                                           int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
        const float a = gate[i];
        const float s = sigmoid(a);
        const float silu = a * s;
        dgate[i] += dout[i] * up[i] * s * (1.0f + a * (1.0f - s));
        dup[i] += dout[i] * silu;
    }
}

}  // namespace

void residual_add(float *out, const float *inp, int64_t n, Exec ex) {
    exec_for(ex, n, [&](int64_t i0, int64_t i1) { add_rows(out, inp, i0, i1); });
}

void swiglu_forward(float *out, const float *gate, const float *up, int64_t N, int64_t F, Exec ex) {
    exec_for(ex, N * F, [&](int64_t i0, int64_t i1) { swiglu_rows(out, gate, up, i0, i1); });
}

void swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate,
                     const float *up, int64_t N, int64_t F) {
    parallel_for(N * F, [&](int64_t i0, int64_t i1) {
        swiglu_backward_rows(dgate, dup, dout, gate, up, i0, i1);
    });
}

}  // namespace em
