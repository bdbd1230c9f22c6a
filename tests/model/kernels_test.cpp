// Every op: forward against a naive reference, backward against central finite differences of
// the scalar sum(out * R) for random R, at 1 and 2 threads. The entry points of KV-cached
// inference (Exec::serial, rope at given positions, attention against a cache) against the same
// references and against the batched kernels.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <ostream>
#include <string>
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

// Max |a-b| / max(1, max|b|): the largest absolute error, taken relative to the reference's
// largest magnitude where that exceeds 1.
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

// softmax(q . k_u / sqrt(HD)) @ v over the key rows `keys` and value rows `vals`, in double.
std::vector<double> naive_attend(const float *q, const std::vector<const float *> &keys,
                                 const std::vector<const float *> &vals, int64_t HD) {
    std::vector<double> s(keys.size()), y(static_cast<size_t>(HD), 0.0);
    double mx = -1e30, sum = 0;
    for (size_t u = 0; u < keys.size(); ++u) {
        double d = 0;
        for (int64_t e = 0; e < HD; ++e) d += q[e] * keys[u][e];
        s[u] = d / std::sqrt(static_cast<double>(HD));
        mx = std::max(mx, s[u]);
    }
    for (auto &x : s) sum += (x = std::exp(x - mx));
    for (int64_t e = 0; e < HD; ++e)
        for (size_t u = 0; u < keys.size(); ++u) y[e] += s[u] / sum * vals[u][e];
    return y;
}

struct AttnShape {
    int64_t B, T, NH, KV, HD;
};

std::string shape_name(const AttnShape &s) {
    return "B" + std::to_string(s.B) + "_T" + std::to_string(s.T) + "_NH" + std::to_string(s.NH) +
           "_KV" + std::to_string(s.KV) + "_HD" + std::to_string(s.HD);
}
// How GoogleTest prints a shape in messages and test listings.
void PrintTo(const AttnShape &s, std::ostream *os) {
    *os << shape_name(s);
}
std::string attention_name(const ::testing::TestParamInfo<std::tuple<int, AttnShape>> &info) {
    return "threads" + std::to_string(std::get<0>(info.param)) + "_" +
           shape_name(std::get<1>(info.param));
}

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
                std::vector<const float *> keys, vals;
                for (int64_t u = 0; u <= t; ++u) {
                    keys.push_back(&k[((b * T + u) * KV + kh) * HD]);
                    vals.push_back(&v[((b * T + u) * KV + kh) * HD]);
                }
                auto y = naive_attend(&q[((b * T + t) * NH + h) * HD], keys, vals, HD);
                for (int64_t e = 0; e < HD; ++e)
                    ref[((b * T + t) * NH + h) * HD + e] = static_cast<float>(y[e]);
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

using HeadFn = double (*)(float *, float *, float *, const float *, const float *, const int32_t *,
                          int64_t, int64_t, int64_t, float *);

