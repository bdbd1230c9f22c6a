// Learning-rate schedules over a run's own length: linear warmup, then cosine decay reaching
// min_lr exactly at the last step (the paper's per-budget schedule), constant, or
// warmup-stable-decay (flat, then a decay over the final decay_fraction of steps, linear or
// 1 - sqrt, to min_lr at the last step).
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace em {

struct Schedule {
    std::string kind = "cosine";  // cosine | constant | wsd
    double max_lr = 1e-3;
    double min_lr = 1e-4;
    int64_t warmup_steps = 0;
    int64_t total_steps = 1;
    double decay_fraction = 0.2;         // wsd only
    std::string decay_shape = "linear";  // wsd: linear, or sqrt (1 - sqrt, Hägele et al. 2024)
};

Status schedule_validate(const Schedule &s);
// The rate for update number `step` (0-based); at step total_steps - 1 cosine and wsd give min_lr.
double schedule_lr(const Schedule &s, int64_t step);
// wsd: the first update of the decay (0-based), so updates before it run at max_lr once warm.
int64_t schedule_decay_start(const Schedule &s);

}  // namespace em
