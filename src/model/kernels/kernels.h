// The model's operations, each a pair of free functions in the llm.c style: forward writes its
// outputs (and values cached for backward); backward ACCUMULATES (+=) into the gradients of its
// inputs and weights, so one owner zeroes gradients per step. All buffers are fp32, row-major.
//
// Shape letters: B batch, T time, C model width, OC output channels, NH query heads, KV key/value
// heads, HD head dimension (C / NH), RD rotated dimensions per head (even, <= HD), F SwiGLU
// hidden width, V vocabulary; for KV-cached inference, M new rows and P cached rows. Work is split
// over the thread pool (common/parallel.h) in chunks that depend only on the sizes and thread
// count, so results are deterministic.
#pragma once

#include <cstddef>
#include <cstdint>

namespace em {

// Where a forward kernel runs: split over the thread pool, or whole on the calling thread, for a
// caller that itself runs on a pool thread (the pool does not nest; the scorer runs one inference
// session per thread). Both run the same code on every row; only the split into chunks differs.
enum class Exec { pool, serial };

// inp (B*T) token ids -> out (B*T, C) rows of wte (V, C).
void embedding_forward(float *out, const int32_t *inp, const float *wte, int64_t BT, int64_t C,
                       Exec ex = Exec::pool);
void embedding_backward(float *dwte, const float *dout, const int32_t *inp, int64_t BT, int64_t C);

// out = inp * rstd * weight with rstd = 1/sqrt(mean(inp^2) + eps). out, inp (N, C); rstd (N), or
// null where no backward follows.
void rmsnorm_forward(float *out, float *rstd, const float *inp, const float *weight, int64_t N,
                     int64_t C, float eps, Exec ex = Exec::pool);
void rmsnorm_backward(float *dinp, float *dweight, const float *dout, const float *inp,
                      const float *weight, const float *rstd, int64_t N, int64_t C);

// out (N, OC) = inp (N, C) @ weight (OC, C)^T. Backward: dinp += dout @ weight,
// dweight += dout^T @ inp. dinp or dweight may be null to skip them.
void matmul_forward(float *out, const float *inp, const float *weight, int64_t N, int64_t C,
                    int64_t OC, Exec ex = Exec::pool);
void matmul_backward(float *dinp, float *dweight, const float *dout, const float *inp,
                     const float *weight, int64_t N, int64_t C, int64_t OC);

// Rotary embedding, in place, on the first RD dims of every head of x (B, T, H, HD), position t
// of each sequence, "rotate half" pairing (d, d + RD/2). cos/sin tables are (T, RD/2).
void rope_tables(float *cos_t, float *sin_t, int64_t T, int64_t RD, float theta);
void rope_forward(float *x, const float *cos_t, const float *sin_t, int64_t B, int64_t T, int64_t H,
                  int64_t HD, int64_t RD);
// As rope_forward on rows x (N, H, HD) whose positions are pos (N), each < the tables' T.
void rope_forward_at(float *x, const float *cos_t, const float *sin_t, const int64_t *pos,
                     int64_t N, int64_t H, int64_t HD, int64_t RD, Exec ex = Exec::pool);
// The rotation's transpose applied in place to the gradient dx (B, T, H, HD).
void rope_backward(float *dx, const float *cos_t, const float *sin_t, int64_t B, int64_t T,
                   int64_t H, int64_t HD, int64_t RD);

// Causal attention with grouped keys/values. q (B, T, NH, HD), k and v (B, T, KV, HD), NH a
// multiple of KV (query head h reads kv head h / (NH/KV)). att (B, NH, T, T) keeps the softmax
// probabilities (zero above the diagonal); out (B, T, NH, HD).
void attention_forward(float *out, float *att, const float *q, const float *k, const float *v,
                       int64_t B, int64_t T, int64_t NH, int64_t KV, int64_t HD);
// The same attention for M new query rows q (M, NH, HD) against keys/values in two runs of rows
// (each row KV heads of HD): the cached prefix kc, vc (P, KV, HD), seen by every new row, then the
// new rows' own run k_own, v_own (before + M, KV, HD), of which new row j sees the first
// before + j + 1 rows (`before` rows of the run precede the new ones). out (M, NH, HD); scratch
// (M, P + before + M) holds one head's probabilities at a time. Runs on the calling thread. With
// P = 0 and before = 0 it makes the same calls as attention_forward on T = M <= 64 tokens.
void attention_forward_cached(float *out, float *scratch, const float *q, const float *kc,
                              const float *vc, int64_t P, const float *k_own, const float *v_own,
                              int64_t before, int64_t M, int64_t NH, int64_t KV, int64_t HD);
// dq, dk, dv accumulate; scratch holds (B, NH, T, T) floats.
void attention_backward(float *dq, float *dk, float *dv, float *scratch, const float *dout,
                        const float *att, const float *q, const float *k, const float *v, int64_t B,
                        int64_t T, int64_t NH, int64_t KV, int64_t HD);

// out = silu(gate) * up, all (N, F); out may be gate.
void swiglu_forward(float *out, const float *gate, const float *up, int64_t N, int64_t F,
                    Exec ex = Exec::pool);
void swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate,
                     const float *up, int64_t N, int64_t F);

