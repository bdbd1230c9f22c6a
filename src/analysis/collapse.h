// The collapse test: one monotone curve of performance against an axis (loss, log compute, log
// parameters, log tokens seen) fitted to all runs at once; how much variance it leaves, how its
// residuals split by model size and by token budget, and permutation tests for a size (or budget)
// effect at a matched axis value. The paper's claim is that loss collapses the runs and compute
// does not; tokens seen is the rival for skills learned by exposure (a fact is recalled once seen
// often enough).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analysis/stats.h"

namespace em {

struct CollapseInput {
    std::vector<double> loss, value, params, tokens, tokens_seen;  // per point
    std::vector<int32_t> run;  // per point, 0-based run ids (empty: runs unknown)
    // Per point, the learning-rate schedule of its run (0 cosine, 1 warmup-stable-decay, ...);
    // empty, or a single value throughout, when the runs share one schedule.
    std::vector<double> schedule;
    double sign = 1;  // +1 when higher values are better
};

struct GroupResidual {
    double key = 0;  // params or tokens of the group
    int64_t n = 0;
    double mean = 0;  // mean residual (observed - fitted), in the metric's units
};

struct PermutationTest {
    double stat = 0;    // between-group sum of squares of residuals within axis bins
    double effect = 0;  // stat / within-bin residual sum of squares
    double p = 1;       // (1 + #{permuted >= observed}) / (1 + permutations)
    int64_t bins = 0;   // bins that held at least two groups
    // What was permuted: "run" (the groups' labels over whole runs, so a run's correlated
    // checkpoints move together) when some group has at least two runs, else "checkpoint".
    std::string unit = "checkpoint";
};

struct CollapseAxis {
    std::string axis;  // "loss", "log_compute" (6 N D_seen), "log_params" or "log_tokens" (D_seen)
    double r2 = 0;     // 1 - RSS / TSS of the monotone fit
    double residual_var = 0;
    std::vector<GroupResidual> by_size, by_budget;
    double size_share = 0, budget_share = 0;  // share of residual SS between sizes / budgets
    PermutationTest size_test, budget_test;   // not run on the params axis (one size per bin)
    // The same test with the schedule as the group: do runs trained on another schedule sit off
    // the curve at matched loss? p NaN (bins 0) when the runs share one schedule.
    PermutationTest schedule_test;
    IsotonicFit fit;
    std::vector<double> x;  // the axis value of each point
};

struct CollapseOptions {
    int64_t permutations = 499;
    int64_t bins = 20;
    uint64_t seed = 1;
};

struct CollapseResult {
    std::vector<CollapseAxis> axes;  // loss, log_compute, log_params, log_tokens
    std::string best_axis;           // highest R^2
};

CollapseResult collapse_analyze(const CollapseInput &in, const CollapseOptions &opt);

}  // namespace em
