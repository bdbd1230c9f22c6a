// Planted truth for the threshold analysis: points drawn from known thresholds (several η, noise
// levels and likelihoods) must cover η with the 95% interval in at least 90% of seeds, points from
// smooth curves must almost never be called emergent, and a task stuck at chance must be called
// never_above_chance.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdio>

#include "analysis/threshold.h"
#include "common/parallel.h"
#include "common/rng.h"
#include "synthetic.h"

namespace em {
namespace {

struct Case {
    bool threshold;  // planted threshold (else smooth rise from above the window)
    double where;    // threshold: share of the window's span below its top; smooth: curvature
    int64_t n;       // examples per point (0: Gaussian noise)
    double sd;
    uint64_t seed;
};

struct Window {
    double lo, hi;
};

Window window_of(const std::vector<testing::SyntheticRun> &runs) {
    Window w{1e9, 0};
    for (const auto &r : runs)
        for (double f : {0.1, 1.0}) {
            double l = testing::synthetic_loss(r.params, f * r.tokens);
            w.lo = std::min(w.lo, l), w.hi = std::max(w.hi, l);
        }
    return w;
}

CurveData planted_data(const Case &c, const std::vector<testing::SyntheticRun> &runs,
                       const Window &w, double &eta) {
    std::vector<Point> pts;
    eta = w.hi - c.where * (w.hi - w.lo);
    double e = eta;
    std::function<double(double)> f;
    if (c.threshold)
        f = [=](double L) { return 0.25 + 0.55 * std::max(0.0, e - L) / (e - w.lo + 0.2); };
    else  // rises from above the window's top, visibly inside it
        f = [=](double L) {
            return 0.25 + 0.5 * std::pow((w.hi + 0.15 - L) / (w.hi - w.lo + 0.15), 0.8 + c.where);
        };
    testing::synthetic_task(pts, runs, 14, "t", "acc", 0.25, f, c.n, c.sd, c.seed);
    CurveData d;
    for (const auto &p : pts)
        if (p.tokens_seen >= 0.1 * p.tokens) {
            d.loss.push_back(p.loss);
            d.value.push_back(p.value);
            d.n.push_back(static_cast<double>(p.n));
        }
    d.baseline = 0.25;
    d.binomial = c.n > 0;
    return d;
}

// Runs every case on the thread pool; returns (covered, emergent) counts.
std::pair<int, int> run_cases(const std::vector<Case> &cases) {
    auto runs = testing::synthetic_runs(4, 3);
    Window w = window_of(runs);
    std::atomic<int> covered{0}, emergent{0};
    parallel_set_threads(parallel_default_threads());
    parallel_for(static_cast<int64_t>(cases.size()), [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
            const Case &c = cases[static_cast<size_t>(i)];
            double eta;
            CurveData d = planted_data(c, runs, w, eta);
            ThresholdOptions o;
            o.seed = c.seed * 31 + 7;
            ThresholdResult r = threshold_analyze(d, o);
            if (eta >= r.eta_ci_low && eta <= r.eta_ci_high) ++covered;
            if (r.verdict == "emergent") ++emergent;
        }
    });
    return {covered.load(), emergent.load()};
}

// Three shapes (threshold positions, or smooth curvatures) x two example counts x seeds, plus
// Gaussian-noise cases at the middle shape.
std::vector<Case> cases_make(bool threshold, const std::vector<double> &shapes, int seeds,
                             uint64_t base) {
    std::vector<Case> cases;
    for (double shape : shapes)
        for (int64_t n : {300, 1000})
            for (int s = 0; s < seeds; ++s)
                cases.push_back({threshold, shape, n, 0,
                                 base + 1000 * s + static_cast<uint64_t>(n + 100 * shape)});
    for (int s = 0; s < seeds; ++s)
        cases.push_back({threshold, shapes[1], 0, 0.03, base + 77 * s + 5});
    return cases;
}

std::vector<Case> threshold_cases(int seeds, uint64_t base) {
    return cases_make(true, {0.4, 0.55, 0.7}, seeds, base);
}

std::vector<Case> smooth_cases(int seeds, uint64_t base) {
    return cases_make(false, {0.0, 0.4, 0.8}, seeds, base);
}

TEST(Threshold, PlantedEtaInsideIntervalInNinetyPercentOfSeeds) {
    auto cases = threshold_cases(4, 11);
    auto [covered, emergent] = run_cases(cases);
    int n = static_cast<int>(cases.size());
    std::printf("planted thresholds: eta covered in %d of %d, called emergent in %d\n", covered, n,
                emergent);
    EXPECT_GE(covered, static_cast<int>(std::ceil(0.9 * n))) << covered << " of " << n;
    // A real stretch at chance lies above every planted η here: they should mostly be found.
    EXPECT_GE(emergent, static_cast<int>(0.8 * n)) << emergent << " of " << n;
}

TEST(Threshold, SmoothCurvesAreNotCalledEmergent) {
    auto cases = smooth_cases(4, 23);
    auto [covered, emergent] = run_cases(cases);
    (void)covered;
    int n = static_cast<int>(cases.size());
    std::printf("smooth curves: called emergent in %d of %d\n", emergent, n);
    EXPECT_LE(emergent, static_cast<int>(std::floor(0.05 * n))) << emergent << " of " << n;
}

TEST(Threshold, FlatAtChanceIsNeverAboveChance) {
    auto runs = testing::synthetic_runs(3, 3);
    int never = 0;
    for (uint64_t seed = 1; seed <= 5; ++seed) {
        std::vector<Point> pts;
        testing::synthetic_task(
            pts, runs, 12, "t", "acc", 0.25, [](double) { return 0.25; }, 500, 0, seed);
        CurveData d;
        for (const auto &p : pts)
            d.loss.push_back(p.loss), d.value.push_back(p.value), d.n.push_back(500);
        d.baseline = 0.25;
        d.binomial = true;
        ThresholdOptions o;
        o.bootstrap = 50;
        ThresholdResult r = threshold_analyze(d, o);
        never += r.verdict == "never_above_chance";
        EXPECT_NE(r.verdict, "emergent");
    }
    EXPECT_GE(never, 4);
}

TEST(Threshold, LowerIsBetterMetricsUseTheRightDirection) {
    // A Brier-like score: 0.75 at chance, falling below an onset.
    auto runs = testing::synthetic_runs(4, 3);
    Window w = window_of(runs);
    double eta = w.hi - 0.5 * (w.hi - w.lo);
    std::vector<Point> pts;
    testing::synthetic_task(
        pts, runs, 14, "t", "brier_score", 0.75,
        [&](double L) { return 0.75 - 0.4 * std::max(0.0, eta - L) / (eta - w.lo); }, 0, 0.01, 3);
    CurveData d;
    for (const auto &p : pts)
        if (p.tokens_seen >= 0.1 * p.tokens)
            d.loss.push_back(p.loss), d.value.push_back(p.value), d.n.push_back(0);
    d.baseline = 0.75;
    d.sign = -1;
    ThresholdOptions o;
    o.bootstrap = 100;
    ThresholdResult r = threshold_analyze(d, o);
    EXPECT_EQ(r.verdict, "emergent");
    EXPECT_NEAR(r.eta, eta, 0.1);
    EXPECT_LT(r.threshold.params.eval(w.lo), 0.5);  // the fitted curve falls
}

// When every run carries its own offset (its checkpoints' errors are correlated), resampling whole
// runs gives η a wider interval than resampling checkpoints, which treats them as independent.
TEST(Threshold, BootstrapByRunsWidensTheIntervalForCorrelatedRuns) {
    auto runs = testing::synthetic_runs(4, 3);
    Window w = window_of(runs);
    const double eta = w.hi - 0.5 * (w.hi - w.lo);
    Rng rng(9);
    CurveData d;
    d.baseline = 0.25;
    for (size_t r = 0; r < runs.size(); ++r) {
        const double offset = 0.04 * rng.normal();
        for (int c = 1; c <= 14; ++c) {
            double L =
                testing::synthetic_loss(runs[r].params, runs[r].tokens * (0.1 + 0.9 * c / 14));
            double up = std::max(0.0, eta - L) / (eta - w.lo);
            d.loss.push_back(L);
            d.value.push_back(0.25 + 0.5 * up + (up > 0 ? offset : 0.0) + 0.005 * rng.normal());
            d.n.push_back(0);
            d.run.push_back(static_cast<int32_t>(r));
        }
    }
    ThresholdOptions o;
    o.bootstrap = 200;
    ThresholdResult by_point = threshold_analyze(d, o);
    o.bootstrap_runs = true;
    ThresholdResult by_run = threshold_analyze(d, o);
    const double wp = by_point.eta_ci_high - by_point.eta_ci_low,
                 wr = by_run.eta_ci_high - by_run.eta_ci_low;
    std::printf("eta interval width: %.4f resampling checkpoints, %.4f resampling runs\n", wp, wr);
    EXPECT_GT(wr, wp);
    EXPECT_LE(by_run.eta_ci_low, eta);
    EXPECT_GE(by_run.eta_ci_high, eta);
    EXPECT_EQ(by_point.bootstrap_unit, "checkpoint");
    EXPECT_EQ(by_run.bootstrap_unit, "run");

    // With fewer runs than kMinBootstrapRuns in the window, whole runs would make degenerate
    // replicates: the bootstrap resamples checkpoints and says so.
    CurveData few = d;
    few.loss.clear(), few.value.clear(), few.n.clear(), few.run.clear();
    for (size_t i = 0; i < d.loss.size(); ++i)
        if (d.run[i] < static_cast<int32_t>(kMinBootstrapRuns) - 1) {
            few.loss.push_back(d.loss[i]), few.value.push_back(d.value[i]);
            few.n.push_back(d.n[i]), few.run.push_back(d.run[i]);
        }
    ThresholdResult by_few = threshold_analyze(few, o);
    EXPECT_EQ(by_few.bootstrap_unit, "checkpoint");
    EXPECT_GT(by_few.eta_ci_high, by_few.eta_ci_low);
}

TEST(Curve, RecoversPlantedParametersWithoutNoise) {
    CurveData d;
    for (int i = 0; i < 200; ++i) {
        double L = 2.5 + 2.5 * i / 199.0;
        d.loss.push_back(L);
        d.value.push_back(0.25 + 0.3 * std::pow(std::max(0.0, 3.7 - L), 1.5));
        d.n.push_back(0);
    }
    d.baseline = 0.25;
    CurveGroups g = curve_groups_build(d.loss, 2.5 / 400);
    CurveFit f = curve_fit(curve_stats(d, g, {}, {}), 2.5, 6.0);
    EXPECT_NEAR(f.params.onset, 3.7, 0.01);
    EXPECT_NEAR(f.params.exponent, 1.5, 0.05);
    EXPECT_NEAR(f.params.amplitude, 0.3, 0.01);
    // Free plateau (a metric without a chance value) finds the level itself.
    d.plateau_free = true;
    for (auto &v : d.value) v += 0.1;
    CurveFit h = curve_fit(curve_stats(d, g, {}, {}), 2.5, 6.0);
    EXPECT_NEAR(h.params.plateau, 0.35, 0.005);
    EXPECT_NEAR(h.params.onset, 3.7, 0.02);
    // Binomial with a free plateau (exact match: no chance level), exact expected counts.
    d.binomial = true;
    for (size_t i = 0; i < d.value.size(); ++i) {
        d.value[i] = 0.02 + 0.3 * std::pow(std::max(0.0, 3.7 - d.loss[i]), 1.5);
        d.n[i] = 1000;
    }
    CurveFit b = curve_fit(curve_stats(d, g, {}, {}), 2.5, 6.0);
    EXPECT_NEAR(b.params.plateau, 0.02, 0.001);
    EXPECT_NEAR(b.params.onset, 3.7, 0.02);
    EXPECT_NEAR(b.params.exponent, 1.5, 0.1);
    EXPECT_NEAR(b.params.amplitude, 0.3, 0.02);
}

TEST(Curve, BinomialSamplerHasTheRightMoments) {
    Rng rng(5);
    for (auto [n, p] : {std::pair<int64_t, double>{50, 0.1}, {2000, 0.3}, {400, 0.9}}) {
        double s = 0, s2 = 0;
        int reps = 20000;
        for (int i = 0; i < reps; ++i) {
            double x = static_cast<double>(binomial_sample(rng, n, p));
            s += x, s2 += x * x;
        }
        double mean = s / reps, var = s2 / reps - mean * mean;
        EXPECT_NEAR(mean, n * p, 0.02 * n * p + 0.1);
        EXPECT_NEAR(var, n * p * (1 - p), 0.08 * n * p * (1 - p));
    }
}

// Many more seeds: the same two properties with a tighter estimate of the rates.
TEST(ThresholdLong, CoverageAndFalseEmergenceOverManySeeds) {
    if (!testing::long_tests_enabled()) GTEST_SKIP() << "long check: ctest -L long";
    auto tc = threshold_cases(25, 1001);
    auto [covered, e1] = run_cases(tc);
    (void)e1;
    EXPECT_GE(covered, static_cast<int>(std::ceil(0.9 * tc.size())));
    std::printf("covered %d of %zu\n", covered, tc.size());
    auto sc = smooth_cases(25, 2002);
    auto [c2, emergent] = run_cases(sc);
    (void)c2;
    EXPECT_LE(emergent, static_cast<int>(std::floor(0.05 * sc.size())));
    std::printf("smooth called emergent %d of %zu\n", emergent, sc.size());
}

}  // namespace
}  // namespace em
