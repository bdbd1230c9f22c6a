// Which runs of the grid one runner takes on (--runs, --shard): the runs picked by name, dealt out
// to machines by their planned work.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "study/config.h"

namespace em {

// Which runs of the grid one runner takes on: the runs whose names match any of `patterns` (shell
// globs such as "n1600k-*"; none: every run), then, when `count` > 1, shard `index` of `count`
// (1-based): the runs dealt out to `count` machines so that their planned work (training FLOPs
// plus evaluation FLOPs) is as even as possible. The deal depends on the config and the task files
// only, so every machine computes the same one.
struct StudySelection {
    std::vector<std::string> patterns;
    int64_t index = 1, count = 1;
    bool all() const { return patterns.empty() && count <= 1; }
};

// A run's planned work in FLOPs: training, plus evaluating each checkpoint (`eval_tokens` read by
// a scorer that runs at about half the batched forward rate, so counted at twice forward FLOPs).
double study_run_work(const StudyRun &r, double eval_tokens);

// Parses `--runs` (comma-separated globs; empty: none) and `--shard` ("K/N"; empty: 1/1).
Result<StudySelection> study_selection_parse(const std::string &runs, const std::string &shard);

// The runs `sel` picks, in plan order; `eval_tokens` is read per checkpoint evaluation (it weighs
// evaluation in the deal). A pattern that matches no run is an error naming the runs there are.
Result<std::vector<StudyRun>> study_select(const std::vector<StudyRun> &runs,
                                           const StudySelection &sel, double eval_tokens);

}  // namespace em
