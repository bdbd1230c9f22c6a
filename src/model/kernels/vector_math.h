// Helpers for the hand-written loops of the kernels and the optimizer.
//
// EM_VECTOR_CLONES: wider vectors without building for one machine. The build targets x86-64-v2
// (SSE4.2), while the hardware that runs a study usually has AVX2 or AVX-512: the macro compiles a
// function once per level and the loader picks the widest the CPU has (GCC's target_clones). The
// files that use it are compiled with -ffp-contract=off (CMakeLists.txt), so no clone fuses a
// multiply and an add that another keeps apart: every clone gives the same bits, on every machine.
// Elsewhere (other compilers, other architectures, sanitizer builds) it is empty.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    !defined(__SANITIZE_ADDRESS__)
#define EM_VECTOR_CLONES \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define EM_VECTOR_CLONES
#endif

namespace em {

// exp(x) for x <= 0. x = k ln 2 + r with |r| <= ln 2 / 2 (Cody-Waite split of ln 2), exp(r) by its
// Taylor polynomial of degree 7 (relative error below 1e-8 on that interval, so the result is
// within a few float ulps), 2^k built in the exponent field. Inputs below -87 give exp(-87)
// (1.6e-38) rather than denormals: as a softmax weight that is zero either way. Branch-free, so
// loops over it vectorize.
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

// The logistic function 1 / (1 + exp(-a)), through exp(-|a|) so that the exponential's argument
// is never positive.
inline float sigmoid(float a) {
    const float e = exp_nonpositive(-std::fabs(a));
    const float inv = 1.0f / (1.0f + e);
    return a >= 0.0f ? inv : e * inv;
}

// Row reductions (rows.cpp), in partial maxima and sums over 16 lanes whose order is fixed by the
// element's index:
// the largest of row[0, n);
float row_max(const float *row, int64_t n);
// writes exp_nonpositive(row[v] - mx) into out[v] (out may be row) and returns their sum, in float
// within blocks of 1024 elements and in double across blocks;
double exp_sum(const float *row, float *out, int64_t n, float mx);
// the sum of a[c] * b[c] * (c3 ? c3[c] : 1), in float lanes added in double.
double dot_lanes(const float *a, const float *b, const float *c3, int64_t n);

}  // namespace em
