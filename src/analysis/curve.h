// The rise model of performance against loss, fitted by maximum likelihood:
//   value(L) = c                        for L >= onset
//   value(L) = c + s * a * (onset - L)^p for L <  onset        (a >= 0, p in [0.25, 2])
// with s = +1 when higher values are better and -1 otherwise. The threshold model lets the onset
// move over the window (and above it); the smooth model pins it to the top of the window; the
// chance model is a = 0. Binomial likelihood over the examples when counts are known, Gaussian
// with the variance at its maximum-likelihood value otherwise. Formulas: docs/analysis.md.
#pragma once

#include <cstdint>
#include <vector>

#include "common/rng.h"

namespace em {

struct CurveData {
    std::vector<double> loss;   // per point
    std::vector<double> value;  // per point, in the metric's own units
    std::vector<double> n;      // examples per point; used only when `binomial`
    double baseline = 0;        // chance level c when the plateau is fixed
    bool plateau_free = false;  // estimate c (metrics without a random-guess value)
    double sign = 1.0;          // +1 higher is better, -1 lower is better
    bool binomial = false;      // values are proportions of n examples
    // Per point, the run it belongs to (0, 1, ...): the unit a bootstrap by runs resamples.
    std::vector<int32_t> run;
};

struct CurveParams {
    double plateau = 0;
    double onset = 0;
    double amplitude = 0;
    double exponent = 1;
    double sign = 1;
    double eval(double loss) const;
};

struct CurveFit {
    CurveParams params;
    double loglik = 0;  // at the maximum
    double sigma = 0;   // Gaussian residual sd (0 for binomial)
    int k = 0;          // free parameters, for AIC and BIC
    double n_obs = 0;   // points (with bootstrap multiplicity)
};

// Groups of consecutive points (sorted by loss) whose losses lie within `width` of the group's
// first point; each fit evaluates one term per group instead of one per point. The model is
// evaluated at a group's mean loss, so `width` bounds the approximation (the analysis uses
// 1/400 of the window's loss span).
struct CurveGroups {
    std::vector<int32_t> group_of;  // per point
    int32_t count = 0;
};
CurveGroups curve_groups_build(const std::vector<double> &loss, double width);

// Sufficient statistics of one (possibly resampled) data set, per group.
struct CurveStats {
    std::vector<double> loss;        // mean loss per group, ascending
    std::vector<double> w, sy, syy;  // multiplicity, sum of values, sum of squares
    std::vector<double> k, n;        // binomial successes and trials
    double n_obs = 0;
    double log_binom_const = 0;  // sum of log C(n, k) over points
    bool binomial = false;
    bool plateau_free = false;
    double baseline = 0, sign = 1;
};
// `mult` (per point, may be empty = all ones) and `values` (per point, may be empty = data.value)
// let a bootstrap reuse the grouping.
CurveStats curve_stats(const CurveData &data, const CurveGroups &groups,
                       const std::vector<double> &mult, const std::vector<double> &values);

// Maximum-likelihood fit with the onset restricted to [onset_lo, onset_hi] (equal bounds pin it).
CurveFit curve_fit(const CurveStats &stats, double onset_lo, double onset_hi);
// The flat model (a = 0): value = baseline, or the fitted constant when the plateau is free.
CurveFit curve_fit_flat(const CurveStats &stats);

// Log-likelihood of given parameters on a data set (Gaussian with the MLE variance for them).
double curve_loglik(const CurveStats &stats, const CurveParams &params);

// Draws from Binomial(n, p): inversion for small means, a rounded normal otherwise (enough for a
// bootstrap of proportions).
int64_t binomial_sample(Rng &rng, int64_t n, double p);

}  // namespace em
