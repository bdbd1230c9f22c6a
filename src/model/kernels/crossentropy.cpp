// Fused softmax and cross-entropy over the vocabulary: one pass for the max, one for the
// normalizer, one to turn logits into gradients in place.
#include <cmath>

#include "common/parallel.h"
#include "model/kernels/kernels.h"

namespace em {

double crossentropy_forward_backward(float *logits, float *losses, const int32_t *targets,
                                     int64_t N, int64_t V, bool compute_grad) {
    int64_t counted = 0;
    for (int64_t n = 0; n < N; ++n) counted += targets[n] >= 0;
    const float inv_n = counted > 0 ? 1.0f / static_cast<float>(counted) : 0.0f;
    parallel_for(N, [&](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n) {
            float *row = logits + n * V;
            int32_t y = targets[n];
            if (y < 0) {
                losses[n] = 0.0f;
                if (compute_grad)
                    for (int64_t v = 0; v < V; ++v) row[v] = 0.0f;
                continue;
            }
            float mx = row[0];
            for (int64_t v = 1; v < V; ++v) mx = std::max(mx, row[v]);
            double sum = 0.0;
            // Single-precision exponentials (the vectorizable part), summed in double.
            for (int64_t v = 0; v < V; ++v) sum += std::exp(row[v] - mx);
            double lse = std::log(sum) + mx;
            losses[n] = static_cast<float>(lse - row[y]);
            if (compute_grad) {
                const float lse_f = static_cast<float>(lse);
                for (int64_t v = 0; v < V; ++v) row[v] = std::exp(row[v] - lse_f) * inv_n;
                row[y] -= inv_n;
            }
        }
    });
    double total = 0.0;
    for (int64_t n = 0; n < N; ++n) total += losses[n];
    return counted > 0 ? total / static_cast<double>(counted) : 0.0;
}

}  // namespace em
