// AdamW update and gradient norm; see adamw.h.
#include "optim/adamw.h"

#include <cmath>

#include "common/parallel.h"
#include "model/kernels/vector_math.h"

namespace em {

double grad_global_norm(const std::vector<float> &grads) {
    const int64_t n = static_cast<int64_t>(grads.size());
    const int64_t block = 1 << 16;
    const int64_t blocks = (n + block - 1) / block;
    std::vector<double> partial(static_cast<size_t>(blocks), 0.0);
    parallel_for(blocks, [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) {
            double s = 0.0;
            for (int64_t i = b * block; i < std::min(n, (b + 1) * block); ++i)
                s += static_cast<double>(grads[i]) * grads[i];
            partial[b] = s;
        }
    });
    double total = 0.0;
    for (double p : partial) total += p;
    return std::sqrt(total);
}

namespace {

struct AdamWTerms {
    float b1, b2, eps, step_size, bc2_sqrt, shrink, grad_scale;
};

EM_VECTOR_CLONES void adamw_range(float *p, float *m, float *v, const float *g, const AdamWTerms &k,
                                  int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
        const float gi = g[i] * k.grad_scale;
        m[i] = k.b1 * m[i] + (1.0f - k.b1) * gi;
        v[i] = k.b2 * v[i] + (1.0f - k.b2) * gi * gi;
        const float denom = std::sqrt(v[i]) / k.bc2_sqrt + k.eps;
        p[i] = p[i] * k.shrink - k.step_size * m[i] / denom;
    }
}

}  // namespace

void adamw_step(std::vector<float> &params, const std::vector<float> &grads, AdamWState &state,
                const std::vector<ParamTensor> &layout, const AdamWConfig &cfg, double lr,
                float grad_scale) {
    if (state.m.size() != params.size()) {
        state.m.assign(params.size(), 0.0f);
        state.v.assign(params.size(), 0.0f);
    }
    state.t += 1;
    const float b1 = static_cast<float>(cfg.beta1), b2 = static_cast<float>(cfg.beta2);
    const float eps = static_cast<float>(cfg.eps);
    const double bc1 = 1.0 - std::pow(cfg.beta1, static_cast<double>(state.t));
    const double bc2 = 1.0 - std::pow(cfg.beta2, static_cast<double>(state.t));
    const float step_size = static_cast<float>(lr / bc1);
    const float bc2_sqrt = static_cast<float>(std::sqrt(bc2));
    for (const auto &t : layout) {
        bool decay = !(t.is_norm && !cfg.decay_norms) && !(t.is_embedding && !cfg.decay_embeddings);
        const float shrink = decay ? static_cast<float>(1.0 - lr * cfg.weight_decay) : 1.0f;
        float *p = params.data() + t.offset, *m = state.m.data() + t.offset,
              *v = state.v.data() + t.offset;
        const float *g = grads.data() + t.offset;
        const AdamWTerms k{b1, b2, eps, step_size, bc2_sqrt, shrink, grad_scale};
        parallel_for(static_cast<int64_t>(t.numel),
                     [&](int64_t i0, int64_t i1) { adamw_range(p, m, v, g, k, i0, i1); });
    }
}

}  // namespace em
