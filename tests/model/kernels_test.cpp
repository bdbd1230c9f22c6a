// Every op: forward against a naive reference, backward against central finite differences of
// the scalar sum(out * R) for random R, at 1 and 2 threads.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "common/parallel.h"
#include "common/rng.h"
#include "model/kernels/kernels.h"

namespace em {
namespace {

std::vector<float> randn(size_t n, uint64_t seed, float scale = 1.0f) {
    Rng r(seed);
    std::vector<float> v(n);
    for (auto &x : v) x = scale * r.normal();
    return v;
}

double dot(const std::vector<float> &a, const std::vector<float> &b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
    return s;
}

// Max |a-b| / max(1, max|b|): the normalized error of llama.cpp's op tests.
double nerr(const std::vector<float> &a, const std::vector<float> &b) {
    double m = 0, scale = 1;
    for (size_t i = 0; i < a.size(); ++i) {
        m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
        scale = std::max(scale, std::fabs(static_cast<double>(b[i])));
    }
    return m / scale;
}

// Checks analytic gradient `grad` of f at x by central differences on up to 40 coordinates.
void check_fd(std::vector<float> &x, const std::vector<float> &grad,
              const std::function<double()> &f, const char *what, double eps = 1e-2,
              double tol = 2e-2) {
    Rng r(7);
    size_t n = std::min<size_t>(40, x.size());
    for (size_t k = 0; k < n; ++k) {
        size_t i = x.size() <= 40 ? k : r.below(x.size());
        float save = x[i];
        x[i] = save + static_cast<float>(eps);
        double fp = f();
        x[i] = save - static_cast<float>(eps);
        double fm = f();
        x[i] = save;
        double num = (fp - fm) / (2 * eps);
        EXPECT_NEAR(grad[i], num, tol * std::max(1.0, std::fabs(num))) << what << " index " << i;
    }
}

class Kernels : public ::testing::TestWithParam<int> {
  protected:
    void SetUp() override { parallel_set_threads(GetParam()); }
    void TearDown() override { parallel_set_threads(1); }
};

TEST_P(Kernels, MatmulMatchesNaiveAndFiniteDifferences) {
    const int64_t N = 70, C = 24, OC = 18;  // N above the chunk alignment, not a multiple of 16
    auto x = randn(N * C, 1), w = randn(OC * C, 2), R = randn(N * OC, 3);
    std::vector<float> out(N * OC), ref(N * OC);
    matmul_forward(out.data(), x.data(), w.data(), N, C, OC);
    for (int64_t n = 0; n < N; ++n)
        for (int64_t o = 0; o < OC; ++o) {
            double s = 0;
            for (int64_t c = 0; c < C; ++c) s += static_cast<double>(x[n * C + c]) * w[o * C + c];
            ref[n * OC + o] = static_cast<float>(s);
        }
    EXPECT_LT(nerr(out, ref), 1e-5);
    std::vector<float> dx(N * C, 0.5f), dw(OC * C, 0.25f);  // backward accumulates
    matmul_backward(dx.data(), dw.data(), R.data(), x.data(), w.data(), N, C, OC);
    for (auto &v : dx) v -= 0.5f;
    for (auto &v : dw) v -= 0.25f;
    auto f = [&] {
        matmul_forward(out.data(), x.data(), w.data(), N, C, OC);
        return dot(out, R);
    };
    check_fd(x, dx, f, "dx");
    check_fd(w, dw, f, "dw");
}

TEST_P(Kernels, RmsnormMatchesNaiveAndFiniteDifferences) {
    const int64_t N = 9, C = 16;
    auto x = randn(N * C, 4), w = randn(C, 5), R = randn(N * C, 6);
    std::vector<float> out(N * C), rstd(N), ref(N * C);
    rmsnorm_forward(out.data(), rstd.data(), x.data(), w.data(), N, C, 1e-5f);
    for (int64_t n = 0; n < N; ++n) {
        double ss = 0;
        for (int64_t c = 0; c < C; ++c) ss += x[n * C + c] * x[n * C + c];
        double r = 1 / std::sqrt(ss / C + 1e-5);
        for (int64_t c = 0; c < C; ++c)
            ref[n * C + c] = static_cast<float>(x[n * C + c] * r * w[c]);
    }
    EXPECT_LT(nerr(out, ref), 1e-6);
    std::vector<float> dx(N * C, 0.0f), dw(C, 0.0f);
    rmsnorm_backward(dx.data(), dw.data(), R.data(), x.data(), w.data(), rstd.data(), N, C);
    auto f = [&] {
        rmsnorm_forward(out.data(), rstd.data(), x.data(), w.data(), N, C, 1e-5f);
        return dot(out, R);
    };
    check_fd(x, dx, f, "dx");
    check_fd(w, dw, f, "dw");
}

TEST_P(Kernels, RopeRotatesPairsAndBackwardIsTranspose) {
    const int64_t B = 2, T = 5, H = 3, HD = 8, RD = 6;
    std::vector<float> cs(T * RD / 2), sn(T * RD / 2);
    rope_tables(cs.data(), sn.data(), T, RD, 10000.0f);
    auto x = randn(B * T * H * HD, 7), R = randn(B * T * H * HD, 8);
    auto y = x;
    rope_forward(y.data(), cs.data(), sn.data(), B, T, H, HD, RD);
    auto ref = x;
    for (int64_t b = 0; b < B; ++b)
        for (int64_t t = 0; t < T; ++t)
            for (int64_t h = 0; h < H; ++h)
                for (int64_t d = 0; d < RD / 2; ++d) {
                    double ang = t * std::pow(10000.0, -2.0 * d / RD);
                    size_t i = ((b * T + t) * H + h) * HD;
                    double a = x[i + d], c = x[i + d + RD / 2];
                    ref[i + d] = static_cast<float>(a * std::cos(ang) - c * std::sin(ang));
                    ref[i + d + RD / 2] = static_cast<float>(c * std::cos(ang) + a * std::sin(ang));
                }
    EXPECT_LT(nerr(y, ref), 1e-5);
    // Dims past RD are untouched.
    for (int64_t i = 0; i < B * T * H; ++i)
        for (int64_t d = RD; d < HD; ++d) EXPECT_EQ(y[i * HD + d], x[i * HD + d]);
    auto dx = R;
    rope_backward(dx.data(), cs.data(), sn.data(), B, T, H, HD, RD);
    auto f = [&] {
        auto z = x;
        rope_forward(z.data(), cs.data(), sn.data(), B, T, H, HD, RD);
        return dot(z, R);
    };
    check_fd(x, dx, f, "dx");
}

struct AttnShape {
    int64_t B, T, NH, KV, HD;
};

// T = 6 fits one causal block; T = 150 spans three (the last one partial).
class Attention : public ::testing::TestWithParam<std::tuple<int, AttnShape>> {
  protected:
    void SetUp() override { parallel_set_threads(std::get<0>(GetParam())); }
    void TearDown() override { parallel_set_threads(1); }
};

TEST_P(Attention, MatchesNaiveAndFiniteDifferences) {
    const auto [B, T, NH, KV, HD] = std::get<1>(GetParam());
    auto q = randn(B * T * NH * HD, 9), k = randn(B * T * KV * HD, 10),
         v = randn(B * T * KV * HD, 11);
    auto R = randn(B * T * NH * HD, 12);
    std::vector<float> out(B * T * NH * HD), att(B * NH * T * T), ref(out.size());
    attention_forward(out.data(), att.data(), q.data(), k.data(), v.data(), B, T, NH, KV, HD);
    for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < NH; ++h)
            for (int64_t t = 0; t < T; ++t) {
                int64_t kh = h / (NH / KV);
                std::vector<double> s(t + 1);
                double mx = -1e30, sum = 0;
                for (int64_t u = 0; u <= t; ++u) {
                    double d = 0;
                    for (int64_t e = 0; e < HD; ++e)
                        d += q[((b * T + t) * NH + h) * HD + e] *
                             k[((b * T + u) * KV + kh) * HD + e];
                    s[u] = d / std::sqrt(static_cast<double>(HD));
                    mx = std::max(mx, s[u]);
                }
                for (auto &x : s) sum += (x = std::exp(x - mx));
                for (int64_t e = 0; e < HD; ++e) {
                    double y = 0;
                    for (int64_t u = 0; u <= t; ++u)
                        y += s[u] / sum * v[((b * T + u) * KV + kh) * HD + e];
                    ref[((b * T + t) * NH + h) * HD + e] = static_cast<float>(y);
                }
            }
    EXPECT_LT(nerr(out, ref), 1e-5);
    std::vector<float> dq(q.size(), 0.0f), dk(k.size(), 0.0f), dv(v.size(), 0.0f),
        scratch(att.size());
    attention_backward(dq.data(), dk.data(), dv.data(), scratch.data(), R.data(), att.data(),
                       q.data(), k.data(), v.data(), B, T, NH, KV, HD);
    auto f = [&] {
        attention_forward(out.data(), att.data(), q.data(), k.data(), v.data(), B, T, NH, KV, HD);
        return dot(out, R);
    };
    check_fd(q, dq, f, "dq");
    check_fd(k, dk, f, "dk");
    check_fd(v, dv, f, "dv");
}

TEST_P(Kernels, SwigluMatchesNaiveAndFiniteDifferences) {
    const int64_t N = 5, F = 7;
    auto g = randn(N * F, 13, 2.0f), u = randn(N * F, 14), R = randn(N * F, 15);
    std::vector<float> out(N * F);
    swiglu_forward(out.data(), g.data(), u.data(), N, F);
    for (int64_t i = 0; i < N * F; ++i)
        EXPECT_NEAR(out[i], g[i] / (1 + std::exp(-static_cast<double>(g[i]))) * u[i], 1e-6);
    std::vector<float> dg(N * F, 0.0f), du(N * F, 0.0f);
    swiglu_backward(dg.data(), du.data(), R.data(), g.data(), u.data(), N, F);
    auto f = [&] {
        swiglu_forward(out.data(), g.data(), u.data(), N, F);
        return dot(out, R);
    };
    check_fd(g, dg, f, "dgate");
    check_fd(u, du, f, "dup");
}

TEST_P(Kernels, EmbeddingGathersAndScattersRepeatedTokens) {
    const int64_t V = 5, C = 3, BT = 6;
    auto wte = randn(V * C, 16);
    std::vector<int32_t> ids = {1, 3, 1, 0, 4, 1};
    std::vector<float> out(BT * C);
    embedding_forward(out.data(), ids.data(), wte.data(), BT, C);
    for (int64_t i = 0; i < BT; ++i)
        for (int64_t c = 0; c < C; ++c) EXPECT_EQ(out[i * C + c], wte[ids[i] * C + c]);
    auto R = randn(BT * C, 17);
    std::vector<float> dw(V * C, 0.0f);
    embedding_backward(dw.data(), R.data(), ids.data(), BT, C);
    for (int64_t c = 0; c < C; ++c) {
        EXPECT_FLOAT_EQ(dw[1 * C + c], R[0 * C + c] + R[2 * C + c] + R[5 * C + c]);
        EXPECT_EQ(dw[2 * C + c], 0.0f);
    }
}

TEST_P(Kernels, CrossEntropyMatchesNaiveAndFiniteDifferences) {
    const int64_t N = 4, V = 11;
    auto logits = randn(N * V, 18, 3.0f);
    std::vector<int32_t> y = {3, -1, 10, 0};  // one ignored row
    std::vector<float> losses(N);
    auto g = logits;
    double loss = crossentropy_forward_backward(g.data(), losses.data(), y.data(), N, V, true);
    double ref = 0;
    for (int64_t n = 0; n < N; ++n) {
        if (y[n] < 0) continue;
        double mx = -1e30, s = 0;
        for (int64_t v = 0; v < V; ++v) mx = std::max(mx, static_cast<double>(logits[n * V + v]));
        for (int64_t v = 0; v < V; ++v) s += std::exp(logits[n * V + v] - mx);
        ref += std::log(s) + mx - logits[n * V + y[n]];
    }
    EXPECT_NEAR(loss, ref / 3, 1e-5);
    for (int64_t v = 0; v < V; ++v) EXPECT_EQ(g[1 * V + v], 0.0f);
    auto f = [&] {
        auto l = logits;
        return crossentropy_forward_backward(l.data(), losses.data(), y.data(), N, V, false);
    };
    check_fd(logits, g, f, "dlogits", 1e-3, 2e-2);
}

// A vocabulary spanning several summation blocks, against a double-precision reference.
TEST_P(Kernels, CrossEntropyMatchesDoubleReferenceAtVocabularyScale) {
    const int64_t N = 3, V = 8192 + 5;
    auto logits = randn(N * V, 21, 4.0f);
    std::vector<int32_t> y = {17, 8196, 4000};
    std::vector<float> losses(N);
    auto g = logits;
    double loss = crossentropy_forward_backward(g.data(), losses.data(), y.data(), N, V, true);
    double ref = 0, worst = 0;
    for (int64_t n = 0; n < N; ++n) {
        double mx = -1e30, s = 0;
        for (int64_t v = 0; v < V; ++v) mx = std::max(mx, static_cast<double>(logits[n * V + v]));
        for (int64_t v = 0; v < V; ++v) s += std::exp(logits[n * V + v] - mx);
        const double lse = std::log(s) + mx;
        EXPECT_NEAR(losses[n], lse - logits[n * V + y[n]], 2e-5);
        ref += lse - logits[n * V + y[n]];
        for (int64_t v = 0; v < V; ++v) {
            const double p = std::exp(logits[n * V + v] - lse) / N - (v == y[n] ? 1.0 / N : 0.0);
            worst = std::max(worst, std::fabs(g[n * V + v] - p));
        }
    }
    EXPECT_NEAR(loss, ref / N, 1e-5);
    EXPECT_LT(worst, 1e-7);
}

TEST(KernelMath, ExponentialIsWithinAFewUlps) {
    double worst = 0;
    for (int i = 0; i <= 870000; ++i) {
        const float x = -static_cast<float>(i) * 1e-4f;
        const double want = std::exp(static_cast<double>(x));
        worst = std::max(worst, std::fabs(exp_nonpositive_for_test(x) - want) / want);
    }
    EXPECT_LT(worst, 4e-7);  // a few float ulps (one ulp is 6e-8 to 1.2e-7)
    EXPECT_EQ(exp_nonpositive_for_test(0.0f), 1.0f);
}

INSTANTIATE_TEST_SUITE_P(Threads, Kernels, ::testing::Values(1, 2));
INSTANTIATE_TEST_SUITE_P(Shapes, Attention,
                         ::testing::Combine(::testing::Values(1, 2),
                                            ::testing::Values(AttnShape{2, 6, 4, 2, 4},
                                                              AttnShape{1, 150, 2, 1, 8})));

}  // namespace
}  // namespace em