// out += inp, both (n).
void residual_add(float *out, const float *inp, int64_t n, Exec ex = Exec::pool);

// Fused softmax + cross-entropy over logits (N, V), in place: on return logits holds
// dloss/dlogits for loss = mean over the rows with target >= 0 of -log softmax(row)[target]
// (rows with target < 0 are ignored and get zero gradient). losses (N) gets each row's loss.
// Returns the mean loss. With compute_grad false, logits is left untouched.
double crossentropy_forward_backward(float *logits, float *losses, const int32_t *targets,
                                     int64_t N, int64_t V, bool compute_grad);

// The output head and the cross-entropy in one pass that never holds the (N, V) logits: for
// logits = inp (N, C) @ weight (V, C)^T and the loss above, writes each row's loss into losses (N)
// and returns the mean; with dinp (N, C) and dweight (V, C) non-null it ACCUMULATES the loss's
// gradients into them, as matmul_backward would from crossentropy_forward_backward's gradient
// (equal within float rounding). Rows go kHeadRows at a time and the vocabulary in blocks of
// kHeadBlock, fixed sizes, so results do not depend on the thread count. scratch holds
// lm_head_crossentropy_scratch(C, V) floats.
constexpr int64_t kHeadRows = 512;
constexpr int64_t kHeadBlock = 1024;
size_t lm_head_crossentropy_scratch(int64_t C, int64_t V);
double lm_head_crossentropy(float *dinp, float *dweight, float *losses, const float *inp,
                            const float *weight, const int32_t *targets, int64_t N, int64_t C,
                            int64_t V, float *scratch);

// The two implementations lm_head_crossentropy chooses between, for tests and benchmarks:
// OpenBLAS's products, and hand-written AVX-512 products that read the exponentials in place
// (used where lm_head_avx512_usable: an AVX-512 CPU and C a multiple of 16, unless the environment
// sets EMERGENCE_HEAD_KERNEL=blas). Both equal the unfused path within float rounding.
double lm_head_crossentropy_blas(float *dinp, float *dweight, float *losses, const float *inp,
                                 const float *weight, const int32_t *targets, int64_t N, int64_t C,
                                 int64_t V, float *scratch);
double lm_head_crossentropy_avx512(float *dinp, float *dweight, float *losses, const float *inp,
                                   const float *weight, const int32_t *targets, int64_t N,
                                   int64_t C, int64_t V, float *scratch);
bool lm_head_avx512_usable(int64_t C);

// The kernel's exponential for x <= 0, exposed for its accuracy test.
float exp_nonpositive_for_test(float x);

}  // namespace em