// A fused head against the unfused path (matmul, cross-entropy, matmul backward) and against
// finite differences of its own loss. N and V are not multiples of the fused kernel's row chunk
// and vocabulary block (nor V of 16), so partial chunks, blocks and panels are covered; one row is
// ignored.
void check_head(HeadFn head, int64_t C) {
    SCOPED_TRACE("C = " + std::to_string(C));
    const int64_t N = kHeadRows + 37, V = 2 * kHeadBlock + 77;
    auto x = randn(N * C, 41), w = randn(V * C, 42, 0.3f);
    std::vector<int32_t> y(static_cast<size_t>(N));
    Rng r(43);
    for (auto &t : y) t = static_cast<int32_t>(r.below(static_cast<uint64_t>(V)));
    y[5] = -1;
    y[6] = 0;
    y[7] = static_cast<int32_t>(V - 1);
    std::vector<float> scratch(lm_head_crossentropy_scratch(C, V)), losses(N), ref_losses(N);
    std::vector<float> dx(N * C, 0.5f), dw(V * C, 0.25f);  // accumulates onto what is there
    double loss = head(dx.data(), dw.data(), losses.data(), x.data(), w.data(), y.data(), N, C, V,
                       scratch.data());
    std::vector<float> logits(N * V), rdx(N * C, 0.5f), rdw(V * C, 0.25f);
    matmul_forward(logits.data(), x.data(), w.data(), N, C, V);
    double ref =
        crossentropy_forward_backward(logits.data(), ref_losses.data(), y.data(), N, V, true);
    matmul_backward(rdx.data(), rdw.data(), logits.data(), x.data(), w.data(), N, C, V);
    EXPECT_NEAR(loss, ref, 1e-6 * std::fabs(ref));
    EXPECT_EQ(losses[5], 0.0f);
    EXPECT_LT(nerr(losses, ref_losses), 1e-5);
    EXPECT_LT(nerr(dx, rdx), 1e-5);
    EXPECT_LT(nerr(dw, rdw), 1e-5);
    // The loss alone (no gradients) is the same loss.
    std::vector<float> only(N);
    EXPECT_EQ(
        head(nullptr, nullptr, only.data(), x.data(), w.data(), y.data(), N, C, V, scratch.data()),
        loss);
    EXPECT_EQ(only, losses);
    auto f = [&] {
        return head(nullptr, nullptr, only.data(), x.data(), w.data(), y.data(), N, C, V,
                    scratch.data());
    };
    for (auto &v : dx) v -= 0.5f;
    for (auto &v : dw) v -= 0.25f;
    check_fd(x, dx, f, "dinp", 1e-2, 2e-2);
    check_fd(w, dw, f, "dweight", 1e-2, 2e-2);
}

TEST_P(Kernels, FusedHeadMatchesUnfusedPathAndFiniteDifferences) {
    check_head(lm_head_crossentropy_blas, 24);
    check_head(lm_head_crossentropy, 24);
}

// The hand-written AVX-512 head, at widths of one to fourteen 16-wide vectors: one group of
// columns of every tile shape the drivers pick, and two groups (224 = 7 + 7, 144 = 5 + 4).
TEST_P(Kernels, HandWrittenHeadMatchesUnfusedPathAndFiniteDifferences) {
    if (!lm_head_avx512_usable(64)) GTEST_SKIP() << "no AVX-512 on this CPU";
    for (int64_t C : {16, 48, 64, 96, 128, 144, 224}) check_head(lm_head_crossentropy_avx512, C);
}

// The fused heads' results are the same bits at 1, 2 and 3 threads: their chunks are fixed sizes
// and every sum runs in a fixed order.
TEST(FusedHead, BitIdenticalAcrossThreadCounts) {
    const int64_t N = 3 * kHeadRows + 5, C = 32, V = 3 * kHeadBlock + 11;
    auto x = randn(N * C, 51), w = randn(V * C, 52, 0.3f);
    std::vector<int32_t> y(static_cast<size_t>(N));
    Rng r(53);
    for (auto &t : y) t = static_cast<int32_t>(r.below(static_cast<uint64_t>(V)));
    std::vector<float> scratch(lm_head_crossentropy_scratch(C, V));
    for (HeadFn head : {lm_head_crossentropy_blas, lm_head_crossentropy_avx512}) {
        std::vector<std::vector<float>> got;
        std::vector<double> loss;
        for (int threads : {1, 2, 3}) {
            parallel_set_threads(threads);
            std::vector<float> dx(N * C, 0.0f), dw(V * C, 0.0f), losses(N);
            loss.push_back(head(dx.data(), dw.data(), losses.data(), x.data(), w.data(), y.data(),
                                N, C, V, scratch.data()));
            dx.insert(dx.end(), dw.begin(), dw.end());
            dx.insert(dx.end(), losses.begin(), losses.end());
            got.push_back(dx);
        }
        parallel_set_threads(1);
        EXPECT_EQ(loss[0], loss[1]);
        EXPECT_EQ(loss[0], loss[2]);
        EXPECT_TRUE(got[0] == got[1]);
        EXPECT_TRUE(got[0] == got[2]);
    }
}

