// Transformer forward and backward; see model.h. The layer loop reads top to bottom as the
// LLaMA block: x += Wo·attn(rope(Wq·n1(x)), rope(Wk·n1(x)), Wv·n1(x)); x += Wd·swiglu(Wg·n2(x),
// Wu·n2(x)).
#include "model/model.h"

#include <cmath>
#include <cstring>

#include "common/rng.h"
#include "model/kernels/kernels.h"

namespace em {

std::vector<ParamTensor> model_param_layout(const ModelConfig &c, size_t *total_floats) {
    const int64_t V = c.vocab_size, C = c.d_model, F = c.ffn(), KVD = c.kv_dim();
    std::vector<ParamTensor> t;
    size_t off = 0;
    auto add = [&](std::string name, std::vector<int64_t> shape, bool norm, bool emb) {
        size_t n = 1;
        for (int64_t d : shape) n *= static_cast<size_t>(d);
        t.push_back({std::move(name), std::move(shape), off, n, norm, emb});
        off += n;
    };
    add("model.embed_tokens.weight", {V, C}, false, true);
    for (int64_t l = 0; l < c.n_layers; ++l) {
        std::string p = "model.layers." + std::to_string(l) + ".";
        add(p + "input_layernorm.weight", {C}, true, false);
        add(p + "self_attn.q_proj.weight", {C, C}, false, false);
        add(p + "self_attn.k_proj.weight", {KVD, C}, false, false);
        add(p + "self_attn.v_proj.weight", {KVD, C}, false, false);
        add(p + "self_attn.o_proj.weight", {C, C}, false, false);
        add(p + "post_attention_layernorm.weight", {C}, true, false);
        add(p + "mlp.gate_proj.weight", {F, C}, false, false);
        add(p + "mlp.up_proj.weight", {F, C}, false, false);
        add(p + "mlp.down_proj.weight", {C, F}, false, false);
    }
    add("model.norm.weight", {C}, true, false);
    if (!c.tie_embeddings) add("lm_head.weight", {V, C}, false, true);
    if (total_floats) *total_floats = off;
    return t;
}

namespace {

// Walks the layout in the order model_param_layout adds the tensors.
template <typename T>
ModelTensors<T> tensors_view(T *base, const std::vector<ParamTensor> &t, const ModelConfig &c) {
    ModelTensors<T> w;
    size_t i = 0;
    auto next = [&] { return base + t[i++].offset; };
    w.wte = next();
    for (int64_t l = 0; l < c.n_layers; ++l) {
        LayerTensors<T> lw;
        lw.attn_norm = next();
        lw.wq = next();
        lw.wk = next();
        lw.wv = next();
        lw.wo = next();
        lw.mlp_norm = next();
        lw.w_gate = next();
        lw.w_up = next();
        lw.w_down = next();
        w.layers.push_back(lw);
    }
    w.norm_f = next();
    w.lm_head = c.tie_embeddings ? w.wte : next();
    return w;
}

}  // namespace

Model::Model(const ModelConfig &c) : cfg_(c) {
    size_t total = 0;
    layout_ = model_param_layout(c, &total);
    params_.assign(total, 0.0f);
    grads_.assign(total, 0.0f);
    w_ = tensors_view<const float>(params_.data(), layout_, c);
    g_ = tensors_view<float>(grads_.data(), layout_, c);
    const int64_t half = c.rope_dims() / 2;
    rope_cos_.assign(static_cast<size_t>(c.max_seq * std::max<int64_t>(half, 1)), 0.0f);
    rope_sin_ = rope_cos_;
    if (half > 0)
        rope_tables(rope_cos_.data(), rope_sin_.data(), c.max_seq, c.rope_dims(),
                    static_cast<float>(c.rope_theta));
}

void Model::init(uint64_t seed) {
    Rng rng(seed);
    const float resid_scale = 1.0f / std::sqrt(2.0f * static_cast<float>(cfg_.n_layers));
    for (const auto &t : layout_) {
        float *p = params_.data() + t.offset;
        if (t.is_norm) {
            for (size_t i = 0; i < t.numel; ++i) p[i] = 1.0f;
            continue;
        }
        bool resid = t.name.find("o_proj") != std::string::npos ||
                     t.name.find("down_proj") != std::string::npos;
        float s = 0.02f * (resid ? resid_scale : 1.0f);
        for (size_t i = 0; i < t.numel; ++i) p[i] = s * rng.normal();
    }
}

void Model::zero_grad() {
    std::memset(grads_.data(), 0, grads_.size() * sizeof(float));
}

std::vector<std::pair<size_t, size_t>> Model::grad_ranges() const {
    const size_t L = static_cast<size_t>(cfg_.n_layers);
    auto layer_begin = [&](size_t li) { return layout_[1 + 9 * li].offset; };
    std::vector<std::pair<size_t, size_t>> r = {{layer_begin(L), grads_.size()}};
    for (size_t li = L; li-- > 0;) r.push_back({layer_begin(li), layer_begin(li + 1)});
    r.push_back({0, layer_begin(0)});
    return r;
}

void Model::ensure_acts(int64_t B, int64_t T) {
    if (B == B_ && T == T_) return;
    const int64_t C = cfg_.d_model, F = cfg_.ffn(), KVD = cfg_.kv_dim(), NH = cfg_.n_heads;
    const int64_t BT = B * T, L = cfg_.n_layers;
    // Two passes over the same carving: the first measures, the second hands out pointers.
    float *base = nullptr;
    int64_t used = 0;
    auto take = [&](int64_t n) {
        float *r = base ? base + used : nullptr;
        used += n;
        return r;
    };
    for (int pass = 0; pass < 2; ++pass) {
        if (pass == 1) {
            acts_.assign(static_cast<size_t>(used), 0.0f);
            base = acts_.data();
            used = 0;
        }
        la_.resize(static_cast<size_t>(L));
        for (auto &a : la_) {
            a.res = take(BT * C);
            a.ln1 = take(BT * C);
            a.rstd1 = take(BT);
            a.q = take(BT * C);
            a.k = take(BT * KVD);
            a.v = take(BT * KVD);
            a.att = take(B * NH * T * T);
            a.atty = take(BT * C);
            a.mid = take(BT * C);
            a.ln2 = take(BT * C);
            a.rstd2 = take(BT);
            a.gate = take(BT * F);
            a.up = take(BT * F);
            a.hact = take(BT * F);
        }
        res_final_ = take(BT * C);
        lnf_ = take(BT * C);
        rstdf_ = take(BT);
        tmp_ = take(BT * C);
        dres_ = take(BT * C);
        dln_ = take(BT * C);
        dq_ = take(BT * C);
        dk_ = take(BT * KVD);
        dv_ = take(BT * KVD);
        datty_ = take(BT * C);
        dgate_ = take(BT * F);
        dup_ = take(BT * F);
        dhact_ = take(BT * F);
        dscratch_ = take(B * NH * T * T);
    }
    losses_.assign(static_cast<size_t>(BT), 0.0f);
    B_ = B;
    T_ = T;
}

double Model::forward(const int32_t *inputs, const int32_t *targets, int64_t B, int64_t T,
                      Pass pass) {
    ensure_acts(B, T);
    const int64_t C = cfg_.d_model, F = cfg_.ffn(), KVD = cfg_.kv_dim(), NH = cfg_.n_heads;
    const int64_t KV = cfg_.n_kv_heads, HD = cfg_.head_dim(), RD = cfg_.rope_dims();
    const int64_t V = cfg_.vocab_size, BT = B * T;
    const float eps = static_cast<float>(cfg_.norm_eps);
    inputs_.assign(inputs, inputs + BT);

    embedding_forward(la_[0].res, inputs, w_.wte, BT, C);
    for (size_t l = 0; l < la_.size(); ++l) {
        LayerActs &a = la_[l];
        const LayerWeights &lw = w_.layers[l];
        float *res_out = l + 1 < la_.size() ? la_[l + 1].res : res_final_;
        rmsnorm_forward(a.ln1, a.rstd1, a.res, lw.attn_norm, BT, C, eps);
        matmul_forward(a.q, a.ln1, lw.wq, BT, C, C);
        matmul_forward(a.k, a.ln1, lw.wk, BT, C, KVD);
        matmul_forward(a.v, a.ln1, lw.wv, BT, C, KVD);
        rope_forward(a.q, rope_cos_.data(), rope_sin_.data(), B, T, NH, HD, RD);
        rope_forward(a.k, rope_cos_.data(), rope_sin_.data(), B, T, KV, HD, RD);
        attention_forward(a.atty, a.att, a.q, a.k, a.v, B, T, NH, KV, HD);
        matmul_forward(tmp_, a.atty, lw.wo, BT, C, C);
        std::memcpy(a.mid, a.res, sizeof(float) * static_cast<size_t>(BT * C));
        residual_add(a.mid, tmp_, BT * C);
        rmsnorm_forward(a.ln2, a.rstd2, a.mid, lw.mlp_norm, BT, C, eps);
        matmul_forward(a.gate, a.ln2, lw.w_gate, BT, C, F);
        matmul_forward(a.up, a.ln2, lw.w_up, BT, C, F);
        swiglu_forward(a.hact, a.gate, a.up, BT, F);
        matmul_forward(tmp_, a.hact, lw.w_down, BT, F, C);
        std::memcpy(res_out, a.mid, sizeof(float) * static_cast<size_t>(BT * C));
        residual_add(res_out, tmp_, BT * C);
    }
    rmsnorm_forward(lnf_, rstdf_, res_final_, w_.norm_f, BT, C, eps);
    have_targets_ = targets != nullptr && pass == Pass::train;
    if (!targets || !fused_head_) {
        logits_.resize(static_cast<size_t>(BT * V));
        matmul_forward(logits_.data(), lnf_, w_.lm_head, BT, C, V);
        if (!targets) return 0.0;
        return crossentropy_forward_backward(logits_.data(), losses_.data(), targets, BT, V,
                                             have_targets_);
    }
    head_scratch_.resize(lm_head_crossentropy_scratch(C, V));
    if (!have_targets_)
        return lm_head_crossentropy(nullptr, nullptr, losses_.data(), lnf_, w_.lm_head, targets, BT,
                                    C, V, head_scratch_.data());
    // The head's gradients: into the input gradient backward starts from, and the head's own,
    // added to grads() by backward.
    std::memset(dln_, 0, sizeof(float) * static_cast<size_t>(BT * C));
    dhead_.assign(static_cast<size_t>(V * C), 0.0f);
    return lm_head_crossentropy(dln_, dhead_.data(), losses_.data(), lnf_, w_.lm_head, targets, BT,
                                C, V, head_scratch_.data());
}

Status Model::backward() {
    // Without targets logits_ holds logits, not the loss gradient backward starts from.
    if (!have_targets_)
        return Status::error(
            "Model::backward: the last forward had no targets or was Pass::eval; call "
            "forward(inputs, targets, B, T) before backward()");
    const int64_t B = B_, T = T_;
    const int64_t C = cfg_.d_model, F = cfg_.ffn(), KVD = cfg_.kv_dim(), NH = cfg_.n_heads;
    const int64_t KV = cfg_.n_kv_heads, HD = cfg_.head_dim(), RD = cfg_.rope_dims();
    const int64_t V = cfg_.vocab_size, BT = B * T;
    auto zero = [](float *p, int64_t n) {
        std::memset(p, 0, sizeof(float) * static_cast<size_t>(n));
    };

    if (fused_head_) {
        // The forward left the head's input gradient in dln_ and its weight gradient in dhead_.
        float *g = g_.lm_head;
        const float *d = dhead_.data();
        for (int64_t i = 0; i < V * C; ++i) g[i] += d[i];
    } else {
        // logits_ holds dloss/dlogits (the cross-entropy wrote it in place).
        zero(dln_, BT * C);
        matmul_backward(dln_, g_.lm_head, logits_.data(), lnf_, w_.lm_head, BT, C, V);
    }
    zero(dres_, BT * C);
    rmsnorm_backward(dres_, g_.norm_f, dln_, res_final_, w_.norm_f, rstdf_, BT, C);
    // Layer li's tensors are layout entries [1 + 9 li, 10 + 9 li); the final norm follows them.
    // With tied embeddings the head's gradient is the embedding's, which is final only at the end.
    auto layer_begin = [&](size_t li) { return layout_[1 + 9 * li].offset; };
    if (grad_ready_) grad_ready_(layer_begin(la_.size()), grads_.size());
    for (size_t li = la_.size(); li-- > 0;) {
        LayerActs &a = la_[li];
        const LayerWeights &lw = w_.layers[li];
        const LayerGrads &lg = g_.layers[li];
        // MLP block; dres flows unchanged through the residual into mid.
        zero(dhact_, BT * F);
        matmul_backward(dhact_, lg.w_down, dres_, a.hact, lw.w_down, BT, F, C);
        zero(dgate_, BT * F);
        zero(dup_, BT * F);
        swiglu_backward(dgate_, dup_, dhact_, a.gate, a.up, BT, F);
        zero(dln_, BT * C);
        matmul_backward(dln_, lg.w_gate, dgate_, a.ln2, lw.w_gate, BT, C, F);
        matmul_backward(dln_, lg.w_up, dup_, a.ln2, lw.w_up, BT, C, F);
        rmsnorm_backward(dres_, lg.mlp_norm, dln_, a.mid, lw.mlp_norm, a.rstd2, BT, C);
        // Attention block.
        zero(datty_, BT * C);
        matmul_backward(datty_, lg.wo, dres_, a.atty, lw.wo, BT, C, C);
        zero(dq_, BT * C);
        zero(dk_, BT * KVD);
        zero(dv_, BT * KVD);
        attention_backward(dq_, dk_, dv_, dscratch_, datty_, a.att, a.q, a.k, a.v, B, T, NH, KV,
                           HD);
        rope_backward(dq_, rope_cos_.data(), rope_sin_.data(), B, T, NH, HD, RD);
        rope_backward(dk_, rope_cos_.data(), rope_sin_.data(), B, T, KV, HD, RD);
        zero(dln_, BT * C);
        matmul_backward(dln_, lg.wq, dq_, a.ln1, lw.wq, BT, C, C);
        matmul_backward(dln_, lg.wk, dk_, a.ln1, lw.wk, BT, C, KVD);
        matmul_backward(dln_, lg.wv, dv_, a.ln1, lw.wv, BT, C, KVD);
        rmsnorm_backward(dres_, lg.attn_norm, dln_, a.res, lw.attn_norm, a.rstd1, BT, C);
        if (grad_ready_) grad_ready_(layer_begin(li), layer_begin(li + 1));
    }
    embedding_backward(g_.wte, dres_, inputs_.data(), BT, C);
    if (grad_ready_) grad_ready_(0, layer_begin(0));
    return Status::ok();
}

}  // namespace em
