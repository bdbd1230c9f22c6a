// Fit on high loss, predict low loss; see extrapolate.h and docs/analysis.md.
#include "analysis/extrapolate.h"

#include <algorithm>
#include <cmath>

#include "analysis/stats.h"
#include "common/rng.h"

namespace em {

ExtrapolationResult extrapolation_analyze(const CurveData &d, double window_lo, double window_hi,
                                          const ExtrapolationOptions &opt) {
    ExtrapolationResult r;
    r.split_loss = window_hi - opt.fit_frac * (window_hi - window_lo);
    CurveData up = d, held = d;
    up.loss.clear(), up.value.clear(), up.n.clear();
    held.loss.clear(), held.value.clear(), held.n.clear();
    for (size_t i = 0; i < d.loss.size(); ++i) {
        CurveData &dst = d.loss[i] >= r.split_loss ? up : held;
        dst.loss.push_back(d.loss[i]);
        dst.value.push_back(d.value[i]);
        dst.n.push_back(d.binomial ? d.n[i] : 0.0);
    }
    r.n_fit = static_cast<int64_t>(up.loss.size());
    r.n_held = static_cast<int64_t>(held.loss.size());
    if (r.n_fit < 3 || r.n_held < 3) return r;
    r.done = true;
    double width = std::max(window_hi - window_lo, 1e-12) * opt.group_width_frac;
    CurveGroups groups = curve_groups_build(up.loss, width);
    CurveFit fit = curve_fit(curve_stats(up, groups, {}, {}), window_hi, window_hi);
    r.fit = fit.params;

    // Band of the fitted mean at each held-out loss, from case resampling of the upper part.
    size_t m = held.loss.size(), nu = up.loss.size();
    std::vector<std::vector<double>> draws(m);
    std::vector<double> mult(nu);
    for (int b = 0; b < opt.bootstrap; ++b) {
        Rng rng(opt.seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(b) + 7);
        std::fill(mult.begin(), mult.end(), 0.0);
        for (size_t j = 0; j < nu; ++j) mult[rng.below(nu)] += 1;
        CurveParams p = curve_fit(curve_stats(up, groups, mult, {}), window_hi, window_hi).params;
        for (size_t i = 0; i < m; ++i) draws[i].push_back(p.eval(held.loss[i]));
    }
    double z = 1.959963984540054;
    double tail = 0.5 * (1.0 - opt.level);
    int64_t above = 0, below = 0;
    double se2 = 0, ae = 0, me = 0;
    for (size_t i = 0; i < m; ++i) {
        double pred = r.fit.eval(held.loss[i]);
        double lo = draws[i].empty() ? pred : quantile(draws[i], tail);
        double hi = draws[i].empty() ? pred : quantile(draws[i], 1.0 - tail);
        double noise;
        if (d.binomial) {
            double mu = std::clamp(pred, 1e-6, 1.0 - 1e-6);
            noise = std::sqrt(mu * (1.0 - mu) / std::max(held.n[i], 1.0));
        } else {
            noise = fit.sigma;
        }
        lo -= z * noise, hi += z * noise;
        double err = held.value[i] - pred;
        se2 += err * err, ae += std::fabs(err), me += d.sign * err;
        double better_edge = d.sign > 0 ? hi : lo, worse_edge = d.sign > 0 ? lo : hi;
        if (d.sign * (held.value[i] - better_edge) > 0) ++above;
        if (d.sign * (held.value[i] - worse_edge) < 0) ++below;
    }
    double dm = static_cast<double>(m);
    r.rmse = std::sqrt(se2 / dm);
    r.mae = ae / dm;
    r.mean_error = me / dm;
    r.frac_above = static_cast<double>(above) / dm;
    r.frac_below = static_cast<double>(below) / dm;
    r.p_above = binomial_sf(above, static_cast<int64_t>(m), tail);
    r.exceeds = r.p_above < opt.alpha;
    return r;
}

}  // namespace em
