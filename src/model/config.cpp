// Model configuration: validation, JSON and TOML conversion, parameter and FLOP counts.
#include "model/config.h"

#include "common/toml_util.h"

namespace em {

Status model_config_validate(const ModelConfig &c) {
    auto bad = [](const std::string &m) { return Status::error("model: " + m); };
    if (c.vocab_size < 2) return bad("vocab_size must be at least 2");
    if (c.d_model < 2) return bad("d_model must be at least 2");
    if (c.n_layers < 1) return bad("n_layers must be at least 1");
    if (c.n_heads < 1) return bad("n_heads must be at least 1");
    if (c.d_model % c.n_heads != 0)
        return bad("d_model " + std::to_string(c.d_model) + " is not divisible by n_heads " +
                   std::to_string(c.n_heads) + " (choose n_heads dividing d_model)");
    if (c.n_kv_heads < 1 || c.n_heads % c.n_kv_heads != 0)
        return bad("n_heads " + std::to_string(c.n_heads) + " is not a multiple of n_kv_heads " +
                   std::to_string(c.n_kv_heads) +
                   " (grouped-query attention needs n_kv_heads dividing n_heads)");
    if (c.ffn_hidden < 0) return bad("ffn_hidden must be positive (or 0 for 8/3 d_model)");
    if (c.max_seq < 1) return bad("max_seq must be at least 1");
    if (!(c.rope_fraction >= 0.0 && c.rope_fraction <= 1.0))
        return bad("rope_fraction must lie in [0, 1]");
    if (c.rope_fraction > 0.0 && c.rope_dims() < 2)
        return bad("rope_fraction " + std::to_string(c.rope_fraction) +
                   " rotates fewer than 2 of the head's " + std::to_string(c.head_dim()) + " dims");
    if (!(c.rope_theta > 1.0)) return bad("rope_theta must be greater than 1");
    if (!(c.norm_eps > 0.0 && c.norm_eps < 1.0)) return bad("norm_eps must lie in (0, 1)");
    return Status::ok();
}

nlohmann::json model_config_to_json(const ModelConfig &c) {
    return {{"vocab_size", c.vocab_size},
            {"d_model", c.d_model},
            {"n_layers", c.n_layers},
            {"n_heads", c.n_heads},
            {"n_kv_heads", c.n_kv_heads},
            {"ffn_hidden", c.ffn()},
            {"max_seq", c.max_seq},
            {"rope_theta", c.rope_theta},
            {"rope_fraction", c.rope_fraction},
            {"norm_eps", c.norm_eps},
            {"tie_embeddings", c.tie_embeddings}};
}

Result<ModelConfig> model_config_from_json(const nlohmann::json &j) {
    ModelConfig c;
    try {
        c.vocab_size = j.at("vocab_size").get<int64_t>();
        c.d_model = j.at("d_model").get<int64_t>();
        c.n_layers = j.at("n_layers").get<int64_t>();
        c.n_heads = j.at("n_heads").get<int64_t>();
        c.n_kv_heads = j.at("n_kv_heads").get<int64_t>();
        c.ffn_hidden = j.at("ffn_hidden").get<int64_t>();
        c.max_seq = j.at("max_seq").get<int64_t>();
        c.rope_theta = j.at("rope_theta").get<double>();
        c.rope_fraction = j.at("rope_fraction").get<double>();
        c.norm_eps = j.at("norm_eps").get<double>();
        c.tie_embeddings = j.at("tie_embeddings").get<bool>();
    } catch (const std::exception &e) {
        return Status::error(std::string("model config: ") + e.what());
    }
    EM_TRY(model_config_validate(c));
    return c;
}

Status model_config_from_toml(ModelConfig &c, const toml::table &t, const std::string &where) {
    TomlReader r(t, where);
    r.get("vocab_size", c.vocab_size);
    r.get("d_model", c.d_model);
    r.get("n_layers", c.n_layers);
    r.get("n_heads", c.n_heads);
    r.get("n_kv_heads", c.n_kv_heads);
    r.get("ffn_hidden", c.ffn_hidden);
    r.get("max_seq", c.max_seq);
    r.get("rope_theta", c.rope_theta);
    r.get("rope_fraction", c.rope_fraction);
    r.get("norm_eps", c.norm_eps);
    r.get("tie_embeddings", c.tie_embeddings);
    EM_TRY(r.finish());
    return model_config_validate(c).with_context(where);
}

ParamCounts model_param_counts(const ModelConfig &c) {
    const int64_t C = c.d_model, F = c.ffn(), KVD = c.kv_dim();
    const int64_t per_layer = 2 * C + C * C * 2 + 2 * KVD * C + 3 * C * F;
    ParamCounts p;
    p.embedding = c.vocab_size * C * (c.tie_embeddings ? 1 : 2);
    p.non_embedding = c.n_layers * per_layer + C;
    p.total = p.embedding + p.non_embedding;
    return p;
}

double model_flops_per_token(const ModelConfig &c, int64_t T, bool training) {
    const double C = static_cast<double>(c.d_model), F = static_cast<double>(c.ffn());
    const double KVD = static_cast<double>(c.kv_dim()), V = static_cast<double>(c.vocab_size);
    const double L = static_cast<double>(c.n_layers);
    double matmul_weights = L * (2 * C * C + 2 * KVD * C + 3 * C * F) + V * C;
    double attention = L * 2.0 * 2.0 * C * (static_cast<double>(T) + 1) / 2.0;
    double fwd = 2.0 * matmul_weights + attention;
    return training ? 3.0 * fwd : fwd;
}

}  // namespace em
