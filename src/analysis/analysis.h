// The loss-perspective analysis of a points table: per task metric, correlations with loss, the
// collapse test, the threshold model and verdict, the extrapolation check; per task, whether the
// continuous metrics agree with the discontinuous one; the scaling law and the model size each
// emergent threshold needs. The result (result.h) is what analysis.json holds; formulas:
// docs/analysis.md.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "analysis/collapse.h"
#include "analysis/extrapolate.h"
#include "analysis/points.h"
#include "analysis/result.h"
#include "analysis/scaling_law.h"
#include "analysis/threshold.h"
#include "common/status.h"

namespace em {

struct AnalysisOptions {
    // The window: checkpoints with tokens_seen >= window_frac * tokens and loss in [loss_min,
    // loss_max].
    double window_frac = 0.1;
    double loss_min = -std::numeric_limits<double>::infinity();
    double loss_max = std::numeric_limits<double>::infinity();
    std::string task_filter;  // ECMAScript regex on task names; empty = all
    ThresholdOptions threshold;
    CollapseOptions collapse;
    ExtrapolationOptions extrapolation;
    ScalingLawOptions law;
    bool law_all_points = false;   // fit the law on every window checkpoint instead of final losses
    double target_tokens = 0;      // D for turning η into a model size; 0 = the largest run budget
    double tokens_per_param = 20;  // also report the size at D = ratio * N
    uint64_t seed = 1;
    bool parallel = true;  // analyse task metrics on the thread pool
};

// Runs the whole analysis. Fails (one line, with the fix) when no point falls in the window or a
// filter is malformed.
Result<AnalysisResult> analysis_run(const std::vector<Point> &points, const AnalysisOptions &opt);

// Reads points, analyses them and writes `out_dir`/analysis.json (analysis_to_json) atomically.
Status analysis_write(const std::string &points_path, const std::string &out_dir,
                      const AnalysisOptions &opt);

// Reads an analysis.json written by analysis_write. Fails with one line naming the file, the key
// and the fix when it is not one, its version is not kAnalysisVersion or a key is missing or
// mistyped.
Result<AnalysisResult> analysis_read(const std::string &path);

// A text table of the verdicts, thresholds, correlations and collapse R² per task metric, and the
// scaling law: what `emergence analyze` prints.
std::string analysis_summary_format(const AnalysisResult &analysis);

}  // namespace em
