// KV-cached single-sequence inference; see infer.h. The block is the model's (model/model.cpp):
// x += Wo·attn(rope(Wq·n1(x)), rope(Wk·n1(x)), Wv·n1(x)); x += Wd·swiglu(Wg·n2(x), Wu·n2(x)),
// with each op written as the matching kernel writes it, so results agree with Model::forward
// up to the order of floating-point sums inside the matrix products.
#include "eval/infer.h"

#include <cblas.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <string>

#include "model/kernels/kernels.h"

namespace em {
namespace {

const float *param(const Model &m, const std::string &name) {
    for (const auto &t : m.layout())
        if (t.name == name) return m.params().data() + t.offset;
    return nullptr;
}

// out (M, N) = a (M, K) @ b (N, K)^T.
void gemm_nt(float *out, const float *a, const float *b, int64_t M, int64_t K, int64_t N) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(M), static_cast<int>(N),
                static_cast<int>(K), 1.0f, a, static_cast<int>(K), b, static_cast<int>(K), 0.0f,
                out, static_cast<int>(N));
}

// As rmsnorm_forward, one thread.
void rmsnorm_rows(float *out, const float *inp, const float *w, int64_t N, int64_t C, float eps) {
    for (int64_t n = 0; n < N; ++n) {
        const float *x = inp + n * C;
        float *y = out + n * C;
        double ss = 0.0;
        for (int64_t c = 0; c < C; ++c) ss += static_cast<double>(x[c]) * x[c];
        float r = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(C) + eps));
        for (int64_t c = 0; c < C; ++c) y[c] = x[c] * r * w[c];
    }
}

// As rope_forward on one row of H heads at position t.
void rope_row(float *x, const float *cos_t, const float *sin_t, int64_t t, int64_t H, int64_t HD,
              int64_t RD) {
    const int64_t half = RD / 2;
    if (half == 0) return;
    const float *c = cos_t + t * half, *s = sin_t + t * half;
    for (int64_t h = 0; h < H; ++h) {
        float *v = x + h * HD;
        for (int64_t d = 0; d < half; ++d) {
            float a = v[d], b = v[d + half];
            v[d] = a * c[d] - b * s[d];
            v[d + half] = b * c[d] + a * s[d];
        }
    }
}

}  // namespace

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

