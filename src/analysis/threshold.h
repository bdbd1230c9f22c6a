// The threshold analysis of one task metric: the threshold model against the smooth and flat
// models, η with its bootstrap interval, how much of the window lies above η at chance, and the
// verdict (emergent, smooth, never_above_chance, inconclusive). Rules: docs/analysis.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analysis/curve.h"

namespace em {

struct ThresholdOptions {
    int bootstrap = 200;  // resamples for η's interval
    // Resample whole runs (CurveData::run) instead of checkpoints: checkpoints of one run share
    // its initialization and data order, so their errors are correlated and resampling them one
    // by one understates the uncertainty.
    bool bootstrap_runs = false;
    double alpha = 0.01;           // significance level of the rise and model comparison tests
    double plateau_alpha = 0.001;  // evidence needed to call the stretch above η "above chance"...
    double plateau_min_effect =
        0.05;                       // ...and its excess must exceed this share of the window's rise
    double min_span_frac = 0.15;    // stretch above η: at least this share of the loss span...
    double min_points_frac = 0.05;  // ...and this share of the points...
    int64_t min_stretch_points = 5;  // ...and at least this many points
    int64_t min_points = 8;          // fewer points in the window: inconclusive
    double onset_extension = 0.5;    // η may sit this share of the span above the window's top
    double group_width_frac = 1.0 / 400;  // grouping of near-equal losses (curve.h)
    uint64_t seed = 1;
    bool parallel = false;  // run the bootstrap on the thread pool (not when nested)
};

struct Stretch {
    double onset = 0;
    int64_t n_points = 0;    // points with loss >= onset
    double frac_points = 0;  // of all points in the window
    double frac_span = 0;  // (window top - onset) / (window top - window bottom), clamped to [0, 1]
};

// A run-level bootstrap needs at least this many runs in the window; fewer resample checkpoints.
constexpr size_t kMinBootstrapRuns = 5;

struct ThresholdResult {
    CurveFit threshold, smooth, flat;
    double dispersion =
        1;  // Pearson chi-square / (points - k) of the threshold fit, >= 1 (binomial)
    double lr_vs_smooth = 0, p_vs_smooth = 1;  // threshold vs smooth (onset at the top), 1 df
    double lr_rise = 0, p_rise = 1;            // threshold vs flat
    int df_rise = 0;
    double aic_threshold = 0, aic_smooth = 0, aic_flat = 0;  // quasi-AIC/BIC when dispersion > 1
    double bic_threshold = 0, bic_smooth = 0, bic_flat = 0;
    double eta = 0, eta_ci_low = 0, eta_ci_high = 0;
    int64_t bootstrap_done = 0;
    std::string bootstrap_unit = "checkpoint";  // what the bootstrap resampled: checkpoint | run
    double window_lo = 0, window_hi = 0;
    Stretch at_eta, at_ci_high;
    int64_t plateau_points = 0;
    double plateau_excess =
        0;  // mean oriented excess over the baseline above η (trend if no baseline)
    double plateau_stat = 0, plateau_p = 1;  // one-sided: above chance (or improving) above η
    double plateau_effect =
        0;  // excess (or, for the slope test, the gain across the stretch) / window rise
    std::string plateau_test;          // "mean_vs_baseline" or "slope"
    double gain_at_window_bottom = 0;  // fitted oriented gain over the plateau at the lowest loss
    std::string verdict;
    std::vector<std::string> reasons;
};

Stretch stretch_at(const std::vector<double> &loss, double lo, double hi, double onset);

// `data` holds the window's points of one task metric.
ThresholdResult threshold_analyze(const CurveData &data, const ThresholdOptions &opt);

}  // namespace em
