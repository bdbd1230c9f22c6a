// Rotary position embedding on a leading fraction of each head's dimensions ("rotate half").
#include <cmath>

#include "common/parallel.h"
#include "model/kernels/exec.h"
#include "model/kernels/kernels.h"

namespace em {

void rope_tables(float *cos_t, float *sin_t, int64_t T, int64_t RD, float theta) {
    int64_t half = RD / 2;
    for (int64_t t = 0; t < T; ++t) {
        for (int64_t i = 0; i < half; ++i) {
            double freq = std::pow(static_cast<double>(theta), -2.0 * i / static_cast<double>(RD));
            double ang = static_cast<double>(t) * freq;
            cos_t[t * half + i] = static_cast<float>(std::cos(ang));
            sin_t[t * half + i] = static_cast<float>(std::sin(ang));
        }
    }
}

namespace {

// Rotates the H heads of one token's row x (H, HD) by the angles of table row c, s (RD/2).
// sign = +1 rotates by +angle (forward), -1 by -angle (the transpose, for backward).
void rope_token(float *x, const float *c, const float *s, int64_t H, int64_t HD, int64_t half,
                float sign) {
    for (int64_t h = 0; h < H; ++h) {
        float *v = x + h * HD;
        for (int64_t d = 0; d < half; ++d) {
            float a = v[d], b = v[d + half], sn = sign * s[d];
            v[d] = a * c[d] - b * sn;
            v[d + half] = b * c[d] + a * sn;
        }
    }
}

void rope_apply(float *x, const float *cos_t, const float *sin_t, int64_t B, int64_t T, int64_t H,
                int64_t HD, int64_t RD, float sign) {
    int64_t half = RD / 2;
    if (half == 0) return;
    parallel_for(B * T, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
            int64_t t = i % T;
            rope_token(x + i * H * HD, cos_t + t * half, sin_t + t * half, H, HD, half, sign);
        }
    });
}

}  // namespace

void rope_forward(float *x, const float *cos_t, const float *sin_t, int64_t B, int64_t T, int64_t H,
                  int64_t HD, int64_t RD) {
    rope_apply(x, cos_t, sin_t, B, T, H, HD, RD, 1.0f);
}

void rope_forward_at(float *x, const float *cos_t, const float *sin_t, const int64_t *pos,
                     int64_t N, int64_t H, int64_t HD, int64_t RD, Exec ex) {
    int64_t half = RD / 2;
    if (half == 0) return;
    exec_for(ex, N, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i)
            rope_token(x + i * H * HD, cos_t + pos[i] * half, sin_t + pos[i] * half, H, HD, half,
                       1.0f);
    });
}

void rope_backward(float *dx, const float *cos_t, const float *sin_t, int64_t B, int64_t T,
                   int64_t H, int64_t HD, int64_t RD) {
    rope_apply(dx, cos_t, sin_t, B, T, H, HD, RD, -1.0f);
}

}  // namespace em
