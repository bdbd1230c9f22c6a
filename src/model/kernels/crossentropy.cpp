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
// Its products are OpenBLAS's (lm_head_crossentropy_blas) or, on AVX-512 CPUs and widths that are
// a multiple of 16, hand-written ones (lm_head_crossentropy_avx512, below), 1.06-1.22x faster for
// the head alone at d_model 224-64.
#include <cblas.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "common/parallel.h"
#include "model/kernels/kernels.h"
#include "model/kernels/vector_math.h"

#if defined(__GNUC__) && defined(__x86_64__)
#define EM_HEAD_AVX512 1
#include <immintrin.h>
#endif

namespace em {
namespace {

// The rows that count (target >= 0), and the mean of their losses (ignored rows hold 0).
int64_t count_targets(const int32_t *targets, int64_t N) {
    int64_t counted = 0;
    for (int64_t n = 0; n < N; ++n) counted += targets[n] >= 0;
    return counted;
}
double mean_loss(const float *losses, int64_t N, int64_t counted) {
    double total = 0.0;
    for (int64_t n = 0; n < N; ++n) total += losses[n];
    return counted > 0 ? total / static_cast<double>(counted) : 0.0;
}

}  // namespace

float exp_nonpositive_for_test(float x) {
    return exp_nonpositive(x);
}

double crossentropy_forward_backward(float *logits, float *losses, const int32_t *targets,
                                     int64_t N, int64_t V, bool compute_grad) {
    const int64_t counted = count_targets(targets, N);
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
    return mean_loss(losses, N, counted);
}

size_t lm_head_crossentropy_scratch(int64_t C, int64_t V) {
    const int64_t blocks = (V + kHeadBlock - 1) / kHeadBlock;
    // The chunk's exponentials, each block's scaled inputs and partial input gradient, per
    // (row, block) max and sum, the rows' target logits.
    const int64_t blas = kHeadRows * V + 2 * blocks * kHeadRows * C;
    // The hand-written head's: the weights in panels of 16 words, the chunk's padded
    // exponentials and each block's scaled inputs.
    const int64_t hand =
        (V + 15) / 16 * 16 * C + blocks * kHeadRows * (kHeadBlock + 16) + blocks * kHeadRows * C;
    return static_cast<size_t>(std::max(blas, hand) + 2 * kHeadRows * blocks + kHeadRows);
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

namespace {

// A row's logits in the block of nv words from v0, replaced by exp(logit - the block's max): keeps
// the target's logit when it lies in the block, the block's max and the exponentials' sum. The
// max is row_max's, or the largest of 16 lane maxima the logits' product kept (lanes); a max is
// exact in any order, so both give the same bits.
void exponentiate(float *row, int64_t nv, int64_t v0, int32_t y, float *target_logit, float *bmax,
                  float *bsum, const float *lanes = nullptr) {
    if (y >= v0 && y < v0 + nv) *target_logit = row[y - v0];
    *bmax = lanes != nullptr ? *std::max_element(lanes, lanes + 16) : row_max(row, nv);
    *bsum = static_cast<float>(exp_sum(row, row, nv, *bmax));
}

// Row totals over the blocks, in block order: each row's max M and sum S of exp(x - M) from its
// blocks' maxima and sums, its loss, and its factors f = (1/n) exp(block max - M) / S, which
// replace the block sums in factor.
void row_totals(float *losses, float *factor, const float *bmax, const float *target_logit,
                const int32_t *y, int64_t rows, int64_t blocks, float inv_n) {
    for (int64_t i = 0; i < rows; ++i) {
        float *f = factor + i * blocks;
        const float *m = bmax + i * blocks;
        if (y[i] < 0) {
            losses[i] = 0.0f;
            std::fill(f, f + blocks, 0.0f);
            continue;
        }
        float mx = m[0];
        for (int64_t b = 1; b < blocks; ++b) mx = std::max(mx, m[b]);
        double sum = 0.0;
        for (int64_t b = 0; b < blocks; ++b)
            sum += static_cast<double>(f[b]) * exp_nonpositive(m[b] - mx);
        losses[i] = static_cast<float>(std::log(sum) + mx - target_logit[i]);
        for (int64_t b = 0; b < blocks; ++b)
            f[b] = static_cast<float>(inv_n * exp_nonpositive(m[b] - mx) / sum);
    }
}

}  // namespace

// With E the block's exponentials exp(logit - block max) and f = (1/n) exp(block max - M) / S the
// row's factor into softmax / n, the logits' gradient is f E - onehot / n. Its products are taken
// with the factor on the (R, C) side, where it is cheaper than on the (R, Vb) exponentials:
// dweight_b += E^T (f x) - x_i / n at each row's target, dinp_i += f (E W_b)_i - W[target_i] / n.
double lm_head_crossentropy_blas(float *dinp, float *dweight, float *losses, const float *inp,
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
    const int64_t counted = count_targets(targets, N);
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
                for (int64_t i = 0; i < rows; ++i)
                    exponentiate(expo + i * V + v0, nv, v0, y[i], target_logit + i,
                                 bmax + i * blocks + b, factor + i * blocks + b);
            }
        });
        row_totals(losses + r0, factor, bmax, target_logit, y, rows, blocks, inv_n);
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
    return mean_loss(losses, N, counted);
}

