// The schedule test of the loss thesis: runs trained on two learning-rate schedules that fall on
// one curve against loss must not show a schedule effect at matched loss, and runs that sit off
// it by a schedule offset must. Each run carries its own offset (seed luck), so the test has to
// permute whole runs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "analysis/collapse.h"
#include "common/rng.h"

namespace em {
namespace {

CollapseInput planted(double schedule_offset, uint64_t seed) {
    Rng rng(seed);
    CollapseInput in;
    in.sign = 1;
    int32_t run = 0;
    for (int size = 0; size < 4; ++size)
        for (int budget = 0; budget < 3; ++budget)
            for (int schedule = 0; schedule < 2; ++schedule) {
                const double run_offset = 0.01 * rng.normal();
                const double end = 2.2 + 0.3 * (3 - size) * 0.5 + 0.1 * (2 - budget);
                for (int c = 0; c < 12; ++c) {
                    double L = end + (3.6 - end) * (11 - c) / 11.0;
                    double v = 0.25 + 0.5 / (1 + std::exp(6 * (L - 2.8)));
                    v += run_offset + schedule * schedule_offset + 0.01 * rng.normal();
                    in.loss.push_back(L);
                    in.value.push_back(v);
                    in.params.push_back(1e5 * (1 << size));
                    in.tokens.push_back(2e6 * (1 << budget));
                    in.tokens_seen.push_back(2e6 * (1 << budget) * (c + 1) / 12.0);
                    in.run.push_back(run);
                    in.schedule.push_back(schedule);
                }
                ++run;
            }
    return in;
}

TEST(Schedule, RunsOnOneCurveShowNoScheduleEffectAndOffsetRunsDo) {
    CollapseOptions o;
    int false_calls = 0, found = 0;
    const int seeds = 10;
    for (int s = 0; s < seeds; ++s) {
        o.seed = 100 + static_cast<uint64_t>(s);
        CollapseResult same = collapse_analyze(planted(0.0, 1 + s), o);
        CollapseResult off = collapse_analyze(planted(0.04, 1 + s), o);
        const PermutationTest &a = same.axes[0].schedule_test, &b = off.axes[0].schedule_test;
        EXPECT_EQ(a.unit, "run");
        false_calls += a.p < 0.05;
        found += b.p < 0.01;
    }
    std::printf(
        "schedule effect at matched loss: p < 0.05 on one curve in %d of %d seeds, "
        "p < 0.01 with an offset of 0.04 in %d of %d\n",
        false_calls, seeds, found, seeds);
    EXPECT_LE(false_calls, 2);
    EXPECT_GE(found, 9);
}

TEST(Schedule, OneScheduleIsNotTested) {
    CollapseInput in = planted(0.0, 3);
    for (double &s : in.schedule) s = 0;
    CollapseResult r = collapse_analyze(in, CollapseOptions{});
    EXPECT_TRUE(std::isnan(r.axes[0].schedule_test.p));
    EXPECT_EQ(r.axes[0].schedule_test.bins, 0);
}

}  // namespace
}  // namespace em
