// Learning-rate schedules: warmup, cosine to min_lr at the last update, and warmup-stable-decay
// with its linear and 1 - sqrt cool-downs starting where schedule_decay_start says.
#include <gtest/gtest.h>

#include <cmath>

#include "optim/schedule.h"

namespace em {
namespace {

Schedule make(const std::string &kind, const std::string &shape = "linear") {
    Schedule s;
    s.kind = kind;
    s.max_lr = 1.0;
    s.min_lr = 0.1;
    s.warmup_steps = 10;
    s.total_steps = 100;
    s.decay_fraction = 0.2;
    s.decay_shape = shape;
    return s;
}

TEST(Schedule, WarmupThenCosineToTheMinimumAtTheLastUpdate) {
    const Schedule s = make("cosine");
    EXPECT_DOUBLE_EQ(schedule_lr(s, 0), 0.1);
    EXPECT_DOUBLE_EQ(schedule_lr(s, 9), 1.0);
    EXPECT_DOUBLE_EQ(schedule_lr(s, 10), 1.0);
    EXPECT_NEAR(schedule_lr(s, 10 + 89 / 2.0), 0.55, 0.02);
    EXPECT_DOUBLE_EQ(schedule_lr(s, 99), 0.1);
}

TEST(Schedule, WarmupStableDecayLinearAndSqrt) {
    for (const char *shape : {"linear", "sqrt"}) {
        const Schedule s = make("wsd", shape);
        EXPECT_TRUE(schedule_validate(s).is_ok());
        EXPECT_EQ(schedule_decay_start(s), 80);
        EXPECT_DOUBLE_EQ(schedule_lr(s, 50), 1.0) << shape;
        EXPECT_DOUBLE_EQ(schedule_lr(s, 79), 1.0) << shape;
        EXPECT_DOUBLE_EQ(schedule_lr(s, 80), 1.0) << "the decay's first update is at max_lr";
        EXPECT_DOUBLE_EQ(schedule_lr(s, 99), 0.1) << shape;
        // Progress 0.5 of the decay: linear halfway, 1 - sqrt further down.
        const double half = 80 + 19 / 2.0;
        const double want =
            std::string(shape) == "linear" ? 1.0 - 0.9 * 0.5 : 1.0 - 0.9 * std::sqrt(0.5);
        EXPECT_NEAR(schedule_lr(s, static_cast<int64_t>(half)), want, 0.05) << shape;
    }
    Schedule bad = make("wsd", "cosine");
    EXPECT_FALSE(schedule_validate(bad).is_ok());
    EXPECT_NE(schedule_validate(bad).message().find("use linear or sqrt"), std::string::npos);
}

}  // namespace
}  // namespace em
