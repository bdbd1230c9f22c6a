// KV-cached inference against a direct full-sequence Model::forward on a small random model.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "common/parallel.h"
#include "model/infer.h"
#include "tests/eval/fixtures.h"

namespace em {
namespace {

using testing::tiny_config;
using testing::tiny_model;

TEST(InferSession, MatchesForwardRowByRow) {
    // Grouped keys/values with partial RoPE, and tied embeddings with one key/value head and full
    // RoPE.
    ModelConfig tied = tiny_config(96, 32);
    tied.tie_embeddings = true;
    tied.n_kv_heads = 1;
    tied.rope_fraction = 1.0;
    for (const ModelConfig &cfg : {tiny_config(96, 32), tied}) {
        auto model = tiny_model(cfg);
        auto ref = tiny_model(cfg);
        std::vector<int32_t> toks;
        for (int i = 0; i < 32; ++i) toks.push_back(static_cast<int32_t>((i * 13 + 5) % 96));
        ref->forward(toks.data(), nullptr, 1, 32);
        for (int64_t pass : {1, 5, 32}) {
            InferSession s(*model);
            s.set_max_pass_tokens(pass);
            // Appended in uneven pieces, keeping all logits of the last piece.
            s.append(toks.data(), 10, 10);
            s.append(toks.data() + 10, 22, 22);
            EXPECT_EQ(s.length(), 32);
            double worst = 0;
            for (int64_t t = 10; t < 32; ++t)
                for (int64_t v = 0; v < cfg.vocab_size; ++v)
                    worst = std::max(
                        worst,
                        static_cast<double>(std::fabs(s.logits()[(t - 10) * cfg.vocab_size + v] -
                                                      ref->logits()[t * cfg.vocab_size + v])));
            EXPECT_LT(worst, 1e-4) << "pass " << pass << " tied " << cfg.tie_embeddings;
        }
    }
}

// One pass over a whole sequence of at most one causal block (64 tokens), on one thread, makes the
// very calls Model::forward makes: the logits are equal, not just close.
TEST(InferSession, OnePassEqualsForwardExactly) {
    parallel_set_threads(1);
    const ModelConfig cfg = tiny_config(96, 40);
    auto model = tiny_model(cfg);
    std::vector<int32_t> toks;
    for (int i = 0; i < 40; ++i) toks.push_back(static_cast<int32_t>((i * 17 + 3) % 96));
    InferSession s(*model);
    s.append(toks.data(), 40, 40);
    model->forward(toks.data(), nullptr, 1, 40);  // the session only reads the parameters
    for (int64_t i = 0; i < 40 * cfg.vocab_size; ++i)
        ASSERT_EQ(s.logits()[i], model->logits()[i]) << "row " << i / cfg.vocab_size;
}

}  // namespace
}  // namespace em
