// The analysis result as types: what analysis_run computes, what analysis.json holds (this file is
// its schema; docs/analysis.md explains the fields) and what the report and predict read.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analysis/collapse.h"
#include "analysis/curve.h"
#include "analysis/points.h"
#include "analysis/scaling_law.h"
#include "analysis/threshold.h"
#include "common/status.h"

namespace em {

// analysis.json carries "format": "emergence-analysis" and this version; a reader refuses others.
constexpr const char *kAnalysisFormat = "emergence-analysis";
constexpr int64_t kAnalysisVersion = 4;

// Numbers that are undefined (a test with too few points) are NaN here and null in the file.
constexpr double kUndefined = std::numeric_limits<double>::quiet_NaN();

// The checkpoints the analysis looks at. The analysis and the report both select with contains().
struct AnalysisWindow {
    double tokens_frac = 0.1;  // tokens_seen >= tokens_frac * the run's tokens
    double loss_min = -std::numeric_limits<double>::infinity();
    double loss_max = std::numeric_limits<double>::infinity();
    int64_t checkpoints_total = 0;                      // one per (run, step) in the points table
    int64_t checkpoints_in_window = 0;                  // of those, the ones contains() keeps
    double loss_lo = kUndefined, loss_hi = kUndefined;  // loss range of those checkpoints

    bool contains(const Point &p) const {
        return p.tokens_seen >= tokens_frac * p.tokens && p.loss >= loss_min && p.loss <= loss_max;
    }
};

// The settings the numbers were made with.
struct AnalysisSettings {
    int64_t bootstrap = 0;
    std::string bootstrap_unit;  // "checkpoint" or "run"
    double alpha = 0, plateau_alpha = 0, plateau_min_effect = 0;
    double min_span_frac = 0, min_points_frac = 0;
    int64_t min_stretch_points = 0, min_points = 0;
    double onset_extension = 0;
    int64_t permutations = 0, collapse_bins = 0;
    double extrapolation_fit_frac = 0;
    uint64_t seed = 0;
    std::string task_filter;
};

struct AnalysisSummary {
    int64_t series = 0;
    std::map<std::string, int64_t> verdicts;  // verdict -> series with it
    std::vector<std::string> emergent;        // "task/metric" of each emergent series
};

// One training run and its last checkpoint.
struct RunSummary {
    std::string run;
    double params = 0, tokens = 0;
    int64_t checkpoints = 0, in_window = 0;
    int64_t final_step = 0;
    double final_tokens_seen = 0, final_loss = 0;
};

// One of the three curve models of a series (threshold, smooth, flat).
struct ModelFit {
    CurveParams params;
    double loglik = kUndefined;
    int64_t k = 0;
    double aic = kUndefined, bic = kUndefined, sigma = kUndefined;
};

// The curve to draw or predict with: undefined parameters take neutral values (no rise).
CurveParams curve_usable(const CurveParams &p);

struct EtaEstimate {
    double estimate = kUndefined, ci_low = kUndefined, ci_high = kUndefined;
    int64_t bootstrap = 0;       // resamples that refitted
    std::string bootstrap_unit;  // what they resampled: "checkpoint" or "run"
};

// η where the verdict found a threshold (emergent, or inconclusive with enough points).
struct ThresholdLoss {
    double loss = kUndefined, ci_low = kUndefined, ci_high = kUndefined;
};

struct LrTest {
    double lr = kUndefined;
    int64_t df = 0;
    double p = kUndefined;
};

struct PlateauTest {
    std::string test;  // "mean_vs_baseline" or "slope"
    int64_t points = 0;
    double excess = kUndefined, effect = kUndefined, stat = kUndefined, p = kUndefined;
};

struct SeriesTests {
    double dispersion = kUndefined;
    LrTest threshold_vs_smooth, rise;
    PlateauTest plateau;
    double gain_at_window_bottom = kUndefined;
};

// The isotonic curve against loss, reduced to the ends of its flat steps.
struct StepCurve {
    std::vector<double> x, value;
};

struct CollapseAxisResult {
    std::string axis;  // "loss", "log_compute", "log_params" or "log_tokens"
    double r2 = kUndefined, residual_var = kUndefined;
    double size_share = kUndefined, budget_share = kUndefined;
    PermutationTest size_test, budget_test;
    PermutationTest schedule_test;                  // p null when the runs share one schedule
    std::vector<GroupResidual> by_size, by_budget;  // key: params, tokens
    std::optional<StepCurve> curve;                 // the loss axis only
};

struct SeriesCollapse {
    std::string best_axis;
    std::vector<CollapseAxisResult> axes;
};

// The fitted gain over the plateau at the window's lowest loss, with its bootstrap interval, and
// as a share of the distance from the plateau to the metric's perfect value (undefined without
// one).
struct Gain {
    double estimate = kUndefined, ci_low = kUndefined, ci_high = kUndefined;
    double share = kUndefined;
    double in_window = kUndefined;  // the fitted change from the window's top to its bottom
};

// η per model size and the test of one η shared by the sizes that reach below it.
struct SizeThresholds {
    std::vector<SizeEta> per_size;
    double lr = kUndefined, p = kUndefined;
    int64_t df = 0;
    double dispersion = kUndefined;  // φ of the test: the larger of the points' and the runs'
    // "common", "size_dependent", "one_size" (threshold.h); empty when not assessed.
    std::string qualifier;
    // η's trend with log2 size: slope (nats per doubling) with its 95% interval, and the 1-df
    // test of it against one shared η (threshold.h); undefined with fewer than three sizes.
    double trend_slope = kUndefined, trend_ci_low = kUndefined, trend_ci_high = kUndefined;
    double trend_lr = kUndefined, trend_p = kUndefined;
};

// At matched loss (residuals from the loss axis's monotone fit, per run): the spread between
// replicate seeds of one (size, budget) beside the spread between sizes.
struct SeedSpread {
    int64_t replicate_groups = 0;  // (size, budget) pairs with two or more runs
    double seed_sd = kUndefined;   // pooled SD of run residuals within those pairs
    double size_sd = kUndefined;   // SD of the sizes' mean run residuals
    double size_p = kUndefined;    // the loss axis's size-effect permutation test (run unit)
};

// The extrapolation check; the fields after points_held_out are set only when `done`.
struct SeriesExtrapolation {
    bool done = false;
    double fit_frac = 0;
    int64_t points_fit = 0, points_held_out = 0;
    double split_loss = kUndefined;
    CurveParams model;
    double rmse = kUndefined, mae = kUndefined, mean_error = kUndefined;
    double frac_above_interval = kUndefined, frac_below_interval = kUndefined;
    double p_above = kUndefined;
    bool exceeds_interval = false;
};

// The analysis of one (task, metric) in the window.
struct SeriesResult {
    std::string task, metric;
    int64_t n_points = 0, n_runs = 0;
    double baseline = kUndefined;  // undefined: the metric has none
    bool higher_is_better = true, continuous = false;
    std::string likelihood;                             // "binomial" or "gaussian"
    double loss_lo = kUndefined, loss_hi = kUndefined;  // "loss_range"
    double spearman = kUndefined, spearman_p = kUndefined;
    double pearson = kUndefined, pearson_p = kUndefined;
    std::string verdict;  // emergent, smooth, never_above_chance, inconclusive
    std::vector<std::string> reasons;
    std::optional<ThresholdLoss> threshold;
    EtaEstimate eta;
    std::vector<FamilyFit> families;  // the threshold model per rise family
    Gain gain;
    SizeThresholds sizes;
    Stability stability;
    SeedSpread seed_spread;
    ModelFit threshold_model, smooth_model, flat_model;  // "models": threshold, smooth, flat
    SeriesTests tests;
    Stretch stretch_at_eta, stretch_at_ci_high;  // "stretch": at_eta, at_ci_high
    SeriesCollapse collapse;
    SeriesExtrapolation extrapolation;
    std::optional<std::vector<std::string>> other_tasks_improving;  // emergent series only

