// Causal self-attention with grouped-query heads. Work is split over (batch, kv head) pairs: all
// query heads that share a kv head run in one task, so gradients of k and v never race. The
// products are OpenBLAS's; the softmax and its backward use the kernels' vectorized row
// reductions and exponential (vector_math.h), whose sums run in an order fixed by the key's index.
#include <cblas.h>

#include <algorithm>
#include <cmath>

#include "common/parallel.h"
#include "model/kernels/kernels.h"
#include "model/kernels/vector_math.h"

namespace em {
namespace {

constexpr int64_t kBlock = 64;  // query rows per causal block

// row[0, n) *= s, then zero up to end.
EM_VECTOR_CLONES void scale_zero(float *row, float s, int64_t n, int64_t end) {
    for (int64_t u = 0; u < n; ++u) row[u] *= s;
    for (int64_t u = n; u < end; ++u) row[u] = 0.0f;
}

// The softmax's backward on one row: d = p * (d - dot) over [0, n), zero up to end.
EM_VECTOR_CLONES void softmax_grad_row(float *d, const float *p, float dot, int64_t n,
                                       int64_t end) {
    for (int64_t u = 0; u < n; ++u) d[u] = p[u] * (d[u] - dot);
    for (int64_t u = n; u < end; ++u) d[u] = 0.0f;
}

// One query head, m query rows q (m, HD) with row stride ldq, against keys/values in two runs (row
// stride ldk): k0, v0 (P rows), seen by every query row, then k1, v1, of which query row j sees
// the first before + j + 1 rows. p (m, ldp) gets the softmax probabilities, zero past each row's
// last visible key up to ldp (>= P + before + m); out (m, HD) with row stride ldo gets p @ v. The
// one place where attention's scores, softmax and weighted sum are computed.
void attention_block(float *out, int64_t ldo, float *p, int64_t ldp, const float *q, int64_t ldq,
                     const float *k0, const float *v0, int64_t P, const float *k1, const float *v1,
                     int64_t before, int64_t m, int64_t ldk, int64_t HD, float scale) {
    const int64_t own = before + m;
    if (P > 0)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, P, HD, scale, q, ldq, k0, ldk, 0.0f,
                    p, ldp);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, own, HD, scale, q, ldq, k1, ldk, 0.0f,
                p + P, ldp);
    for (int64_t j = 0; j < m; ++j) {
        float *row = p + j * ldp;
        const int64_t seen = P + before + j + 1;  // keys this row sees
        const float inv = 1.0f / static_cast<float>(exp_sum(row, row, seen, row_max(row, seen)));
        scale_zero(row, inv, seen, ldp);
    }
    float beta = 0.0f;
    if (P > 0) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, HD, P, 1.0f, p, ldp, v0, ldk,
                    0.0f, out, ldo);
        beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, HD, own, 1.0f, p + P, ldp, v1, ldk,
                beta, out, ldo);
}

}  // namespace

void attention_forward(float *out, float *att, const float *q, const float *k, const float *v,
                       int64_t B, int64_t T, int64_t NH, int64_t KV, int64_t HD) {
    const int64_t group = NH / KV, qs = NH * HD, ks = KV * HD;
    const float scale = 1.0f / std::sqrt(static_cast<float>(HD));
    parallel_for(B * KV, [&](int64_t j0, int64_t j1) {
        for (int64_t j = j0; j < j1; ++j) {
            int64_t b = j / KV, kh = j % KV;
            const float *kb = k + b * T * ks + kh * HD, *vb = v + b * T * ks + kh * HD;
            for (int64_t h = kh * group; h < (kh + 1) * group; ++h) {
                const float *qb = q + b * T * qs + h * HD;
                float *p = att + (b * NH + h) * T * T;
                // Query blocks [t0, t1) only need keys [0, t1): the upper triangle is never
                // computed.
                for (int64_t t0 = 0; t0 < T; t0 += kBlock) {
                    const int64_t n = std::min(T, t0 + kBlock) - t0;
                    attention_block(out + b * T * qs + t0 * qs + h * HD, qs, p + t0 * T, T,
                                    qb + t0 * qs, qs, kb, vb, 0, kb, vb, t0, n, ks, HD, scale);
                }
            }
        }
    });
}

void attention_forward_cached(float *out, float *scratch, const float *q, const float *kc,
                              const float *vc, int64_t P, const float *k_own, const float *v_own,
                              int64_t before, int64_t M, int64_t NH, int64_t KV, int64_t HD) {
    const int64_t group = NH / KV, qs = NH * HD, ks = KV * HD;
    const float scale = 1.0f / std::sqrt(static_cast<float>(HD));
    for (int64_t h = 0; h < NH; ++h) {
        const int64_t kh = h / group;
        attention_block(out + h * HD, qs, scratch, P + before + M, q + h * HD, qs, kc + kh * HD,
                        vc + kh * HD, P, k_own + kh * HD, v_own + kh * HD, before, M, ks, HD,
                        scale);
    }
}

void attention_backward(float *dq, float *dk, float *dv, float *scratch, const float *dout,
                        const float *att, const float *q, const float *k, const float *v, int64_t B,
                        int64_t T, int64_t NH, int64_t KV, int64_t HD) {
    const int64_t group = NH / KV, qs = NH * HD, ks = KV * HD;
    const float scale = 1.0f / std::sqrt(static_cast<float>(HD));
    parallel_for(B * KV, [&](int64_t j0, int64_t j1) {
        for (int64_t j = j0; j < j1; ++j) {
            int64_t b = j / KV, kh = j % KV;
            const float *kb = k + b * T * ks + kh * HD, *vb = v + b * T * ks + kh * HD;
            float *dkb = dk + b * T * ks + kh * HD, *dvb = dv + b * T * ks + kh * HD;
            for (int64_t h = kh * group; h < (kh + 1) * group; ++h) {
                const float *qb = q + b * T * qs + h * HD, *dob = dout + b * T * qs + h * HD;
                const float *p = att + (b * NH + h) * T * T;
                float *ds = scratch + (b * NH + h) * T * T;
                for (int64_t t0 = 0; t0 < T; t0 += kBlock) {
                    const int64_t t1 = std::min(T, t0 + kBlock), n = t1 - t0;
                    const float *pb = p + t0 * T, *dob_t = dob + t0 * qs;
                    float *db = ds + t0 * T;
                    // dv[0:t1] += P^T dout ; dP = dout V[0:t1]^T
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, t1, HD, n, 1.0f, pb, T,
                                dob_t, qs, 1.0f, dvb, ks);
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, t1, HD, 1.0f, dob_t, qs,
                                vb, ks, 0.0f, db, T);
                    // softmax backward: dS = P * (dP - sum(dP * P)), zero above the diagonal.
                    for (int64_t t = t0; t < t1; ++t) {
                        const float *pr = p + t * T;
                        float *dr = ds + t * T;
                        const float dot = static_cast<float>(dot_lanes(pr, dr, nullptr, t + 1));
                        softmax_grad_row(dr, pr, dot, t + 1, t1);
                    }
                    // dq[blk] += scale dS K[0:t1] ; dk[0:t1] += scale dS^T Q[blk]
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, HD, t1, scale, db, T,
                                kb, ks, 1.0f, dq + b * T * qs + t0 * qs + h * HD, qs);
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, t1, HD, n, scale, db, T,
                                qb + t0 * qs, qs, 1.0f, dkb, ks);
                }
            }
        }
    });
}

}  // namespace em
