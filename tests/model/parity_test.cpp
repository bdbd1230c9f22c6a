// Whole-model parity with PyTorch: this test writes a model's weights and token batches as
// safetensors, runs forward, backward and AdamW steps in the engine, writes the results, and has
// tests/reference/llama_reference.py recompute everything in float64 PyTorch and compare.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>

#include <nlohmann/json.hpp>

#include "common/parallel.h"
#include "common/rng.h"
#include "model/model.h"
#include "model/safetensors.h"
#include "optim/adamw.h"
#include "tests/train/fixtures.h"

namespace em {
namespace {

using testing::kPython;
using testing::TempDir;
using testing::torch_available;

struct ParityCase {
    const char *name;
    ModelConfig cfg;
    int64_t B, T;
};

void run_parity(const ParityCase &pc) {
    if (!torch_available())
        GTEST_SKIP() << "python3-torch is not installed (scripts/install-deps.sh --test)";
    parallel_set_threads(2);
    const int64_t B = pc.B, T = pc.T, V = pc.cfg.vocab_size, steps = 5;
    Model model(pc.cfg);
    model.init(42);
    std::vector<float> w0 = model.params();

    Rng rng(9);
    std::vector<float> tokens_f(static_cast<size_t>(steps * B * (T + 1)));
    for (auto &t : tokens_f) t = static_cast<float>(rng.below(static_cast<uint64_t>(V)));
    auto batch = [&](int64_t s, std::vector<int32_t> &x, std::vector<int32_t> &y) {
        x.resize(B * T);
        y.resize(B * T);
        for (int64_t b = 0; b < B; ++b)
            for (int64_t t = 0; t < T; ++t) {
                x[b * T + t] = static_cast<int32_t>(tokens_f[(s * B + b) * (T + 1) + t]);
                y[b * T + t] = static_cast<int32_t>(tokens_f[(s * B + b) * (T + 1) + t + 1]);
            }
    };

    // Logits (a forward without targets), then loss and gradients.
    std::vector<int32_t> x, y;
    batch(0, x, y);
    model.forward(x.data(), nullptr, B, T);
    std::vector<float> logits(model.logits(), model.logits() + B * T * V);
    model.zero_grad();
    float loss = static_cast<float>(model.forward(x.data(), y.data(), B, T));
    ASSERT_TRUE(model.backward().is_ok());
    std::vector<float> grads = model.grads();

    AdamWConfig ac;
    ac.weight_decay = 0.1;
    // Adam's update lr g / (|g| + eps) moves by lr |dg| / eps for a rounding error dg in a gradient
    // much smaller than eps. The gradients here carry absolute errors of up to ~1e-8 (the float32
    // rounding the checks above bound), so at the default eps 1e-8 an element whose gradient is
    // near zero may legitimately differ from float64 by a large part of one update, and whether
    // one does depends on the kernels' summation order. eps 1e-6 bounds that at a hundredth of
    // an update while keeping eps in every update.
    ac.eps = 1e-6;
    const double lr = 1e-2, clip = 1.0;
    AdamWState st;
    std::vector<float> step_losses;
    for (int64_t s = 0; s < steps; ++s) {
        batch(s, x, y);
        model.zero_grad();
        step_losses.push_back(static_cast<float>(model.forward(x.data(), y.data(), B, T)));
        ASSERT_TRUE(model.backward().is_ok());
        double gn = grad_global_norm(model.grads());
        adamw_step(model.params(), model.grads(), st, model.layout(), ac, lr,
                   static_cast<float>(gn > clip ? clip / gn : 1.0));
    }

    const TempDir tmp("parity_" + std::string(pc.name));
    const std::string &dir = tmp.path;
    // Tolerances: max |ours - torch| / max(1, max |torch|), torch in float64. Weights after the
    // AdamW steps get 1e-4 (1% of one lr = 1e-2 update): Adam divides by sqrt(v), which amplifies
    // the fp32 rounding of gradients that are nearly zero (see eps above).
    nlohmann::json opt = {{"lr", lr},
                          {"beta1", ac.beta1},
                          {"beta2", ac.beta2},
                          {"eps", ac.eps},
                          {"weight_decay", ac.weight_decay},
                          {"decay_embeddings", ac.decay_embeddings},
                          {"grad_clip", clip},
                          {"steps", steps},
                          {"tol_logits", 1e-5},
                          {"tol_loss", 1e-5},
                          {"tol_grad", 1e-5},
                          {"tol_weights", 1e-4}};
    std::vector<StTensor> in = {{"tokens", {steps, B, T + 1}, tokens_f.data()}};
    std::vector<StTensor> out = {{"logits", {B, T, V}, logits.data()},
                                 {"loss", {1}, &loss},
                                 {"step_losses", {steps}, step_losses.data()}};
    for (const auto &t : model.layout()) {
        in.push_back({"w." + t.name, t.shape, w0.data() + t.offset});
        out.push_back({"grad." + t.name, t.shape, grads.data() + t.offset});
        out.push_back({"final." + t.name, t.shape, model.params().data() + t.offset});
    }
    ASSERT_TRUE(safetensors_write(dir + "/inputs.safetensors", in,
                                  {{"emergence.model_config", model_config_to_json(pc.cfg).dump()},
                                   {"parity.options", opt.dump()}})
                    .is_ok());
    ASSERT_TRUE(safetensors_write(dir + "/results.safetensors", out, {}).is_ok());
    std::string cmd = std::string(kPython) + " " + EM_TEST_DIR + "/reference/llama_reference.py " +
                      dir + "/inputs.safetensors " + dir + "/results.safetensors 2>&1";
    FILE *p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string text;
    char buf[512];
    while (fgets(buf, sizeof buf, p)) text += buf;
    int rc = pclose(p);
    std::printf("%s", text.c_str());
    EXPECT_EQ(rc, 0) << text;
    EXPECT_NE(text.find("parity: PASS"), std::string::npos);
    parallel_set_threads(1);
}

TEST(Parity, MultiHeadFullRopeUntied) {
    ModelConfig c;
    c.vocab_size = 96;
    c.d_model = 48;
    c.n_layers = 2;
    c.n_heads = 4;
    c.n_kv_heads = 4;
    c.ffn_hidden = 128;
    c.max_seq = 16;
    run_parity({"mha", c, 3, 16});
}

TEST(Parity, GroupedQueryPartialRopeTied) {
    ModelConfig c;
    c.vocab_size = 80;
    c.d_model = 64;
    c.n_layers = 3;
    c.n_heads = 8;
    c.n_kv_heads = 2;
    c.max_seq = 24;
    c.rope_fraction = 0.5;
    c.tie_embeddings = true;
    run_parity({"gqa", c, 2, 20});
}

}  // namespace
}  // namespace em
