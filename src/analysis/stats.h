// Elementary statistics for the analysis: rank and linear correlation with p-values, isotonic
// regression (pool adjacent violators), quantiles and tail probabilities. Formulas:
// docs/analysis.md.
#pragma once

#include <cstdint>
#include <vector>

namespace em {

// Average ranks (1-based; ties share the mean of their positions).
std::vector<double> ranks_average(const std::vector<double> &x);

double pearson(const std::vector<double> &x, const std::vector<double> &y);
double spearman(const std::vector<double> &x, const std::vector<double> &y);
// Two-sided p-value of a correlation r over n pairs (t = r sqrt((n-2)/(1-r^2)), Student t, n-2 df).
double correlation_p_value(double r, int64_t n);

struct IsotonicFit {
    std::vector<double> fitted;  // per input point, in input order
    std::vector<double> knot_x;  // distinct x values, ascending
    std::vector<double> knot_y;  // the fitted step value at each knot (monotone)
};
// Weighted least-squares fit of a monotone (non-decreasing when `increasing`, else non-increasing)
// step function of x; equal x values share one fitted value. w may be empty (all ones).
IsotonicFit isotonic_fit(const std::vector<double> &x, const std::vector<double> &y,
                         const std::vector<double> &w, bool increasing);
// Evaluates the step function of an isotonic fit at x by linear interpolation between knots,
// constant beyond the ends.
double isotonic_eval(const IsotonicFit &fit, double x);

// Sample quantile with linear interpolation between order statistics (type 7); sorts a copy.
double quantile(std::vector<double> v, double q);

double chi2_sf(double x, double df);                 // P(X >= x), X ~ chi-square(df)
double normal_sf(double z);                          // P(Z >= z)
double student_t_sf(double t, double df);            // P(T >= t)
double binomial_sf(int64_t k, int64_t n, double p);  // P(X >= k), X ~ Binomial(n, p)

}  // namespace em