// The hand-written head for AVX-512 machines and widths C that are a multiple of 16. OpenBLAS
// packs both operands of every product: with the head's thin side C (64-224), the (rows, block)
// exponentials are packed twice, once per backward product, and the logits' product first clears
// its output. These products read the exponentials where they lie: the logits are made by
// register tiles against the head's weights packed once per call in panels of 16 words (Wt),
// each row's block is turned into exponentials while it is in the first-level cache, and both
// backward products broadcast the exponentials against rows of C values held in vector
// registers. Every sum runs in a fixed order (over C, over the block's words, over the chunk's
// rows) whatever the tiling, so results do not depend on the thread count.
namespace {

constexpr int64_t kEStride = kHeadBlock + 16;  // a block's row of exponentials, padded so
                                               // that rows do not share cache sets
constexpr int kMaxTile = 6;                    // rows (or words) per register tile

#ifdef EM_HEAD_AVX512
#define EM_AVX512 __attribute__((target("avx512f")))

// Loads a vector once into a register for all its uses: left alone, GCC folds the load into
// every multiply-add that uses it, one load per product, and the tiles become load-bound.
EM_AVX512 inline void keep_in_register(__m512 &v) {
    asm("" : "+v"(v));
}

// Logits of MR rows against NP panels of 16 words: e[r][p*16 + j] = x[r] . w[word p*16 + j]; and
// where lanes is not null, lanes[r][j] = max(lanes[r][j], the row's logits p*16 + j over p), so
// the exponentials need no separate pass for the block's max.
template <int MR, int NP>
EM_AVX512 void logits_tile(const float *x, int64_t C, const float *wt, float *e, float *lanes) {
    __m512 acc[MR][NP];
    for (int r = 0; r < MR; ++r)
        for (int p = 0; p < NP; ++p) acc[r][p] = _mm512_setzero_ps();
    for (int64_t c = 0; c < C; ++c) {
        __m512 w[NP];
        for (int p = 0; p < NP; ++p) {
            w[p] = _mm512_loadu_ps(wt + (p * C + c) * 16);
            keep_in_register(w[p]);
        }
        for (int r = 0; r < MR; ++r) {
            const __m512 xb = _mm512_set1_ps(x[r * C + c]);
            for (int p = 0; p < NP; ++p) acc[r][p] = _mm512_fmadd_ps(xb, w[p], acc[r][p]);
        }
    }
    for (int r = 0; r < MR; ++r)
        for (int p = 0; p < NP; ++p) _mm512_storeu_ps(e + r * kEStride + p * 16, acc[r][p]);
    if (lanes == nullptr) return;
    for (int r = 0; r < MR; ++r) {
        __m512 m = _mm512_loadu_ps(lanes + r * 16);
        // The masked form: the plain one's undefined pass-through trips GCC 12's
        // -Wmaybe-uninitialized.
        for (int p = 0; p < NP; ++p) m = _mm512_mask_max_ps(m, 0xFFFF, m, acc[r][p]);
        _mm512_storeu_ps(lanes + r * 16, m);
    }
}

// Both backward products, for MA outputs (rows of the input gradient, or words of the weights'
// gradient) and G vectors of columns: out[a] += scale[a] * (sum over k of e[a][k] * src[k]),
// where e[a][k] = e[a * sa + k * sk] are exponentials, src[k] rows of C values, and scale is 1
// where null. The input gradient walks a row's words (src the block's weights); the weights'
// gradient walks a word's rows (src the rows' scaled inputs). There each step of k is a row of
// exponentials further (kEStride floats, more than a 4 KB page), a stride the hardware prefetchers
// do not follow, and the block's exponentials outgrow the second-level cache at d_model 256: the
// tile prefetches the row kPrefetchRows ahead (measured: that pass 1.18-1.23x the input
// gradient's time at d_model 256 without, 1.09-1.13x with). A prefetch reads nothing into the sums.
constexpr int64_t kPrefetchRows = 16;
template <int MA, int G>
EM_AVX512 void gradient_tile(const float *e, int64_t sa, int64_t sk, const float *src, int64_t C,
                             int64_t K, const float *scale, int64_t sstride, float *out) {
    __m512 acc[MA][G];
    for (int a = 0; a < MA; ++a)
        for (int g = 0; g < G; ++g) acc[a][g] = _mm512_setzero_ps();
    const bool down_rows = sk > 1;
    for (int64_t k = 0; k < K; ++k) {
        if (down_rows)
            _mm_prefetch(
                reinterpret_cast<const char *>(e + std::min(k + kPrefetchRows, K - 1) * sk),
                _MM_HINT_T0);
        __m512 eb[MA];
        for (int a = 0; a < MA; ++a) eb[a] = _mm512_set1_ps(e[a * sa + k * sk]);
        for (int g = 0; g < G; ++g) {
            __m512 v = _mm512_loadu_ps(src + k * C + g * 16);
            keep_in_register(v);
            for (int a = 0; a < MA; ++a) acc[a][g] = _mm512_fmadd_ps(eb[a], v, acc[a][g]);
        }
    }
    for (int a = 0; a < MA; ++a) {
        const __m512 s = _mm512_set1_ps(scale != nullptr ? scale[a * sstride] : 1.0f);
        for (int g = 0; g < G; ++g) {
            float *o = out + a * C + g * 16;
            const __m512 add = scale != nullptr ? _mm512_mul_ps(s, acc[a][g]) : acc[a][g];
            _mm512_storeu_ps(o, _mm512_add_ps(_mm512_loadu_ps(o), add));
        }
    }
}

// Tables of the tiles' instances, indexed by size - 1, so the drivers pick one at run time.
template <int NP, int... R>
constexpr auto logits_row(std::integer_sequence<int, R...>) {
    return std::array<void (*)(const float *, int64_t, const float *, float *, float *),
                      sizeof...(R)>{&logits_tile<R + 1, NP>...};
}
template <int... P>
constexpr auto logits_table(std::integer_sequence<int, P...>) {
    return std::array{logits_row<P + 1>(std::make_integer_sequence<int, kMaxTile>())...};
}
template <int G, int... R>
constexpr auto gradient_row(std::integer_sequence<int, R...>) {
    return std::array<void (*)(const float *, int64_t, int64_t, const float *, int64_t, int64_t,
                               const float *, int64_t, float *),
                      sizeof...(R)>{&gradient_tile<R + 1, G>...};
}
template <int... G>
constexpr auto gradient_table(std::integer_sequence<int, G...>) {
    return std::array{gradient_row<G + 1>(std::make_integer_sequence<int, kMaxTile>())...};
}
constexpr int kMaxPanels = 4, kMaxGroup = 6, kSplitGroup = 4, kMaxGroups = 16;
constexpr auto kLogits = logits_table(std::make_integer_sequence<int, kMaxPanels>());
constexpr auto kGradient = gradient_table(std::make_integer_sequence<int, kMaxGroup>());

// C's 16-wide vectors: one group when there are at most kMaxGroup, else groups of at most
// kSplitGroup, as even as possible. A group of g vectors takes tiles of t = min(kMaxTile, 24 / g)
// rows, so that a tile's t g sums, its t broadcasts and one loaded vector fit the 32 registers.
// Measured (bench/train_bench, interleaved): at d_model 128-256 groups of 4 (tiles of 6 rows)
// beat groups of 8 (tiles of 3) by 1-8% for the head alone; at d_model 96 one group of 6 (tiles
// of 4, 24 sums, one pass over the exponentials) beats two of 3 (18 sums, two passes) by about 4%
// of a whole d96/L1 training step.
struct Groups {
    int n, size[kMaxGroups], start[kMaxGroups];
};
Groups column_groups(int64_t C) {
    const int vecs = static_cast<int>(C / 16);
    Groups gr{};
    const int cap = vecs <= kMaxGroup ? kMaxGroup : kSplitGroup;
    gr.n = (vecs + cap - 1) / cap;
    for (int k = 0, at = 0; k < gr.n; ++k) {
        gr.size[k] = (vecs - at + (gr.n - k) - 1) / (gr.n - k);
        gr.start[k] = at;
        at += gr.size[k];
    }
    return gr;
}
int tile_for(int g) {
    return std::min(kMaxTile, 24 / g);
}
#endif

}  // namespace

