// AdamW with decoupled weight decay, defined as torch.optim.AdamW defines it, over the flat
// parameter arena; moments share the parameters' layout. Also global gradient-norm clipping.
#pragma once

#include <cstdint>
#include <vector>

#include "model/model.h"

namespace em {

struct AdamWConfig {
    double beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weight_decay = 0.1;
    bool decay_norms = false;       // weight decay on RMSNorm gains
    bool decay_embeddings = false;  // weight decay on the token embedding and output head
};

struct AdamWState {
    std::vector<float> m, v;  // same layout as the parameters
    int64_t t = 0;            // completed updates
};

// L2 norm of the whole gradient arena, summed in a fixed order (deterministic per thread count).
double grad_global_norm(const std::vector<float> &grads);

// One update: grads are multiplied by grad_scale (clipping and accumulation averaging) first.
void adamw_step(std::vector<float> &params, const std::vector<float> &grads, AdamWState &state,
                const std::vector<ParamTensor> &layout, const AdamWConfig &cfg, double lr,
                float grad_scale);

}  // namespace em
