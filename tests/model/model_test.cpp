// The Model's contract beyond its numerics (tests/model/parity_test.cpp has those): the typed
// views of the parameter arena are the layout's tensors, and backward() refuses to run on logits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "model/model.h"

namespace em {
namespace {

ModelConfig small_config(bool tied) {
    ModelConfig c;
    c.vocab_size = 40;
    c.d_model = 16;
    c.n_layers = 2;
    c.n_heads = 4;
    c.n_kv_heads = 2;
    c.max_seq = 8;
    c.rope_fraction = 0.5;
    c.tie_embeddings = tied;
    return c;
}

const float *tensor(const Model &m, const std::string &name) {
    for (const auto &t : m.layout())
        if (t.name == name) return m.params().data() + t.offset;
    ADD_FAILURE() << "no tensor " << name;
    return nullptr;
}

TEST(Model, WeightViewsAreTheLayoutsTensors) {
    for (bool tied : {false, true}) {
        Model m(small_config(tied));
        const Weights &w = m.weights();
        EXPECT_EQ(w.wte, tensor(m, "model.embed_tokens.weight"));
        ASSERT_EQ(w.layers.size(), 2u);
        for (size_t l = 0; l < w.layers.size(); ++l) {
            const std::string p = "model.layers." + std::to_string(l) + ".";
            const LayerWeights &lw = w.layers[l];
            EXPECT_EQ(lw.attn_norm, tensor(m, p + "input_layernorm.weight"));
            EXPECT_EQ(lw.wq, tensor(m, p + "self_attn.q_proj.weight"));
            EXPECT_EQ(lw.wk, tensor(m, p + "self_attn.k_proj.weight"));
            EXPECT_EQ(lw.wv, tensor(m, p + "self_attn.v_proj.weight"));
            EXPECT_EQ(lw.wo, tensor(m, p + "self_attn.o_proj.weight"));
            EXPECT_EQ(lw.mlp_norm, tensor(m, p + "post_attention_layernorm.weight"));
            EXPECT_EQ(lw.w_gate, tensor(m, p + "mlp.gate_proj.weight"));
            EXPECT_EQ(lw.w_up, tensor(m, p + "mlp.up_proj.weight"));
            EXPECT_EQ(lw.w_down, tensor(m, p + "mlp.down_proj.weight"));
        }
        EXPECT_EQ(w.norm_f, tensor(m, "model.norm.weight"));
        EXPECT_EQ(w.lm_head, tied ? w.wte : tensor(m, "lm_head.weight")) << "tied " << tied;
    }
}

TEST(Model, BackwardNeedsAForwardWithTargets) {
    Model m(small_config(false));
    m.init(1);
    const std::vector<int32_t> x = {1, 2, 3, 4, 5, 6}, y = {2, 3, 4, 5, 6, 7};
    m.zero_grad();
    EXPECT_FALSE(m.backward().is_ok()) << "before any forward";
    m.forward(x.data(), nullptr, 2, 3);
    Status s = m.backward();
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("no targets"), std::string::npos) << s.message();
    EXPECT_TRUE(std::all_of(m.grads().begin(), m.grads().end(), [](float g) { return g == 0; }));
    // A forward with targets, then one without: the logits replaced the loss gradient.
    m.forward(x.data(), y.data(), 2, 3);
    m.forward(x.data(), nullptr, 2, 3);
    EXPECT_FALSE(m.backward().is_ok());
    // An evaluation pass gives the loss, and no backward.
    const double train_loss = m.forward(x.data(), y.data(), 2, 3);
    EXPECT_EQ(m.forward(x.data(), y.data(), 2, 3, Model::Pass::eval), train_loss);
    EXPECT_FALSE(m.backward().is_ok());
    m.forward(x.data(), y.data(), 2, 3);
    ASSERT_TRUE(m.backward().is_ok());
    EXPECT_TRUE(std::any_of(m.grads().begin(), m.grads().end(), [](float g) { return g != 0; }));
}

// The fused head (the default) against the unfused path on a whole model, tied and untied, with a
// vocabulary over two of the fused kernel's blocks and rows over one chunk: the same loss and
// gradients within float rounding.
TEST(Model, FusedHeadMatchesUnfusedHead) {
    for (bool tied : {false, true}) {
        ModelConfig c = small_config(tied);
        c.vocab_size = 2500;
        c.max_seq = 40;
        Model fused(c), plain(c);
        fused.init(3);
        plain.init(3);
        plain.set_fused_head(false);
        const int64_t B = 3, T = 40;
        std::vector<int32_t> x(B * T), y(B * T);
        for (int64_t i = 0; i < B * T; ++i) {
            x[static_cast<size_t>(i)] = static_cast<int32_t>((i * 37 + 11) % c.vocab_size);
            y[static_cast<size_t>(i)] = i % 17 == 0 ? -1 : static_cast<int32_t>((i * 53) % 2500);
        }
        double grad_max = 0, diff_max = 0;
        for (Model *m : {&fused, &plain}) m->zero_grad();
        const double lf = fused.forward(x.data(), y.data(), B, T);
        const double lp = plain.forward(x.data(), y.data(), B, T);
        EXPECT_NEAR(lf, lp, 1e-6 * lp) << "tied " << tied;
        ASSERT_TRUE(fused.backward().is_ok());
        ASSERT_TRUE(plain.backward().is_ok());
        for (size_t i = 0; i < fused.grads().size(); ++i) {
            grad_max = std::max(grad_max, static_cast<double>(std::fabs(plain.grads()[i])));
            diff_max = std::max(
                diff_max, static_cast<double>(std::fabs(fused.grads()[i] - plain.grads()[i])));
        }
        EXPECT_GT(grad_max, 0.0);
        EXPECT_LT(diff_max, 1e-5 * grad_max) << "tied " << tied;
    }
}

}  // namespace
}  // namespace em