    const CollapseAxisResult *collapse_axis(const std::string &axis) const;
};

// η of one metric of a task, next to the task's reference metric.
struct MetricEta {
    std::string metric;
    bool continuous = false;  // comparisons only
    std::string verdict;
    double eta = kUndefined, ci_low = kUndefined, ci_high = kUndefined;
    bool overlap = false, same_verdict = false;  // comparisons only
};

// Per task: do the other metrics' η intervals overlap the discontinuous metric's?
struct ContinuousAgreement {
    std::string task;
    MetricEta reference;
    std::vector<MetricEta> comparisons;
    bool intervals_agree = false, verdicts_agree = false;
};

struct LawPoint {
    std::string run;
    int64_t step = 0;
    double params = 0, tokens_seen = 0, loss = 0, predicted = 0;
};

// The fitted law; E..beta, intervals, objective, bootstrap and observed are set only when fit.ok.
struct ScalingLawResult {
    ScalingLaw fit;
    std::string points;  // "final" (final losses) or "all" (every window checkpoint)
    double huber_delta = 0;
    std::vector<LawPoint> observed;
};

// The model size an emergent series' η needs under the scaling law.
struct EmergenceSize {
    std::string task, metric;
    double eta = kUndefined;
    Interval eta_ci;
    double tokens = 0, tokens_per_param = 0;
    double params_needed = kUndefined;             // undefined: no size reaches η
    std::optional<Interval> params_needed_range;   // only when η is above E
    std::optional<double> params_needed_at_ratio;  // only when η is above E
    std::optional<std::string> note;
};

struct AnalysisResult {
    int64_t version = kAnalysisVersion;
    AnalysisWindow window;
    AnalysisSettings options;
    AnalysisSummary summary;
    std::vector<RunSummary> runs;
    std::vector<SeriesResult> results;
    std::vector<ContinuousAgreement> continuous_agreement;
    ScalingLawResult scaling_law;
    std::vector<EmergenceSize> emergence_sizes;
};

// analysis.json's content. Undefined numbers become null.
nlohmann::json analysis_to_json(const AnalysisResult &a);

// The inverse of analysis_to_json. Fails with one line naming `source`, the key and the fix when
// the format or version is not this one or a key is missing or of the wrong type.
Result<AnalysisResult> analysis_from_json(const nlohmann::json &j, const std::string &source);

}  // namespace em
