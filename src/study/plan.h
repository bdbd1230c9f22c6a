// Pricing a study: throughput measured on this machine per model size, the time each run's
// training and evaluations will take, and `study plan`'s table of runs and stages.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "study/config.h"
#include "study/select.h"
#include "train/config.h"

namespace em {

struct Throughput {
    double train_tps = 0, forward_tps = 0;  // tokens/s
};

// Tokens/s of training steps and of forward passes for one model shape, measured on random
// tokens with the study's batch and the pool's threads (one warm-up step, then the median of
// three).
Throughput plan_measure_throughput(const TrainConfig &t);

// Seconds to train a run, and to evaluate one of its checkpoints (`eval_tokens` read by the
// scorer, whose single sequences with a KV cache run at about half the batched forward
// throughput), from the throughput measured for its size.
double plan_train_seconds(const StudyRun &r, const Throughput &th);
double plan_eval_seconds(double eval_tokens, const Throughput &th);

// The plan: runs, parameters, tokens, FLOPs, and the time each stage will take on this machine
// from throughput measured now (a few training and forward steps per model size). Returns text.
// With a selection, only its runs are listed and priced. When other work keeps the cores busy
// the text ends with plan_busy_note's warning.
Result<std::string> study_plan(const StudyConfig &cfg, const std::string &dir,
                               const StudySelection &sel = {});

// The warning `study plan` prints when the machine is busy: the 1-minute load average `load`,
// taken before measuring, exceeds what `cores` leave beside the plan's `threads` by more than half
// a core, so the throughput measured reads low. Empty on a quiet machine.
std::string plan_busy_note(double load, int cores, int threads);

// Tokens read to evaluate one checkpoint: from the task files when they exist, else (the built-in
// suite, not yet built) from the suite's measured mean document size.
int64_t study_eval_tokens_estimate(const StudyConfig &cfg, const std::string &dir);

}  // namespace em
