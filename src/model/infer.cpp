// KV-cached single-sequence inference; see infer.h. The block is the model's (model/model.cpp):
// x += Wo·attn(rope(Wq·n1(x)), rope(Wk·n1(x)), Wv·n1(x)); x += Wd·swiglu(Wg·n2(x), Wu·n2(x)),
// built from the same kernels on the calling thread, so results agree with Model::forward up to
// how the matrix products and the attention's weighted sum split their rows and keys.
#include "model/infer.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>

#include "model/kernels/kernels.h"

namespace em {

double logprob_of(const float *row, int64_t V, int32_t target, bool *is_greedy) {
    float mx = row[0];
    int64_t arg = 0;
    for (int64_t i = 1; i < V; ++i)
        if (row[i] > mx) {
            mx = row[i];
            arg = i;
        }
    double sum = 0.0;
    for (int64_t i = 0; i < V; ++i) sum += std::exp(static_cast<double>(row[i]) - mx);
    if (is_greedy) *is_greedy = arg == target;
    return static_cast<double>(row[target]) - mx - std::log(sum);
}

InferSession::InferSession(const Model &model)
    : cfg_(model.config()),
      w_(model.weights()),
      rope_cos_(model.rope_cos()),
      rope_sin_(model.rope_sin()) {
    kc_.resize(static_cast<size_t>(cfg_.n_layers));
    vc_.resize(static_cast<size_t>(cfg_.n_layers));
    ensure_rows(cfg_.max_seq);
}

void InferSession::ensure_rows(int64_t rows) {
    if (rows <= rows_) return;
    rows = std::max(rows, rows_ * 3 / 2);
    const size_t n = static_cast<size_t>(rows * cfg_.kv_dim());
    for (auto &k : kc_) k.resize(n);
    for (auto &v : vc_) v.resize(n);
    rows_ = rows;
}

void InferSession::truncate(int64_t n) {
    assert(n >= 0 && n <= len_);
    len_ = n;
}

void InferSession::append(const int32_t *tokens, int64_t n, int64_t n_logits) {
    assert(len_ + n <= cfg_.max_seq && n_logits <= n);
    logits_.resize(static_cast<size_t>(std::max<int64_t>(n_logits, 1) * cfg_.vocab_size));
    for (int64_t done = 0; done < n;) {
        int64_t m = std::min(max_pass_, n - done);
        // Tokens [done, done + m) of the input; keep logits of those at index >= n - n_logits.
        int64_t first_kept = std::max(done, n - n_logits);
        Segment s{tokens + done, m, len_, 0, -1, 0};
        if (first_kept < done + m) {
            s.logit_row = first_kept - (n - n_logits);
            s.logit_from = first_kept - done;
        }
        ensure_rows(len_ + m);
        pass({s}, len_, len_);
        len_ += m;
        done += m;
    }
}

void InferSession::branch(const std::vector<const int32_t *> &tokens,
                          const std::vector<int64_t> &lens) {
    int64_t total = 0;
    for (int64_t l : lens) total += l;
    logits_.resize(static_cast<size_t>(std::max<int64_t>(total, 1) * cfg_.vocab_size));
    ensure_rows(len_ + total);
    // Continuation k's keys live in scratch rows after the prefix; passes hold up to max_pass_
    // tokens, a long continuation spreading over several passes.
    std::vector<Segment> segs;
    int64_t in_pass = 0, row = len_, out_row = 0;
    for (size_t k = 0; k < lens.size(); ++k) {
        assert(len_ + lens[k] <= cfg_.max_seq);
        for (int64_t done = 0; done < lens[k];) {
            if (in_pass == max_pass_) {
                pass(segs, len_, len_);
                segs.clear();
                in_pass = 0;
            }
            int64_t m = std::min(max_pass_ - in_pass, lens[k] - done);
            segs.push_back({tokens[k] + done, m, row, done, out_row, 0});
            in_pass += m;
            out_row += m;
            done += m;
        }
        row += lens[k];
    }
    if (!segs.empty()) pass(segs, len_, len_);
}

void InferSession::pass(const std::vector<Segment> &segs, int64_t prefix, int64_t base) {
    const int64_t C = cfg_.d_model, F = cfg_.ffn(), KVD = cfg_.kv_dim(), NH = cfg_.n_heads;
    const int64_t KV = cfg_.n_kv_heads, HD = cfg_.head_dim(), RD = cfg_.rope_dims();
    const int64_t V = cfg_.vocab_size;
    const float eps = static_cast<float>(cfg_.norm_eps);
    const Exec ex = Exec::serial;
    int64_t M = 0, max_keys = 0, max_m = 0;
    for (const auto &s : segs) {
        M += s.m;
        max_keys = std::max(max_keys, prefix + s.before + s.m);
        max_m = std::max(max_m, s.m);
    }
    auto fit = [](auto &b, int64_t n) {
        if (static_cast<int64_t>(b.size()) < n) b.resize(static_cast<size_t>(n));
    };
    fit(x_, M * C), fit(ln_, M * C), fit(q_, M * C), fit(k_, M * KVD), fit(v_, M * KVD);
    fit(atty_, M * C), fit(tmp_, M * C), fit(gate_, M * F), fit(up_, M * F);
    fit(scores_, max_m * max_keys), fit(ids_, M), fit(pos_, M);

    // The pass's tokens and their positions, segment after segment.
    {
        int64_t i = 0;
        for (const auto &s : segs)
            for (int64_t j = 0; j < s.m; ++j, ++i) {
                ids_[static_cast<size_t>(i)] = s.tokens[j];
                pos_[static_cast<size_t>(i)] = base + s.before + j;
            }
    }
    float *x = x_.data(), *ln = ln_.data(), *q = q_.data(), *k = k_.data(), *v = v_.data();
    float *atty = atty_.data(), *tmp = tmp_.data(), *gate = gate_.data(), *up = up_.data();
    embedding_forward(x, ids_.data(), w_.wte, M, C, ex);
    for (size_t l = 0; l < w_.layers.size(); ++l) {
        const LayerWeights &lw = w_.layers[l];
        float *kc = kc_[l].data(), *vc = vc_[l].data();
        rmsnorm_forward(ln, nullptr, x, lw.attn_norm, M, C, eps, ex);
        matmul_forward(q, ln, lw.wq, M, C, C, ex);
        matmul_forward(k, ln, lw.wk, M, C, KVD, ex);
        matmul_forward(v, ln, lw.wv, M, C, KVD, ex);
        rope_forward_at(q, rope_cos_, rope_sin_, pos_.data(), M, NH, HD, RD, ex);
        rope_forward_at(k, rope_cos_, rope_sin_, pos_.data(), M, KV, HD, RD, ex);
        int64_t i0 = 0;
        for (const auto &s : segs) {
            // The segment's keys and values join the cache, then its queries attend to the prefix
            // (rows [0, P)) and to the segment's run (rows from s.row, `before` of them earlier).
            const size_t bytes = sizeof(float) * static_cast<size_t>(s.m * KVD);
            std::memcpy(kc + (s.row + s.before) * KVD, k + i0 * KVD, bytes);
            std::memcpy(vc + (s.row + s.before) * KVD, v + i0 * KVD, bytes);
            attention_forward_cached(atty + i0 * C, scores_.data(), q + i0 * C, kc, vc, prefix,
                                     kc + s.row * KVD, vc + s.row * KVD, s.before, s.m, NH, KV, HD);
            i0 += s.m;
        }
        matmul_forward(tmp, atty, lw.wo, M, C, C, ex);
        residual_add(x, tmp, M * C, ex);
        rmsnorm_forward(ln, nullptr, x, lw.mlp_norm, M, C, eps, ex);
        matmul_forward(gate, ln, lw.w_gate, M, C, F, ex);
        matmul_forward(up, ln, lw.w_up, M, C, F, ex);
        swiglu_forward(gate, gate, up, M, F, ex);
        matmul_forward(tmp, gate, lw.w_down, M, F, C, ex);
        residual_add(x, tmp, M * C, ex);
    }
    // Output head on the rows whose logits are kept; they map to consecutive logits rows.
    int64_t i0 = 0, n_out = 0, first_row = -1;
    for (const auto &s : segs) {
        if (s.logit_row >= 0) {
            const int64_t rows = s.m - s.logit_from;
            if (first_row < 0) first_row = s.logit_row;
            assert(s.logit_row == first_row + n_out);
            rmsnorm_forward(ln + n_out * C, nullptr, x + (i0 + s.logit_from) * C, w_.norm_f, rows,
                            C, eps, ex);
            n_out += rows;
        }
        i0 += s.m;
    }
    if (n_out > 0) matmul_forward(logits_.data() + first_row * V, ln, w_.lm_head, n_out, C, V, ex);
}

}  // namespace em
