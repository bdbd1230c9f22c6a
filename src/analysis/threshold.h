// The threshold analysis of one task metric: the threshold model (four rise families, curve.h)
// against the smooth and flat models, η with a bootstrap interval that spans the families the data
// cannot tell apart, how much of the window lies above η at chance, the gain at the lowest loss,
// η per model size with a test of one shared η, leave-one-run-out stability, and the verdict
// (emergent, smooth, marginal, never_above_chance, inconclusive). Rules: docs/analysis.md.
#pragma once

#include <cmath>
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
    // η is where the fitted curve stands this far above its plateau (in the metric's units): the
    // loss at which the rise becomes visible, which unlike the exact departure point does not hang
    // on how steeply the fitted family leaves the plateau.
    double onset_margin = 0.01;
    // A family whose Akaike weight reaches this share widens η's interval to cover its own.
    double family_weight_min = 0.05;
    // A rise whose fitted gain at the lowest loss is below this (in the metric's units) is
    // "marginal": detectable, but too small to matter.
    double min_gain = 0.05;
    // Leave-one-run-out refits; a verdict kept by fewer than `fragile_below` of them is fragile.
    // A refit does not bootstrap again: its interval is the full data's, moved to its own η.
    bool stability = true;
    double fragile_below = 0.9;
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

// The threshold model of one rise family: its fit, Akaike weight among the families and η's
// bootstrap interval under it.
struct FamilyFit {
    CurveFamily family = CurveFamily::power;
    double loglik = 0, aic_weight = 0;
    double eta = 0, eta_ci_low = 0, eta_ci_high = 0;
};

// η of one model size: the selected family fitted to that size's points alone.
struct SizeEta {
    double params = 0;
    int64_t points = 0;
    double loss_lo = 0;  // the size's lowest loss in the window
    double eta = 0;
    double lr_rise = 0, p_rise = 1;  // this size's rise over its own flat model
    bool reaches = false;  // enough points, and min_stretch_points of them below the overall η
    bool rises = false;    // reaches, and rises significantly with a positive gain
};

// Leave-one-run-out refits.
struct Stability {
    int64_t refits = 0;                     // 0: fewer than three runs, not assessed
    double verdict_kept = 0, eta_kept = 0;  // shares of refits
    bool fragile = false;
};

struct ThresholdResult {
    CurveFit threshold, smooth, flat;
    std::vector<FamilyFit> families;  // the threshold model per family; `threshold` is the best
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
    double gain_ci_low = 0, gain_ci_high = 0;  // its bootstrap interval (the selected family's)
    double gain_share = 0;  // gain / |perfect - plateau|; NaN without a perfect value
    // The fitted oriented change from the window's top to its bottom: the gain less what the task
    // had already gained above the window. A task above chance across the window that barely
    // improves inside it (it rose at higher losses) is not a smooth riser here: `marginal`.
    double rise_in_window = 0;
    // Per size (when sizes are known), and the likelihood-ratio test of one η shared by the sizes
    // that reach below η against an η per size (df = those sizes - 1).
    std::vector<SizeEta> sizes;
    double shared_lr = 0, shared_p = 1;
    int64_t shared_df = 0;
    double shared_dispersion = 1;  // the test's φ: the larger of the points' and the runs'
    // The trend: onset linear in log2 of the sizes' parameters (shape held at the shared model's)
    // against one η, 1 df and φ as above; a steady drift of η with size that the (sizes - 1)-df
    // test above lacks the power to see. The slope is in nats of loss per doubling of the
    // parameters (> 0: larger sizes leave chance at higher losses), its interval from the profile
    // likelihood. NaN with fewer than three sizes taking part, and in stability refits.
    double trend_slope = NAN, trend_ci_low = NAN, trend_ci_high = NAN;
    double trend_lr = NAN, trend_p = NAN;
    // For a threshold: "common" (two or more sizes rise and one η fits them), "size_dependent"
    // (their η differ), "one_size" (fewer than two sizes rise: not called emergent); empty when
    // sizes are unknown or there is no threshold.
    std::string qualifier;
    Stability stability;
    std::string verdict;
    std::vector<std::string> reasons;
};

Stretch stretch_at(const std::vector<double> &loss, double lo, double hi, double onset);

// `data` holds the window's points of one task metric.
ThresholdResult threshold_analyze(const CurveData &data, const ThresholdOptions &opt);

// The points of `data` whose run is not `run` (runs renumbered), for a leave-one-run-out refit.
CurveData curve_data_without_run(const CurveData &data, int32_t run);

}  // namespace em
