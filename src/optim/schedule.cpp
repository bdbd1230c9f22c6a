// Learning-rate schedules; see schedule.h.
#include "optim/schedule.h"

#include <cmath>

namespace em {

Status schedule_validate(const Schedule &s) {
    if (s.kind != "cosine" && s.kind != "constant" && s.kind != "wsd")
        return Status::error("train.schedule '" + s.kind +
                             "' is unknown (use cosine, constant or wsd)");
    if (!(s.max_lr > 0)) return Status::error("train.lr must be positive");
    if (s.min_lr < 0 || s.min_lr > s.max_lr)
        return Status::error("train.min_lr_ratio must lie in [0, 1]");
    if (s.total_steps < 1) return Status::error("the run has no steps (raise train.tokens)");
    if (s.warmup_steps < 0 || s.warmup_steps >= s.total_steps)
        return Status::error("warmup (" + std::to_string(s.warmup_steps) +
                             " steps) must be shorter than the run (" +
                             std::to_string(s.total_steps) + " steps)");
    if (s.kind == "wsd" && !(s.decay_fraction > 0 && s.decay_fraction <= 1))
        return Status::error("train.decay_fraction must lie in (0, 1]");
    if (s.decay_shape != "linear" && s.decay_shape != "sqrt")
        return Status::error("train.decay_shape '" + s.decay_shape +
                             "' is unknown (use linear or sqrt)");
    return Status::ok();
}

double schedule_lr(const Schedule &s, int64_t step) {
    if (step < s.warmup_steps)
        return s.max_lr * static_cast<double>(step + 1) / static_cast<double>(s.warmup_steps);
    if (s.kind == "constant") return s.max_lr;
    const int64_t last = s.total_steps - 1;
    if (s.kind == "cosine") {
        int64_t span = last - s.warmup_steps;
        double progress =
            span > 0 ? static_cast<double>(step - s.warmup_steps) / static_cast<double>(span) : 1.0;
        progress = std::min(1.0, progress);
        return s.min_lr + 0.5 * (s.max_lr - s.min_lr) * (1.0 + std::cos(M_PI * progress));
    }
    // wsd
    const int64_t decay_start = schedule_decay_start(s);
    if (step < decay_start) return s.max_lr;
    int64_t span = last - decay_start;
    double progress =
        span > 0 ? static_cast<double>(step - decay_start) / static_cast<double>(span) : 1.0;
    progress = std::min(1.0, progress);
    if (s.decay_shape == "sqrt") progress = std::sqrt(progress);
    return s.max_lr + (s.min_lr - s.max_lr) * progress;
}

int64_t schedule_decay_start(const Schedule &s) {
    const int64_t decay_steps = std::max<int64_t>(
        1,
        static_cast<int64_t>(std::llround(s.decay_fraction * static_cast<double>(s.total_steps))));
    return std::max(s.warmup_steps, s.total_steps - decay_steps);
}

}  // namespace em