InferSession::InferSession(const Model &model) : cfg_(model.config()) {
    wte_ = param(model, "model.embed_tokens.weight");
    norm_f_ = param(model, "model.norm.weight");
    lm_head_ = cfg_.tie_embeddings ? wte_ : param(model, "lm_head.weight");
    for (int64_t l = 0; l < cfg_.n_layers; ++l) {
        std::string p = "model.layers." + std::to_string(l) + ".";
        layers_.push_back({param(model, p + "input_layernorm.weight"),
                           param(model, p + "self_attn.q_proj.weight"),
                           param(model, p + "self_attn.k_proj.weight"),
                           param(model, p + "self_attn.v_proj.weight"),
                           param(model, p + "self_attn.o_proj.weight"),
                           param(model, p + "post_attention_layernorm.weight"),
                           param(model, p + "mlp.gate_proj.weight"),
                           param(model, p + "mlp.up_proj.weight"),
                           param(model, p + "mlp.down_proj.weight")});
    }
    const int64_t half = cfg_.rope_dims() / 2;
    rope_cos_.assign(static_cast<size_t>(cfg_.max_seq * std::max<int64_t>(half, 1)), 0.0f);
    rope_sin_ = rope_cos_;
    if (half > 0)
        rope_tables(rope_cos_.data(), rope_sin_.data(), cfg_.max_seq, cfg_.rope_dims(),
                    static_cast<float>(cfg_.rope_theta));
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
    const int64_t V = cfg_.vocab_size, group = NH / KV;
    const float eps = static_cast<float>(cfg_.norm_eps);
    const float scale = 1.0f / std::sqrt(static_cast<float>(HD));
    int64_t M = 0, max_keys = 0;
    for (const auto &s : segs) {
        M += s.m;
        max_keys = std::max(max_keys, prefix + s.before + s.m);
    }
    auto fit = [](std::vector<float> &b, int64_t n) {
        if (static_cast<int64_t>(b.size()) < n) b.resize(static_cast<size_t>(n));
    };
    fit(x_, M * C), fit(ln_, M * C), fit(q_, M * C), fit(k_, M * KVD), fit(v_, M * KVD);
    fit(atty_, M * C), fit(tmp_, M * C), fit(gate_, M * F), fit(up_, M * F);
    int64_t max_m = 0;
    for (const auto &s : segs) max_m = std::max(max_m, s.m);
    fit(scores_, max_m * max_keys);

    float *x = x_.data();
    {
        int64_t i = 0;
        for (const auto &s : segs)
            for (int64_t j = 0; j < s.m; ++j, ++i)
                std::memcpy(x + i * C, wte_ + static_cast<int64_t>(s.tokens[j]) * C,
                            sizeof(float) * static_cast<size_t>(C));
    }
    for (size_t l = 0; l < layers_.size(); ++l) {
        const LayerView &w = layers_[l];
        float *kc = kc_[l].data(), *vc = vc_[l].data();
        rmsnorm_rows(ln_.data(), x, w.attn_norm, M, C, eps);
        gemm_nt(q_.data(), ln_.data(), w.wq, M, C, C);
        gemm_nt(k_.data(), ln_.data(), w.wk, M, C, KVD);
        gemm_nt(v_.data(), ln_.data(), w.wv, M, C, KVD);
        int64_t i0 = 0;
        for (const auto &s : segs) {
            for (int64_t j = 0; j < s.m; ++j) {
                const int64_t i = i0 + j, pos = base + s.before + j, r = s.row + s.before + j;
                rope_row(q_.data() + i * C, rope_cos_.data(), rope_sin_.data(), pos, NH, HD, RD);
                rope_row(k_.data() + i * KVD, rope_cos_.data(), rope_sin_.data(), pos, KV, HD, RD);
                std::memcpy(kc + r * KVD, k_.data() + i * KVD,
                            sizeof(float) * static_cast<size_t>(KVD));
                std::memcpy(vc + r * KVD, v_.data() + i * KVD,
                            sizeof(float) * static_cast<size_t>(KVD));
            }
            // Scores of the segment's queries against the prefix's keys (columns [0, P)) and the
            // segment's own keys (columns [P, P + before + m)); causal within the latter.
            const int64_t own = s.before + s.m, nk = prefix + own;
            float *sc = scores_.data();
            for (int64_t h = 0; h < NH; ++h) {
                const int64_t kh = h / group;
                const float *qh = q_.data() + i0 * C + h * HD;
                const float *ko = kc + s.row * KVD + kh * HD, *vo = vc + s.row * KVD + kh * HD;
                if (prefix > 0)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(s.m),
                                static_cast<int>(prefix), static_cast<int>(HD), scale, qh,
                                static_cast<int>(C), kc + kh * HD, static_cast<int>(KVD), 0.0f, sc,
                                static_cast<int>(nk));
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(s.m),
                            static_cast<int>(own), static_cast<int>(HD), scale, qh,
                            static_cast<int>(C), ko, static_cast<int>(KVD), 0.0f, sc + prefix,
                            static_cast<int>(nk));
                for (int64_t j = 0; j < s.m; ++j) {
                    float *row = sc + j * nk;
                    const int64_t last = prefix + s.before + j;  // inclusive
                    float mx = row[0];
                    for (int64_t u = 1; u <= last; ++u) mx = std::max(mx, row[u]);
                    float sum = 0.0f;
                    for (int64_t u = 0; u <= last; ++u) {
                        row[u] = std::exp(row[u] - mx);
                        sum += row[u];
                    }
                    float inv = 1.0f / sum;
                    for (int64_t u = 0; u <= last; ++u) row[u] *= inv;
                    for (int64_t u = last + 1; u < nk; ++u) row[u] = 0.0f;
                }
                float *oh = atty_.data() + i0 * C + h * HD;
                float beta = 0.0f;
                if (prefix > 0) {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(s.m),
                                static_cast<int>(HD), static_cast<int>(prefix), 1.0f, sc,
                                static_cast<int>(nk), vc + kh * HD, static_cast<int>(KVD), 0.0f, oh,
                                static_cast<int>(C));
                    beta = 1.0f;
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(s.m),
                            static_cast<int>(HD), static_cast<int>(own), 1.0f, sc + prefix,
                            static_cast<int>(nk), vo, static_cast<int>(KVD), beta, oh,
                            static_cast<int>(C));
            }
            i0 += s.m;
        }
        gemm_nt(tmp_.data(), atty_.data(), w.wo, M, C, C);
        for (int64_t i = 0; i < M * C; ++i) x[i] += tmp_[static_cast<size_t>(i)];
        rmsnorm_rows(ln_.data(), x, w.mlp_norm, M, C, eps);
        gemm_nt(gate_.data(), ln_.data(), w.w_gate, M, C, F);
        gemm_nt(up_.data(), ln_.data(), w.w_up, M, C, F);
        for (int64_t i = 0; i < M * F; ++i) {
            float a = gate_[static_cast<size_t>(i)];
            gate_[static_cast<size_t>(i)] = a / (1.0f + std::exp(-a)) * up_[static_cast<size_t>(i)];
        }
        gemm_nt(tmp_.data(), gate_.data(), w.w_down, M, F, C);
        for (int64_t i = 0; i < M * C; ++i) x[i] += tmp_[static_cast<size_t>(i)];
    }
    // Output head on the rows whose logits are kept; they map to consecutive logits rows.
    int64_t i0 = 0, n_out = 0, first_row = -1;
    for (const auto &s : segs) {
        if (s.logit_row >= 0) {
            const int64_t rows = s.m - s.logit_from;
            if (first_row < 0) first_row = s.logit_row;
            assert(s.logit_row == first_row + n_out);
            rmsnorm_rows(ln_.data() + n_out * C, x + (i0 + s.logit_from) * C, norm_f_, rows, C,
                         eps);
            n_out += rows;
        }
        i0 += s.m;
    }
    if (n_out > 0) gemm_nt(logits_.data() + first_row * V, ln_.data(), lm_head_, n_out, C, V);
}

}  // namespace em