// Exec::serial runs each forward kernel whole on the calling thread; its results equal the pool's.
TEST_P(Kernels, SerialForwardEqualsPoolForward) {
    const int64_t N = 70, C = 24, OC = 18, V = 9;
    auto x = randn(N * C, 31), w = randn(OC * C, 32), nw = randn(C, 33), u = randn(N * C, 34);
    auto eq = [](const std::vector<float> &a, const std::vector<float> &b, const char *what) {
        ASSERT_EQ(a.size(), b.size());
        for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << what << " index " << i;
    };
    std::vector<float> a(N * OC), b(N * OC);
    matmul_forward(a.data(), x.data(), w.data(), N, C, OC);
    matmul_forward(b.data(), x.data(), w.data(), N, C, OC, Exec::serial);
    eq(a, b, "matmul");
    std::vector<float> na(N * C), nb(N * C), ra(N), rb(N);
    rmsnorm_forward(na.data(), ra.data(), x.data(), nw.data(), N, C, 1e-5f);
    rmsnorm_forward(nb.data(), rb.data(), x.data(), nw.data(), N, C, 1e-5f, Exec::serial);
    eq(na, nb, "rmsnorm");
    eq(ra, rb, "rmsnorm rstd");
    std::fill(nb.begin(), nb.end(), 0.0f);
    rmsnorm_forward(nb.data(), nullptr, x.data(), nw.data(), N, C, 1e-5f, Exec::serial);
    eq(na, nb, "rmsnorm without rstd");
    std::vector<float> sa(N * C), sb = x;
    swiglu_forward(sa.data(), x.data(), u.data(), N, C);
    swiglu_forward(sb.data(), sb.data(), u.data(), N, C, Exec::serial);  // in place, as inference
    eq(sa, sb, "swiglu");
    auto ya = x, yb = x;
    residual_add(ya.data(), u.data(), N * C);
    residual_add(yb.data(), u.data(), N * C, Exec::serial);
    eq(ya, yb, "residual");
    std::vector<int32_t> ids(N);
    for (int64_t i = 0; i < N; ++i) ids[i] = static_cast<int32_t>((i * 7) % V);
    std::vector<float> ea(N * C), eb(N * C);
    embedding_forward(ea.data(), ids.data(), x.data(), N, C);
    embedding_forward(eb.data(), ids.data(), x.data(), N, C, Exec::serial);
    eq(ea, eb, "embedding");
}

TEST_P(Kernels, RopeAtPositionsMatchesNaiveAndRopeForward) {
    const int64_t T = 12, N = 5, H = 3, HD = 8, RD = 6, half = RD / 2;
    std::vector<float> cs(T * half), sn(T * half);
    rope_tables(cs.data(), sn.data(), T, RD, 10000.0f);
    // Positions in any order, repeated, as a cache's continuations have them.
    const std::vector<int64_t> pos = {7, 0, 11, 3, 7};
    auto x = randn(N * H * HD, 35);
    auto y = x;
    rope_forward_at(y.data(), cs.data(), sn.data(), pos.data(), N, H, HD, RD, Exec::serial);
    auto ref = x;
    for (int64_t i = 0; i < N; ++i)
        for (int64_t h = 0; h < H; ++h)
            for (int64_t d = 0; d < half; ++d) {
                double ang = pos[i] * std::pow(10000.0, -2.0 * d / RD);
                size_t j = (i * H + h) * HD;
                double a = x[j + d], c = x[j + d + half];
                ref[j + d] = static_cast<float>(a * std::cos(ang) - c * std::sin(ang));
                ref[j + d + half] = static_cast<float>(c * std::cos(ang) + a * std::sin(ang));
            }
    EXPECT_LT(nerr(y, ref), 1e-5);
    for (int64_t i = 0; i < N * H; ++i)
        for (int64_t d = RD; d < HD; ++d) EXPECT_EQ(y[i * HD + d], x[i * HD + d]);
    // Positions 0..T-1 of each sequence: exactly rope_forward, with either Exec.
    const int64_t B = 2;
    auto z = randn(B * T * H * HD, 36);
    auto want = z, got = z, got_serial = z;
    rope_forward(want.data(), cs.data(), sn.data(), B, T, H, HD, RD);
    std::vector<int64_t> seq(B * T);
    for (int64_t i = 0; i < B * T; ++i) seq[i] = i % T;
    rope_forward_at(got.data(), cs.data(), sn.data(), seq.data(), B * T, H, HD, RD);
    rope_forward_at(got_serial.data(), cs.data(), sn.data(), seq.data(), B * T, H, HD, RD,
                    Exec::serial);
    for (size_t i = 0; i < want.size(); ++i) {
        ASSERT_EQ(got[i], want[i]) << i;
        ASSERT_EQ(got_serial[i], want[i]) << i;
    }
}

