// The model's shape: a LLaMA-like decoder (RMSNorm, RoPE on a fraction of each head's dims,
// grouped-query attention, SwiGLU MLP, optionally tied embeddings).
#pragma once

#include <cstdint>
#include <string>

#include <toml++/toml.h>
#include <nlohmann/json.hpp>

#include "common/status.h"

namespace em {

struct ModelConfig {
    int64_t vocab_size = 8192;
    int64_t d_model = 256;
    int64_t n_layers = 6;
    int64_t n_heads = 8;
    int64_t n_kv_heads = 8;
    int64_t ffn_hidden = 0;  // 0: 8/3 d_model rounded up to a multiple of 32
    int64_t max_seq = 256;
    double rope_theta = 10000.0;
    double rope_fraction = 1.0;  // share of each head's dims that RoPE rotates
    double norm_eps = 1e-5;
    bool tie_embeddings = false;

    int64_t head_dim() const { return d_model / n_heads; }
    int64_t kv_dim() const { return n_kv_heads * head_dim(); }
    int64_t ffn() const { return ffn_hidden > 0 ? ffn_hidden : (8 * d_model / 3 + 31) / 32 * 32; }
    // Rotated dims per head: the fraction of head_dim, rounded down to an even number.
    int64_t rope_dims() const {
        return static_cast<int64_t>(rope_fraction * static_cast<double>(head_dim())) / 2 * 2;
    }
};

// Checks that the shape is possible; the message names the key and the fix.
Status model_config_validate(const ModelConfig &c);

nlohmann::json model_config_to_json(const ModelConfig &c);
Result<ModelConfig> model_config_from_json(const nlohmann::json &j);

// Reads keys of a [model] TOML table over the defaults in `c`; an unknown key or a wrong type is
// an error naming `where` (file and table).
Status model_config_from_toml(ModelConfig &c, const toml::table &t, const std::string &where);

struct ParamCounts {
    int64_t total = 0;
    int64_t embedding = 0;      // token embedding and, when untied, the output head
    int64_t non_embedding = 0;  // the N of scaling laws
};
ParamCounts model_param_counts(const ModelConfig &c);

// Model FLOPs per token: forward 2 per matmul weight plus causal attention (QK^T and AV over the
// T/2 average context); training counts forward + backward as 3x forward.
double model_flops_per_token(const ModelConfig &c, int64_t T, bool training);

}  // namespace em
