// Fused softmax and cross-entropy over the vocabulary: one pass for the max, one that turns the
// logits into exponentials (kept in place for the gradient) and sums them, one to scale them into
// gradients. The exponential is a branch-free polynomial the compiler vectorizes: with a
// vocabulary of thousands it is the kernel's whole cost, and for small models a large share of a
// training step.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "common/parallel.h"
#include "model/kernels/kernels.h"

namespace em {
namespace {

constexpr int kLanes = 8;     // independent partial sums and maxima, so loops vectorize
constexpr int kBlock = 1024;  // elements summed in float before the block total goes to double

// exp(x) for x <= 0. x = k ln 2 + r with |r| <= ln 2 / 2 (Cody-Waite split of ln 2), exp(r) by its
// Taylor polynomial of degree 7 (relative error below 1e-8 on that interval, so the result is
// within a few float ulps), 2^k built in the exponent field. Inputs below -87 give exp(-87)
// (1.6e-38) rather than denormals: as a softmax weight that is zero either way.
inline float exp_nonpositive(float x) {
    x = std::max(x, -87.0f);
    const float k = std::floor(x * 1.44269504088896341f + 0.5f);
    const float r = (x - k * 0.693359375f) + k * 2.12194440e-4f;
    float p = 1.98412698e-4f;  // 1/5040
    p = p * r + 1.38888889e-3f;
    p = p * r + 8.33333333e-3f;
    p = p * r + 4.16666667e-2f;
    p = p * r + 1.66666667e-1f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    const int32_t bits = (static_cast<int32_t>(k) + 127) << 23;
    float scale;
    std::memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

float row_max(const float *row, int64_t V) {
    float m[kLanes];
    for (int j = 0; j < kLanes; ++j) m[j] = row[0];
    int64_t v = 0;
    for (; v + kLanes <= V; v += kLanes)
        for (int j = 0; j < kLanes; ++j) m[j] = std::max(m[j], row[v + j]);
    float mx = m[0];
    for (int j = 1; j < kLanes; ++j) mx = std::max(mx, m[j]);
    for (; v < V; ++v) mx = std::max(mx, row[v]);
    return mx;
}

// Writes exp(row[v] - mx) into out[v] and returns their sum.
double exp_sum(const float *row, float *out, int64_t V, float mx) {
    double total = 0.0;
    for (int64_t b = 0; b < V; b += kBlock) {
        const int64_t e = std::min(V, b + kBlock);
        float s[kLanes] = {};
        int64_t v = b;
        for (; v + kLanes <= e; v += kLanes)
            for (int j = 0; j < kLanes; ++j) {
                const float x = exp_nonpositive(row[v + j] - mx);
                out[v + j] = x;
                s[j] += x;
            }
        for (; v < e; ++v) {
            out[v] = exp_nonpositive(row[v] - mx);
            s[0] += out[v];
        }
        for (int j = 0; j < kLanes; ++j) total += s[j];
    }
    return total;
}

}  // namespace

float exp_nonpositive_for_test(float x) {
    return exp_nonpositive(x);
}

double crossentropy_forward_backward(float *logits, float *losses, const int32_t *targets,
                                     int64_t N, int64_t V, bool compute_grad) {
    int64_t counted = 0;
    for (int64_t n = 0; n < N; ++n) counted += targets[n] >= 0;
    const float inv_n = counted > 0 ? 1.0f / static_cast<float>(counted) : 0.0f;
    parallel_for(N, [&](int64_t n0, int64_t n1) {
        std::vector<float> scratch(compute_grad ? 0 : static_cast<size_t>(V));
        for (int64_t n = n0; n < n1; ++n) {
            float *row = logits + n * V;
            int32_t y = targets[n];
            if (y < 0) {
                losses[n] = 0.0f;
                if (compute_grad)
                    for (int64_t v = 0; v < V; ++v) row[v] = 0.0f;
                continue;
            }
            const float mx = row_max(row, V);
            const float target_logit = row[y];
            // With a gradient the exponentials replace the logits; without, they go to scratch.
            const double sum = exp_sum(row, compute_grad ? row : scratch.data(), V, mx);
            losses[n] = static_cast<float>(std::log(sum) + mx - target_logit);
            if (compute_grad) {
                const float scale = static_cast<float>(inv_n / sum);
                for (int64_t v = 0; v < V; ++v) row[v] *= scale;
                row[y] -= inv_n;
            }
        }
    });
    double total = 0.0;
    for (int64_t n = 0; n < N; ++n) total += losses[n];
    return counted > 0 ? total / static_cast<double>(counted) : 0.0;
}

}  // namespace em
