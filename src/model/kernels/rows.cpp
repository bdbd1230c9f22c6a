// Row reductions shared by the kernels (declared in vector_math.h): kLanes independent partial
// maxima and sums, so the loops vectorize and their order, and with it every bit of the result,
// is fixed by the element's index whatever the instruction set.
#include <algorithm>
#include <cstdint>

#include "model/kernels/vector_math.h"

namespace em {
namespace {

constexpr int kLanes = 16;
constexpr int64_t kBlock = 1024;  // elements summed in float before the block total goes to double

}  // namespace

EM_VECTOR_CLONES float row_max(const float *row, int64_t n) {
    float m[kLanes];
    for (int j = 0; j < kLanes; ++j) m[j] = row[0];
    int64_t v = 0;
    for (; v + kLanes <= n; v += kLanes)
        for (int j = 0; j < kLanes; ++j) m[j] = std::max(m[j], row[v + j]);
    float mx = m[0];
    for (int j = 1; j < kLanes; ++j) mx = std::max(mx, m[j]);
    for (; v < n; ++v) mx = std::max(mx, row[v]);
    return mx;
}

EM_VECTOR_CLONES double exp_sum(const float *row, float *out, int64_t n, float mx) {
    double total = 0.0;
    for (int64_t b = 0; b < n; b += kBlock) {
        const int64_t e = std::min(n, b + kBlock);
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

EM_VECTOR_CLONES double dot_lanes(const float *a, const float *b, const float *c3, int64_t n) {
    float s[kLanes] = {};
    int64_t c = 0;
    for (; c + kLanes <= n; c += kLanes)
        for (int j = 0; j < kLanes; ++j) s[j] += a[c + j] * b[c + j] * (c3 ? c3[c + j] : 1.0f);
    double total = 0.0;
    for (; c < n; ++c) total += static_cast<double>(a[c]) * b[c] * (c3 ? c3[c] : 1.0f);
    for (int j = 0; j < kLanes; ++j) total += s[j];
    return total;
}

}  // namespace em
