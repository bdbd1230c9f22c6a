// The transformer: parameters, gradients and activations in arenas, forward and backward built
// from the ops in kernels/kernels.h. Parameters and gradients share one layout (a table of named
// tensors), so the optimizer updates them in one loop and checkpoints name them like Hugging
// Face's LLaMA ("model.layers.0.self_attn.q_proj.weight", ...).
//
// Shape letters as in kernels.h; L layers.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/config.h"

namespace em {

struct ParamTensor {
    std::string name;
    std::vector<int64_t> shape;
    size_t offset = 0;  // in floats, into the arena
    size_t numel = 0;
    bool is_norm = false;
    bool is_embedding = false;  // token embedding, or the untied output head
};

// The table of tensors and their offsets for a config; identical for params, grads and moments.
std::vector<ParamTensor> model_param_layout(const ModelConfig &c, size_t *total_floats);

// Pointers to each tensor inside one arena: const float for the parameters (Weights), float for
// the gradients (Grads). Built from the layout once; the arenas never move.
template <typename T>
struct LayerTensors {
    T *attn_norm;  // (C)
    T *wq;         // (C, C)
    T *wk;         // (KVD, C)
    T *wv;         // (KVD, C)
    T *wo;         // (C, C)
    T *mlp_norm;   // (C)
    T *w_gate;     // (F, C)
    T *w_up;       // (F, C)
    T *w_down;     // (C, F)
};
template <typename T>
struct ModelTensors {
    T *wte;  // (V, C)
    std::vector<LayerTensors<T>> layers;
    T *norm_f;   // (C)
    T *lm_head;  // (V, C); equals wte when tied
};
using LayerWeights = LayerTensors<const float>;
using Weights = ModelTensors<const float>;
using LayerGrads = LayerTensors<float>;
using Grads = ModelTensors<float>;

// Per-layer activations kept for backward.
struct LayerActs {
    float *res;    // (B, T, C) residual stream entering the layer
    float *ln1;    // (B, T, C)
    float *rstd1;  // (B, T)
    float *q;      // (B, T, C) after RoPE
    float *k;      // (B, T, KVD) after RoPE
    float *v;      // (B, T, KVD)
    float *att;    // (B, NH, T, T)
    float *atty;   // (B, T, C)
    float *mid;    // (B, T, C) residual after attention
    float *ln2;    // (B, T, C)
    float *rstd2;  // (B, T)
    float *gate;   // (B, T, F)
    float *up;     // (B, T, F)
    float *hact;   // (B, T, F)
};

class Model {
  public:
    explicit Model(const ModelConfig &c);
    Model(const Model &) = delete;
    Model &operator=(const Model &) = delete;

    // Fills the parameters from seed: N(0, 0.02), residual output projections (wo, w_down)
    // scaled by 1/sqrt(2 L), norms 1.
    void init(uint64_t seed);

    // Runs the model on inputs (B, T). With targets (B, T) (entries < 0 ignored) it computes the
    // mean cross-entropy and returns it; with Pass::train, backward() may follow, and the output
    // head computes its share of the gradients in the same pass (lm_head_crossentropy), so the
    // (B, T, V) logits are never held. Pass::eval gives the loss alone. Without targets, logits()
    // holds (B, T, V) on return and the return value is 0.
    enum class Pass { train, eval };
    double forward(const int32_t *inputs, const int32_t *targets, int64_t B, int64_t T,
                   Pass pass = Pass::train);
    // Accumulates d(mean loss)/d(params) into grads(). Requires that the last forward had targets
    // and Pass::train; otherwise returns an error and leaves grads() untouched.
    Status backward();
    // The unfused head (all logits, then the cross-entropy, then the head's backward) instead of
    // lm_head_crossentropy: the reference the fused head is tested and benchmarked against.
    void set_fused_head(bool fused) { fused_head_ = fused; }
    void zero_grad();
    // Called during backward() each time a contiguous range [begin, end) of grads() is final for
    // that backward: the head (final norm and untied output head) first, then each layer from the
    // last, then [0, first layer) with the embedding. The ranges tile the arena. Lets gradient
    // exchange between processes overlap the rest of the backward pass. Empty: no calls.
    void set_grad_ready(std::function<void(size_t begin, size_t end)> fn) {
        grad_ready_ = std::move(fn);
    }
    // The ranges set_grad_ready reports, in the order it reports them.
    std::vector<std::pair<size_t, size_t>> grad_ranges() const;

    const ModelConfig &config() const { return cfg_; }
    const std::vector<ParamTensor> &layout() const { return layout_; }
    std::vector<float> &params() { return params_; }
    const std::vector<float> &params() const { return params_; }
    // The parameters as typed tensors; valid for the model's lifetime.
    const Weights &weights() const { return w_; }
    // RoPE tables (max_seq, RD/2), as rope_tables writes them.
    const float *rope_cos() const { return rope_cos_.data(); }
    const float *rope_sin() const { return rope_sin_.data(); }
    std::vector<float> &grads() { return grads_; }
    // (B, T, V) after forward without targets
    const float *logits() const { return logits_.data(); }
    const float *losses() const { return losses_.data(); }  // (B, T) per-position loss

  private:
    void ensure_acts(int64_t B, int64_t T);

    ModelConfig cfg_;
    std::vector<ParamTensor> layout_;
    std::vector<float> params_, grads_;
    Weights w_;
    Grads g_;
    std::vector<float> rope_cos_, rope_sin_;  // (max_seq, RD/2)

    // Activations for the current (B, T), one arena.
    int64_t B_ = 0, T_ = 0;
    std::vector<float> acts_;
    std::vector<LayerActs> la_;
    float *res_final_ = nullptr, *lnf_ = nullptr, *rstdf_ = nullptr;
    std::vector<float> logits_;        // (B, T, V): forward without targets, or the unfused head
    std::vector<float> dhead_;         // (V, C) the head weight's gradient from the last forward
    std::vector<float> head_scratch_;  // lm_head_crossentropy's
    float *tmp_ = nullptr;             // (B, T, C) projection outputs
    // Gradient buffers reused across layers.
    float *dres_ = nullptr, *dln_ = nullptr, *dq_ = nullptr, *dk_ = nullptr, *dv_ = nullptr;
    float *datty_ = nullptr, *dgate_ = nullptr, *dup_ = nullptr, *dhact_ = nullptr,
          *dscratch_ = nullptr;
    std::vector<int32_t> inputs_;
    std::vector<float> losses_;
    bool have_targets_ = false;  // the last forward was Pass::train with targets
    bool fused_head_ = true;
    std::function<void(size_t, size_t)> grad_ready_;
};

}  // namespace em