// New rows against a cached prefix and their own run, which sits elsewhere in the cache (as a
// continuation's keys do) and has rows before the new ones.
TEST_P(Kernels, CachedAttentionMatchesNaive) {
    const int64_t NH = 4, KV = 2, HD = 8, P = 5, before = 3, M = 4, KVD = KV * HD;
    const int64_t rows = P + 2 + before + M, own_row = P + 2;  // two unrelated rows in between
    auto q = randn(M * NH * HD, 37), kc = randn(rows * KVD, 38), vc = randn(rows * KVD, 39);
    std::vector<float> out(M * NH * HD), scratch(M * (P + before + M), -1.0f), ref(out.size());
    attention_forward_cached(out.data(), scratch.data(), q.data(), kc.data(), vc.data(), P,
                             kc.data() + own_row * KVD, vc.data() + own_row * KVD, before, M, NH,
                             KV, HD);
    for (int64_t j = 0; j < M; ++j)
        for (int64_t h = 0; h < NH; ++h) {
            const int64_t kh = h / (NH / KV);
            std::vector<const float *> keys, vals;
            for (int64_t r = 0; r < P; ++r) {
                keys.push_back(&kc[r * KVD + kh * HD]);
                vals.push_back(&vc[r * KVD + kh * HD]);
            }
            for (int64_t r = own_row; r <= own_row + before + j; ++r) {
                keys.push_back(&kc[r * KVD + kh * HD]);
                vals.push_back(&vc[r * KVD + kh * HD]);
            }
            auto y = naive_attend(&q[(j * NH + h) * HD], keys, vals, HD);
            for (int64_t e = 0; e < HD; ++e) ref[(j * NH + h) * HD + e] = static_cast<float>(y[e]);
        }
    EXPECT_LT(nerr(out, ref), 1e-5);
    // The last head's probabilities: each row sums to 1 over its visible keys, zero after them.
    for (int64_t j = 0; j < M; ++j) {
        const float *row = scratch.data() + j * (P + before + M);
        double sum = 0;
        for (int64_t u = 0; u <= P + before + j; ++u) sum += row[u];
        EXPECT_NEAR(sum, 1.0, 1e-6);
        for (int64_t u = P + before + j + 1; u < P + before + M; ++u) EXPECT_EQ(row[u], 0.0f);
    }
}

// The cached path and the batched kernel on the same rows: with no prefix and no earlier rows
// the same arithmetic, so equal; with the first rows as a cached prefix, equal up to rounding.
TEST_P(Kernels, CachedAttentionEqualsBatchedAttention) {
    const int64_t T = 10, NH = 4, KV = 2, HD = 8, KVD = KV * HD;
    auto q = randn(T * NH * HD, 40), k = randn(T * KVD, 41), v = randn(T * KVD, 42);
    std::vector<float> want(T * NH * HD), att(NH * T * T);
    attention_forward(want.data(), att.data(), q.data(), k.data(), v.data(), 1, T, NH, KV, HD);
    std::vector<float> got(want.size()), scratch(T * T);
    attention_forward_cached(got.data(), scratch.data(), q.data(), k.data(), v.data(), 0, k.data(),
                             v.data(), 0, T, NH, KV, HD);
    for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(got[i], want[i]) << i;
    for (int64_t t = 0; t < T; ++t)  // the last head's probabilities, as the batched kernel's
        for (int64_t u = 0; u < T; ++u)
            ASSERT_EQ(scratch[t * T + u], att[((NH - 1) * T + t) * T + u]) << t << " " << u;
    const int64_t P = 6, M = T - P;
    std::vector<float> tail(M * NH * HD);
    attention_forward_cached(tail.data(), scratch.data(), q.data() + P * NH * HD, k.data(),
                             v.data(), P, k.data() + P * KVD, v.data() + P * KVD, 0, M, NH, KV, HD);
    std::vector<float> want_tail(want.begin() + P * NH * HD, want.end());
    EXPECT_LT(nerr(tail, want_tail), 1e-6);
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
                                                              AttnShape{1, 150, 2, 1, 8})),
                         attention_name);

}  // namespace
}  // namespace em
