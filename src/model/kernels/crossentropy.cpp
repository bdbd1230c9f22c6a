// Fused softmax and cross-entropy over the vocabulary: one pass for the max, one that turns the
// logits into exponentials (kept in place for the gradient) and sums them, one to scale them into
// gradients. The exponential is a branch-free polynomial the compiler vectorizes: with a
// vocabulary of thousands it is the kernel's whole cost, and for small models a large share of a
// training step.
//
// lm_head_crossentropy fuses the output head's product with the loss and its gradients, in the
// manner of Cut Cross-Entropy and Liger's fused linear cross-entropy: the logits of kHeadRows rows
// at a time, in vocabulary blocks of kHeadBlock, are made, turned into gradients and consumed while
// they are in cache, so the (N, V) logits (128 MB at 16 x 256 tokens and 8192 words) never reach
// memory. The chunk sizes were chosen by measurement (bench/train_bench.py --set paper-small): 512
// rows keep OpenBLAS's packing of the head's weights, repeated for every chunk, small against the
// products, and the chunk's 16 MB of exponentials (at 8192 words) stay in the last-level cache.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "common/parallel.h"
#include "model/kernels/kernels.h"
#include "model/kernels/vector_math.h"

namespace em {
namespace {

constexpr int kLanes = 16;    // independent partial sums and maxima, so loops vectorize
constexpr int kBlock = 1024;  // elements summed in float before the block total goes to double

EM_VECTOR_CLONES float row_max(const float *row, int64_t V) {
    float m[kLanes];
    for (int j = 0; j < kLanes; ++j) m[j] = row[0];
    int64_t v = 0;
    for (; v + kLanes <= V; v += kLanes)
        for (int j = 0; j < kLanes; ++j) m[j] = std::max(m[j], row[v + j]);
    float mx = m[0];
    for (int j = 1; j < kLanes; ++j) mx = std::max(mx, m[j]);
    for (; v < V; ++v) mx = std::max(mx, row[v]);
    return mx;
}

// Writes exp(row[v] - mx) into out[v] and returns their sum.
EM_VECTOR_CLONES double exp_sum(const float *row, float *out, int64_t V, float mx) {
    double total = 0.0;
    for (int64_t b = 0; b < V; b += kBlock) {
        const int64_t e = std::min(V, b + kBlock);
        float s[kLanes] = {};
        int64_t v = b;
        for (; v + kLanes <= e; v += kLanes)
            for (int j = 0; j < kLanes; ++j) {
                const float x = exp_nonpositive(row[v + j] - mx);
                out[v + j] = x;
                s[j] += x;
            }
        for (; v < e; ++v) {
            out[v] = exp_nonpositive(row[v] - mx);
            s[0] += out[v];
        }
        for (int j = 0; j < kLanes; ++j) total += s[j];
    }
    return total;
}

}  // namespace

float exp_nonpositive_for_test(float x) {
    return exp_nonpositive(x);
}

double crossentropy_forward_backward(float *logits, float *losses, const int32_t *targets,
                                     int64_t N, int64_t V, bool compute_grad) {
    int64_t counted = 0;
    for (int64_t n = 0; n < N; ++n) counted += targets[n] >= 0;
    const float inv_n = counted > 0 ? 1.0f / static_cast<float>(counted) : 0.0f;
    parallel_for(N, [&](int64_t n0, int64_t n1) {
        std::vector<float> scratch(compute_grad ? 0 : static_cast<size_t>(V));
        for (int64_t n = n0; n < n1; ++n) {
            float *row = logits + n * V;
            int32_t y = targets[n];
            if (y < 0) {
                losses[n] = 0.0f;
                if (compute_grad)
                    for (int64_t v = 0; v < V; ++v) row[v] = 0.0f;
                continue;
            }
            const float mx = row_max(row, V);
            const float target_logit = row[y];
            // With a gradient the exponentials replace the logits; without, they go to scratch.
            const double sum = exp_sum(row, compute_grad ? row : scratch.data(), V, mx);
            losses[n] = static_cast<float>(std::log(sum) + mx - target_logit);
            if (compute_grad) {
                const float scale = static_cast<float>(inv_n / sum);
                for (int64_t v = 0; v < V; ++v) row[v] *= scale;
                row[y] -= inv_n;
            }
        }
    });
    double total = 0.0;
    for (int64_t n = 0; n < N; ++n) total += losses[n];
    return counted > 0 ? total / static_cast<double>(counted) : 0.0;
}

size_t lm_head_crossentropy_scratch(int64_t C, int64_t V) {
    const int64_t blocks = (V + kHeadBlock - 1) / kHeadBlock;
    // The chunk's exponentials, each block's scaled inputs and partial input gradient, per
    // (row, block) max and sum, the rows' target logits.
    return static_cast<size_t>(kHeadRows * V + 2 * blocks * kHeadRows * C + 2 * kHeadRows * blocks +
                               kHeadRows);
}

namespace {

// Row i of out = scale[i] * row i of in, all rows C wide.
EM_VECTOR_CLONES void scale_rows(float *out, const float *in, const float *scale, int64_t stride,
                                 int64_t rows, int64_t C) {
    for (int64_t i = 0; i < rows; ++i) {
        const float s = scale[i * stride];
        for (int64_t c = 0; c < C; ++c) out[i * C + c] = s * in[i * C + c];
    }
}

// d += s * p, C wide.
EM_VECTOR_CLONES void add_scaled(float *d, const float *p, float s, int64_t C) {
    for (int64_t c = 0; c < C; ++c) d[c] += s * p[c];
}

}  // namespace

// With E the block's exponentials exp(logit - block max) and f = (1/n) exp(block max - M) / S the
// row's factor into softmax / n, the logits' gradient is f E - onehot / n. Its products are taken
// with the factor on the (R, C) side, where it is cheaper than on the (R, Vb) exponentials:
// dweight_b += E^T (f x) - x_i / n at each row's target, dinp_i += f (E W_b)_i - W[target_i] / n.
double lm_head_crossentropy(float *dinp, float *dweight, float *losses, const float *inp,
                            const float *weight, const int32_t *targets, int64_t N, int64_t C,
                            int64_t V, float *scratch) {
    const bool grad = dinp != nullptr || dweight != nullptr;
    const int64_t R = kHeadRows, blocks = (V + kHeadBlock - 1) / kHeadBlock;
    float *expo = scratch;                      // (R, V)
    float *xs = expo + R * V;                   // (blocks, R, C)
    float *part = xs + blocks * R * C;          // (blocks, R, C)
    float *bmax = part + blocks * R * C;        // (R, blocks)
    float *factor = bmax + R * blocks;          // (R, blocks): block sums, then factors
    float *target_logit = factor + R * blocks;  // (R)
    int64_t counted = 0;
    for (int64_t n = 0; n < N; ++n) counted += targets[n] >= 0;
    const float inv_n = counted > 0 ? 1.0f / static_cast<float>(counted) : 0.0f;

    for (int64_t r0 = 0; r0 < N; r0 += R) {
        const int64_t rows = std::min(R, N - r0);
        const float *x = inp + r0 * C;
        const int32_t *y = targets + r0;
        // Each block's logits, replaced by exp(logit - block max), with the block's sum.
        parallel_for(blocks, [&](int64_t b0, int64_t b1) {
            for (int64_t b = b0; b < b1; ++b) {
                const int64_t v0 = b * kHeadBlock, nv = std::min(kHeadBlock, V - v0);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, nv, C, 1.0f, x, C,
                            weight + v0 * C, C, 0.0f, expo + v0, V);
                for (int64_t i = 0; i < rows; ++i) {
                    float *row = expo + i * V + v0;
                    if (y[i] >= v0 && y[i] < v0 + nv) target_logit[i] = row[y[i] - v0];
                    const float mx = row_max(row, nv);
                    bmax[i * blocks + b] = mx;
                    factor[i * blocks + b] = static_cast<float>(exp_sum(row, row, nv, mx));
                }
            }
        });
        // Row totals over the blocks, in block order: the row's max M and sum S of exp(x - M).
        for (int64_t i = 0; i < rows; ++i) {
            float *f = factor + i * blocks;
            const float *m = bmax + i * blocks;
            if (y[i] < 0) {
                losses[r0 + i] = 0.0f;
                std::fill(f, f + blocks, 0.0f);
                continue;
            }
            float mx = m[0];
            for (int64_t b = 1; b < blocks; ++b) mx = std::max(mx, m[b]);
            double sum = 0.0;
            for (int64_t b = 0; b < blocks; ++b)
                sum += static_cast<double>(f[b]) * exp_nonpositive(m[b] - mx);
            losses[r0 + i] = static_cast<float>(std::log(sum) + mx - target_logit[i]);
            for (int64_t b = 0; b < blocks; ++b)
                f[b] = static_cast<float>(inv_n * exp_nonpositive(m[b] - mx) / sum);
        }
        if (!grad) continue;
        // Each block's share of both products.
        parallel_for(blocks, [&](int64_t b0, int64_t b1) {
            for (int64_t b = b0; b < b1; ++b) {
                const int64_t v0 = b * kHeadBlock, nv = std::min(kHeadBlock, V - v0);
                if (dweight) {
                    float *xb = xs + b * R * C;
                    scale_rows(xb, x, factor + b, blocks, rows, C);
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nv, C, rows, 1.0f,
                                expo + v0, V, xb, C, 1.0f, dweight + v0 * C, C);
                    for (int64_t i = 0; i < rows; ++i)
                        if (y[i] >= v0 && y[i] < v0 + nv)
                            add_scaled(dweight + y[i] * C, x + i * C, -inv_n, C);
                }
                if (dinp)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, C, nv, 1.0f,
                                expo + v0, V, weight + v0 * C, C, 0.0f, part + b * R * C, C);
            }
        });
        if (!dinp) continue;
        // The input gradient: the blocks' shares in block order, then the target's row.
        parallel_for(rows, [&](int64_t i0, int64_t i1) {
            for (int64_t i = i0; i < i1; ++i) {
                float *d = dinp + (r0 + i) * C;
                for (int64_t b = 0; b < blocks; ++b)
                    add_scaled(d, part + (b * R + i) * C, factor[i * blocks + b], C);
                if (y[i] >= 0) add_scaled(d, weight + y[i] * C, -inv_n, C);
            }
        });
    }
    double total = 0.0;
    for (int64_t n = 0; n < N; ++n) total += losses[n];
    return counted > 0 ? total / static_cast<double>(counted) : 0.0;
}

}  // namespace em
