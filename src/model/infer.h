// Inference for evaluation: one sequence at a time with a per-layer key/value cache, so a
// document's shared context is computed once and each continuation (choice, generated token)
// only costs its own tokens. Every pass runs its matrix products over all of its new tokens at
// once. The session is single-threaded by design: the scorer runs one session per thread over
// different documents, so the session runs the model's own kernels (kernels/kernels.h) on the
// calling thread (Exec::serial; the thread pool does not nest).
//
// Shape letters as in model/kernels/kernels.h; P cached positions, M new tokens in a pass.
#pragma once

#include <cstdint>
#include <vector>

#include "model/model.h"

namespace em {

class InferSession {
  public:
    // The model must outlive the session and must not change while it is used. Many sessions
    // may share one model (it is only read).
    explicit InferSession(const Model &model);
    InferSession(const InferSession &) = delete;
    InferSession &operator=(const InferSession &) = delete;

    int64_t length() const { return len_; }  // positions in the cache
    int64_t max_positions() const { return cfg_.max_seq; }
    // Drops cached positions past n (n <= length()): back to a snapshot of the cache.
    void truncate(int64_t n);

    // Largest number of tokens one pass feeds through the model (>= 1). Longer inputs go through
    // the cache in pieces; results agree with one pass up to float rounding.
    void set_max_pass_tokens(int64_t n) { max_pass_ = n < 1 ? 1 : n; }

    // Appends tokens (n) at positions length()..length()+n-1, which must stay below
    // max_positions(), and keeps them in the cache. logits() then holds the last `n_logits`
    // rows (n_logits, V), n_logits <= n.
    void append(const int32_t *tokens, int64_t n, int64_t n_logits);

    // Runs K continuations of the cached prefix side by side: continuation k (lens[k] tokens) sits
    // at positions length()..length()+lens[k]-1 and sees the prefix and its own earlier tokens
    // only. The cache keeps just the prefix afterwards. logits() holds (sum lens, V), the
    // continuations' rows one after another.
    void branch(const std::vector<const int32_t *> &tokens, const std::vector<int64_t> &lens);

    const float *logits() const { return logits_.data(); }
    int64_t vocab_size() const { return cfg_.vocab_size; }

  private:
    // A run of new tokens in one pass: `m` tokens whose keys/values go to cache rows
    // row + before.., at positions base + before..; they attend to rows [0, prefix) and to rows
    // [row, row + before + j].
    struct Segment {
        const int32_t *tokens;
        int64_t m, row, before;
        int64_t logit_row;   // where row 0 of this segment's logits goes, or -1: no logits
        int64_t logit_from;  // first token index (within the segment) whose logits are kept
    };
    void pass(const std::vector<Segment> &segs, int64_t prefix, int64_t base);
    void ensure_rows(int64_t rows);

    ModelConfig cfg_;
    const Weights &w_;
    const float *rope_cos_, *rope_sin_;        // (max_seq, RD/2), the model's
    std::vector<std::vector<float>> kc_, vc_;  // per layer (rows, KVD), rope applied to keys
    int64_t rows_ = 0, len_ = 0, max_pass_ = 1 << 30;
    // Work buffers for one pass of M tokens.
    std::vector<int32_t> ids_;  // (M)
    std::vector<int64_t> pos_;  // (M)
    std::vector<float> x_, ln_, q_, k_, v_, atty_, tmp_, gate_, up_, scores_;
    std::vector<float> logits_;
};

// log softmax(row)[target] in double, and whether target is the row's first maximum.
double logprob_of(const float *row, int64_t V, int32_t target, bool *is_greedy);

}  // namespace em