bool lm_head_avx512_usable(int64_t C) {
#ifdef EM_HEAD_AVX512
    return C % 16 == 0 && C / 16 <= kMaxGroups * kSplitGroup && __builtin_cpu_supports("avx512f");
#else
    (void)C;
    return false;
#endif
}

double lm_head_crossentropy_avx512(float *dinp, float *dweight, float *losses, const float *inp,
                                   const float *weight, const int32_t *targets, int64_t N,
                                   int64_t C, int64_t V, float *scratch) {
#ifndef EM_HEAD_AVX512
    return lm_head_crossentropy_blas(dinp, dweight, losses, inp, weight, targets, N, C, V, scratch);
#else
    if (!lm_head_avx512_usable(C))
        return lm_head_crossentropy_blas(dinp, dweight, losses, inp, weight, targets, N, C, V,
                                         scratch);
    const bool grad = dinp != nullptr || dweight != nullptr;
    const int64_t R = kHeadRows, blocks = (V + kHeadBlock - 1) / kHeadBlock;
    const int64_t panels = (V + 15) / 16;
    float *wt = scratch;                        // (panels, C, 16): the weights, 16 words a panel
    float *expo = wt + panels * 16 * C;         // (blocks, R, kEStride)
    float *xs = expo + blocks * R * kEStride;   // (blocks, R, C)
    float *bmax = xs + blocks * R * C;          // (R, blocks)
    float *factor = bmax + R * blocks;          // (R, blocks): block sums, then factors
    float *target_logit = factor + R * blocks;  // (R)
    const int64_t counted = count_targets(targets, N);
    const float inv_n = counted > 0 ? 1.0f / static_cast<float>(counted) : 0.0f;
    parallel_for(panels, [&](int64_t p0, int64_t p1) {
        for (int64_t p = p0; p < p1; ++p)
            for (int64_t c = 0; c < C; ++c)
                for (int64_t j = 0; j < 16; ++j) {
                    const int64_t v = p * 16 + j;
                    wt[(p * C + c) * 16 + j] = v < V ? weight[v * C + c] : 0.0f;
                }
    });
    const Groups gr = column_groups(C);

    for (int64_t r0 = 0; r0 < N; r0 += R) {
        const int64_t rows = std::min(R, N - r0);
        const float *x = inp + r0 * C;
        const int32_t *y = targets + r0;
        parallel_for(blocks, [&](int64_t b0, int64_t b1) {
            for (int64_t b = b0; b < b1; ++b) {
                const int64_t v0 = b * kHeadBlock, nv = std::min(kHeadBlock, V - v0);
                const int64_t np = (nv + 15) / 16;
                float *eb = expo + b * R * kEStride;
                // Lane maxima only where every panel is whole: a partial panel's padding words
                // have logit 0, which must not count.
                float lane_max[kMaxTile * 16];
                float *lanes = nv % 16 == 0 ? lane_max : nullptr;
                for (int64_t i0 = 0; i0 < rows; i0 += kMaxTile) {
                    const int64_t mr = std::min<int64_t>(kMaxTile, rows - i0);
                    std::fill(lane_max, lane_max + kMaxTile * 16, -INFINITY);
                    for (int64_t p = 0; p < np; p += kMaxPanels) {
                        const int64_t n = std::min<int64_t>(kMaxPanels, np - p);
                        kLogits[n - 1][mr - 1](x + i0 * C, C, wt + (v0 / 16 + p) * 16 * C,
                                               eb + i0 * kEStride + p * 16, lanes);
                    }
                    for (int64_t i = i0; i < i0 + mr; ++i)
                        exponentiate(eb + i * kEStride, nv, v0, y[i], target_logit + i,
                                     bmax + i * blocks + b, factor + i * blocks + b,
                                     lanes != nullptr ? lanes + (i - i0) * 16 : nullptr);
                }
            }
        });
        row_totals(losses + r0, factor, bmax, target_logit, y, rows, blocks, inv_n);
        if (!grad) continue;
        if (dweight)
            parallel_for(blocks, [&](int64_t b0, int64_t b1) {
                for (int64_t b = b0; b < b1; ++b) {
                    const int64_t v0 = b * kHeadBlock, nv = std::min(kHeadBlock, V - v0);
                    const float *eb = expo + b * R * kEStride;
                    float *xb = xs + b * R * C;
                    scale_rows(xb, x, factor + b, blocks, rows, C);
                    for (int k = 0; k < gr.n; ++k) {
                        const int g = gr.size[k], t = tile_for(g);
                        const int64_t c0 = gr.start[k] * 16;
                        for (int64_t m = 0; m < nv; m += t) {
                            const int64_t mv = std::min<int64_t>(t, nv - m);
                            kGradient[g - 1][mv - 1](eb + m, 1, kEStride, xb + c0, C, rows, nullptr,
                                                     0, dweight + (v0 + m) * C + c0);
                        }
                    }
                    for (int64_t i = 0; i < rows; ++i)
                        if (y[i] >= v0 && y[i] < v0 + nv)
                            add_scaled(dweight + y[i] * C, x + i * C, -inv_n, C);
                }
            });
        if (!dinp) continue;
        parallel_for(rows, [&](int64_t i0, int64_t i1) {
            for (int64_t b = 0; b < blocks; ++b) {
                const int64_t v0 = b * kHeadBlock, nv = std::min(kHeadBlock, V - v0);
                const float *eb = expo + b * R * kEStride;
                for (int k = 0; k < gr.n; ++k) {
                    const int g = gr.size[k], t = tile_for(g);
                    const int64_t c0 = gr.start[k] * 16;
                    for (int64_t i = i0; i < i1; i += t) {
                        const int64_t mr = std::min<int64_t>(t, i1 - i);
                        kGradient[g - 1][mr - 1](
                            eb + i * kEStride, kEStride, 1, weight + v0 * C + c0, C, nv,
                            factor + i * blocks + b, blocks, dinp + (r0 + i) * C + c0);
                    }
                }
            }
            for (int64_t i = i0; i < i1; ++i)
                if (y[i] >= 0) add_scaled(dinp + (r0 + i) * C, weight + y[i] * C, -inv_n, C);
        });
    }
    return mean_loss(losses, N, counted);
#endif
}

double lm_head_crossentropy(float *dinp, float *dweight, float *losses, const float *inp,
                            const float *weight, const int32_t *targets, int64_t N, int64_t C,
                            int64_t V, float *scratch) {
    static const bool blas = [] {
        const char *k = std::getenv("EMERGENCE_HEAD_KERNEL");
        return k != nullptr && std::strcmp(k, "blas") == 0;
    }();
    if (!blas && lm_head_avx512_usable(C))
        return lm_head_crossentropy_avx512(dinp, dweight, losses, inp, weight, targets, N, C, V,
                                           scratch);
    return lm_head_crossentropy_blas(dinp, dweight, losses, inp, weight, targets, N, C, V, scratch);
}

}  // namespace em
