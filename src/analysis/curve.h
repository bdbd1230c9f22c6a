// The rise models of performance against loss, fitted by maximum likelihood:
//   value(L) = c                          for L >= onset
//   value(L) = c + s * a * x(onset - L)   for L <  onset        (a >= 0)
// with s = +1 when higher values are better and -1 otherwise, and the rise's shape x(d) (x(0) = 0)
// one of four families, each with one shape parameter:
//   power       d^p                       p in [0.25, 2]
//   saturating  1 - exp(-d / t)           a linear start that levels off
//   sigmoid     1 - exp(-(d / t)^2)       an S-shaped start with zero slope at the onset
//   capped      min(d, h)                 a linear rise that stops at a ceiling
// The threshold model lets the onset move over the window (and above it); the smooth model pins it
// to the top of the window; the chance model is a = 0. Binomial likelihood over the examples when
// counts are known, Gaussian with the variance at its maximum-likelihood value otherwise.
// Formulas: docs/analysis.md.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
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
    // Per point, the model size it belongs to (0, 1, ...), and each size's parameter count; empty
    // when sizes are unknown (the shared-threshold test then does not run).
    std::vector<int32_t> size;
    std::vector<double> size_params;
    // The metric's best possible value (1 for accuracy, 0 for the Brier score); NaN when it has
    // none (NLL, bits per byte): the gain is then not given as a share of chance-to-perfect.
    double perfect = std::numeric_limits<double>::quiet_NaN();
};

enum class CurveFamily { power, saturating, sigmoid, capped };
constexpr CurveFamily kCurveFamilies[] = {CurveFamily::power, CurveFamily::saturating,
                                          CurveFamily::sigmoid, CurveFamily::capped};
constexpr int kCurveFamilyCount = 4;
const char *curve_family_name(CurveFamily f);
// False when `name` is not one of the names curve_family_name gives.
bool curve_family_parse(const std::string &name, CurveFamily &out);

struct CurveParams {
    double plateau = 0;
    double onset = 0;
    double amplitude = 0;
    double exponent = 1;  // power: p
    double sign = 1;
    CurveFamily family = CurveFamily::power;
    double scale = 1;  // saturating, sigmoid: t; capped: h (loss units)
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

// Maximum-likelihood fit of one family with the onset restricted to [onset_lo, onset_hi] (equal
// bounds pin it). Every family has the same number of free parameters, so their likelihoods
// compare directly (AIC weights).
CurveFit curve_fit(const CurveStats &stats, double onset_lo, double onset_hi,
                   CurveFamily family = CurveFamily::power);
// The range of a family's shape parameter (p, or t and h in loss units) on a data set.
void curve_shape_range(const CurveStats &stats, CurveFamily family, double &lo, double &hi);
// The fit at a fixed onset and shape parameter: only the amplitude (and plateau) are estimated.
CurveFit curve_fit_at(const CurveStats &stats, CurveFamily family, double onset, double shape);

// The largest loss at which the curve stands `margin` above its plateau (in the metric's
// direction): where the rise becomes visible, which does not depend on how steeply a family
// leaves the plateau. The onset itself when the curve never gets that far within `max_depth`
// below it.
double curve_departure(const CurveParams &p, double margin, double max_depth);

// The flat model (a = 0): value = baseline, or the fitted constant when the plateau is free.
CurveFit curve_fit_flat(const CurveStats &stats);

// Log-likelihood of given parameters on a data set (Gaussian with the MLE variance for them).
double curve_loglik(const CurveStats &stats, const CurveParams &params);

// Draws from Binomial(n, p): inversion for small means, a rounded normal otherwise (enough for a
// bootstrap of proportions).
int64_t binomial_sample(Rng &rng, int64_t n, double p);

}  // namespace em
