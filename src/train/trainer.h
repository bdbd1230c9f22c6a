// The training loop: one run from its config, with validation on fixed held-out windows,
// a metrics log, checkpoints and exact resumption.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"
#include "train/config.h"

namespace em {

struct TrainProgress {
    int64_t step = 0, total_steps = 0, tokens_seen = 0;
    double train_loss = 0, val_loss = -1, lr = 0, grad_norm = 0, tokens_per_s = 0, elapsed_s = 0;
    bool checkpoint = false;  // this step's checkpoint is on disk
};

struct TrainOptions {
    bool resume =
        false;  // continue from the run's latest checkpoint (fresh start when it has none)
    // Called after every step (on rank 0 only); the default prints a line every log_every steps
    // to stderr.
    std::function<void(const TrainProgress &)> on_step;
    // With several processes: exchange each layer's gradient while the backward pass goes on
    // (false: one exchange after it; the same numbers, for measuring the overlap).
    bool overlap = true;
};

// Runs (or resumes) the run described by cfg in cfg.out_dir. Returns an error for bad input,
// an existing run without resume, or a non-finite loss or gradient (the last good checkpoint
// stays in place). Under MPI (dist_init) every rank calls it with the same config: the step's
// micro-batches are shared out, the weights stay identical to one process's, and rank 0 alone
// writes; an error on any rank is returned on all of them (docs/parallel.md).
Status train_run(const TrainConfig &cfg, const TrainOptions &opts);

// Mean loss of the model on the first `windows` windows of the validation stream (fixed for a
// given set of shards and sequence length), in batches of B. Collective under MPI: the batches
// are shared out, the result is the same on every rank and equal to one process's.
class Model;
class WindowLoader;
double validation_loss(Model &model, WindowLoader &val, int64_t windows, int64_t B, int64_t T);

}  // namespace em
