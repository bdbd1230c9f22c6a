// Threshold analysis and verdict of one task metric; see threshold.h and docs/analysis.md.
#include "analysis/threshold.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "analysis/stats.h"
#include "common/parallel.h"

namespace em {
namespace {

double pearson_dispersion(const CurveData &d, const CurveParams &p, int k) {
    double chi2 = 0;
    for (size_t i = 0; i < d.loss.size(); ++i) {
        double mu = std::clamp(p.eval(d.loss[i]), 1e-6, 1.0 - 1e-6);
        double r = d.value[i] - mu;
        chi2 += r * r * d.n[i] / (mu * (1.0 - mu));
    }
    double df = static_cast<double>(d.loss.size()) - k;
    return df > 0 ? std::max(1.0, chi2 / df) : 1.0;
}

// Adds each run's squared sum of standardized residuals from `fit` to `ss` and its points to
// `points`: ss / points is the variance of a run's summed residuals over what independent points
// would give (the design effect). Checkpoints of one run share its initialization, data order and
// evaluation items, so their deviations from the curve move together, and a test that counts them
// as independent finds effects that are only run offsets.
void run_residual_sums(const CurveData &d, const CurveFit &fit, double &ss, double &points) {
    if (d.run.size() != d.loss.size() || d.run.empty()) return;
    const size_t runs = static_cast<size_t>(*std::max_element(d.run.begin(), d.run.end())) + 1;
    std::vector<double> sum(runs, 0.0);
    for (size_t i = 0; i < d.loss.size(); ++i) {
        double mu = fit.params.eval(d.loss[i]), z;
        if (d.binomial) {
            mu = std::clamp(mu, 1e-6, 1.0 - 1e-6);
            z = (d.value[i] - mu) * std::sqrt(d.n[i] / (mu * (1.0 - mu)));
        } else {
            z = fit.sigma > 0 ? (d.value[i] - mu) / fit.sigma : 0.0;
        }
        sum[static_cast<size_t>(d.run[i])] += z;
        points += 1;
    }
    for (double v : sum) ss += v * v;
}

// One-sided test that the points at or above `onset` are above chance (or, without a baseline,
// still improving as the loss falls).
void plateau_test(const CurveData &d, double onset, double dispersion, ThresholdResult &r) {
    std::vector<size_t> idx;
    for (size_t i = 0; i < d.loss.size(); ++i)
        if (d.loss[i] >= onset) idx.push_back(i);
    r.plateau_points = static_cast<int64_t>(idx.size());
    r.plateau_p = std::nan("");
    r.plateau_stat = std::nan("");
    r.plateau_excess = std::nan("");
    double m = static_cast<double>(idx.size());
    if (!d.plateau_free) {
        r.plateau_test = "mean_vs_baseline";
        if (idx.empty()) return;
        double c = d.baseline;
        if (d.binomial) {
            double exc = 0, nn = 0;
            for (size_t i : idx) exc += d.sign * (d.value[i] - c) * d.n[i], nn += d.n[i];
            r.plateau_excess = exc / nn;
            double var = dispersion * c * (1.0 - c) * nn;
            r.plateau_stat = var > 0 ? exc / std::sqrt(var) : (exc > 0 ? INFINITY : 0.0);
            r.plateau_p = normal_sf(r.plateau_stat);
            return;
        }
        double mean = 0;
        for (size_t i : idx) mean += d.sign * (d.value[i] - c);
        mean /= m;
        r.plateau_excess = mean;
        if (idx.size() < 3) return;
        double ss = 0;
        for (size_t i : idx) {
            double e = d.sign * (d.value[i] - c) - mean;
            ss += e * e;
        }
        double se = std::sqrt(ss / (m - 1) / m);
        r.plateau_stat = se > 0 ? mean / se : (mean > 0 ? INFINITY : 0.0);
        r.plateau_p = student_t_sf(r.plateau_stat, m - 1);
        return;
    }
    r.plateau_test = "slope";
    if (idx.size() < 4) return;
    double mx = 0, my = 0;
    for (size_t i : idx) mx += d.loss[i], my += d.value[i];
    mx /= m, my /= m;
    double sxx = 0, sxy = 0;
    for (size_t i : idx)
        sxx += (d.loss[i] - mx) * (d.loss[i] - mx), sxy += (d.loss[i] - mx) * (d.value[i] - my);
    if (!(sxx > 0)) return;
    double slope = sxy / sxx, ss = 0;
    for (size_t i : idx) {
        double e = d.value[i] - my - slope * (d.loss[i] - mx);
        ss += e * e;
    }
    double se = std::sqrt(ss / (m - 2) / sxx);
    double improving = -d.sign * slope;  // gain per unit of loss removed
    r.plateau_excess = improving;
    r.plateau_stat = se > 0 ? improving / se : (improving > 0 ? INFINITY : 0.0);
    r.plateau_p = student_t_sf(r.plateau_stat, m - 2);
}

std::string pct(double f) {
    return fmt::format("{:.0f}%", 100.0 * f);
}

void verdict_decide(const ThresholdOptions &opt, int64_t n, ThresholdResult &r) {
    auto &why = r.reasons;
    bool stretch_ok_eta = r.at_eta.frac_span >= opt.min_span_frac &&
                          r.at_eta.frac_points >= opt.min_points_frac &&
                          r.at_eta.n_points >= opt.min_stretch_points;
    bool stretch_ok_ci = r.at_ci_high.frac_span >= opt.min_span_frac &&
                         r.at_ci_high.frac_points >= opt.min_points_frac &&
                         r.at_ci_high.n_points >= opt.min_stretch_points;
    // Thousands of points make a tiny systematic offset from the nominal chance level significant
    // (benchmarks whose degenerate answers score a little above or below 1/K), so "above chance"
    // also needs an excess that matters next to the rise the task makes in the window.
    bool plateau_ok =
        !(r.plateau_p < opt.plateau_alpha && r.plateau_effect > opt.plateau_min_effect);
    bool better = r.p_vs_smooth < opt.alpha && r.bic_threshold < r.bic_smooth;
    if (n < opt.min_points) {
        r.verdict = "inconclusive";
        why.push_back(fmt::format("only {} points in the window (need {})", n, opt.min_points));
        return;
    }
    if (!(r.p_rise < opt.alpha) || r.gain_at_window_bottom <= 0) {
        r.verdict = "never_above_chance";
        why.push_back(
            fmt::format("no significant rise over the flat model: LR {:.3g}, p {:.3g} (alpha {})",
                        r.lr_rise, r.p_rise, opt.alpha));
        return;
    }
    why.push_back(
        fmt::format("rise over the flat model: LR {:.3g}, p {:.3g}", r.lr_rise, r.p_rise));
    why.push_back(fmt::format(
        "threshold vs rise from the window top: LR {:.3g}, p {:.3g}, BIC {:.4g} vs {:.4g}",
        r.lr_vs_smooth, r.p_vs_smooth, r.bic_threshold, r.bic_smooth));
    why.push_back(fmt::format(
        "above eta {:.4g}: {} points ({}), {} of the loss span; above the interval's "
        "top {:.4g}: {} points ({}), {} of the span",
        r.eta, r.at_eta.n_points, pct(r.at_eta.frac_points), pct(r.at_eta.frac_span), r.eta_ci_high,
        r.at_ci_high.n_points, pct(r.at_ci_high.frac_points), pct(r.at_ci_high.frac_span)));
    why.push_back(fmt::format(
        "points above eta {} chance ({} test, p {:.3g}, excess {:.3g} of the rise)",
        plateau_ok ? "are not above" : "are above", r.plateau_test, r.plateau_p, r.plateau_effect));
    // Emergent needs the stretch above eta and above the interval's top (a percentile interval
    // need not contain eta), and points above eta that could be tested against chance.
    const bool plateau_tested = !std::isnan(r.plateau_p);
    if (better && stretch_ok_ci && stretch_ok_eta && plateau_ok && plateau_tested) {
        r.verdict = "emergent";
        return;
    }
    if (!better || !stretch_ok_eta || !plateau_ok) {
        r.verdict = "smooth";
        if (!better)
            why.push_back(
                "the threshold model is not clearly better than a rise from the window top");
        if (!stretch_ok_eta) why.push_back("no real stretch of the window lies above eta");
        if (!plateau_ok) why.push_back("the task already improves above eta");
        return;
    }
    r.verdict = "inconclusive";
    why.push_back(plateau_tested
                      ? "the stretch above eta vanishes at the upper end of eta's interval"
                      : "too few points above eta to test them against chance");
}

// The effect-size rule and the shared-threshold qualifier, after the verdict.
void qualify(const ThresholdOptions &opt, ThresholdResult &r) {
    if ((r.verdict == "emergent" || r.verdict == "smooth") &&
        r.gain_at_window_bottom < opt.min_gain) {
        r.reasons.push_back(fmt::format(
            "the fitted gain at the lowest loss, {:.3g} [{:.3g}, {:.3g}], is below the practical "
            "minimum {:.3g}: {} by the tests, but too small to matter",
            r.gain_at_window_bottom, r.gain_ci_low, r.gain_ci_high, opt.min_gain, r.verdict));
        r.verdict = "marginal";
        return;
    }
    if (r.verdict == "smooth" && r.rise_in_window < opt.min_gain) {
        r.reasons.push_back(fmt::format(
            "above chance across the window (fitted gain {:.3g} at its bottom), but it rises only "
            "{:.3g} inside it, below the practical minimum {:.3g}: the task rose at losses above "
            "the window, and does not improve smoothly within it",
            r.gain_at_window_bottom, r.rise_in_window, opt.min_gain));
        r.verdict = "marginal";
        return;
    }
    if (r.verdict != "emergent" || r.sizes.empty()) return;
    int rising = 0;
    for (const SizeEta &e : r.sizes) rising += e.rises ? 1 : 0;
    if (rising < 2) {
        r.qualifier = "one_size";
        r.verdict = "inconclusive";
        r.reasons.push_back(fmt::format(
            "only {} of {} sizes rise below eta: a rise in one size cannot be told from a size "
            "effect, so it is not called emergent",
            rising, r.sizes.size()));
        return;
    }
    r.qualifier = r.shared_p < opt.alpha ? "size_dependent" : "common";
    r.reasons.push_back(fmt::format(
        "{} sizes rise; one shared eta against one per size: LR {:.3g}, df {}, p {:.3g}: {}",
        rising, r.shared_lr, r.shared_df, r.shared_p,
        r.qualifier == "common" ? "a common threshold" : "the threshold depends on size"));
    if (std::isfinite(r.trend_p))
        r.reasons.push_back(fmt::format(
            "eta against log2 size: {:+.3g} nats per doubling [{:+.3g}, {:+.3g}], against one "
            "shared eta LR {:.3g}, df 1, p {:.3g}",
            r.trend_slope, r.trend_ci_low, r.trend_ci_high, r.trend_lr, r.trend_p));
}

}  // namespace

Stretch stretch_at(const std::vector<double> &loss, double lo, double hi, double onset) {
    Stretch s;
    s.onset = onset;
    for (double l : loss) s.n_points += l >= onset ? 1 : 0;
    s.frac_points =
        loss.empty() ? 0.0 : static_cast<double>(s.n_points) / static_cast<double>(loss.size());
    s.frac_span = hi > lo ? std::clamp((hi - onset) / (hi - lo), 0.0, 1.0) : 0.0;
    return s;
}

namespace {

// The threshold model of every family on one data set; the best is the one with the highest
// likelihood (the families have equal parameter counts).
struct FamilySet {
    CurveFit fits[kCurveFamilyCount];
    int best = 0;
};

FamilySet fit_families(const CurveStats &stats, double lo, double hi) {
    FamilySet set;
    for (int f = 0; f < kCurveFamilyCount; ++f) {
        set.fits[f] = curve_fit(stats, lo, hi, kCurveFamilies[f]);
        if (set.fits[f].loglik > set.fits[set.best].loglik) set.best = f;
    }
    return set;
}

// η of a fitted curve: where it stands opt.onset_margin above its plateau, looked for down to as
// far below the window as the onset may lie above it.
double departure(const CurveParams &p, const ThresholdOptions &opt, const ThresholdResult &r) {
    const double span = r.window_hi - r.window_lo;
    const double depth = p.onset - (r.window_lo - opt.onset_extension * span);
    return curve_departure(p, opt.onset_margin, depth);
}

double oriented_gain(const CurveParams &p, double loss) {
    return p.sign * (p.eval(loss) - p.plateau);
}

// The families refitted to the start of the rise: the points above the loss where the best fit
// of the whole window has made half its gain. How a rise goes on (levelling off, hitting a
// ceiling) says nothing about where it starts, but a family that gets the later course wrong
// moves its onset to fit it; on the first half of the rise every family only has to follow the
// start, which a power of the distance does for any smooth start. The whole-window fits stand
// when the cut would leave fewer than kMinStartGroups groups.
constexpr int kMinStartGroups = 8;

// The loss above which the rise makes the first half of its gain (the window's bottom when the
// fit does not rise).
double start_cut(const FamilySet &whole, double window_lo) {
    const CurveParams &p = whole.fits[whole.best].params;
    const double gain = oriented_gain(p, window_lo);
    if (!(gain > 0)) return window_lo;
    return curve_departure(p, 0.5 * gain, p.onset - window_lo);
}

// `stats` without the groups below `cut`; `kept` counts the groups left.
CurveStats stats_above(const CurveStats &stats, double cut, int &kept) {
    CurveStats s = stats;
    kept = 0;
    for (size_t g = 0; g < s.loss.size(); ++g) {
        if (s.loss[g] >= cut) {
            kept += s.w[g] > 0;
            continue;
        }
        s.n_obs -= s.w[g];
        s.w[g] = s.sy[g] = s.syy[g] = 0;
        if (s.binomial) s.k[g] = s.n[g] = 0;
    }
    return s;
}

FamilySet onset_refit(const CurveStats &stats, const FamilySet &whole, double window_lo,
                      double onset_lo, double onset_hi) {
    const double cut = start_cut(whole, window_lo);
    if (!(cut > window_lo)) return whole;
    int kept = 0;
    CurveStats s = stats_above(stats, cut, kept);
    if (kept < kMinStartGroups) return whole;
    return fit_families(s, std::max(onset_lo, cut), onset_hi);
}

CurveData subset(const CurveData &d, const std::vector<size_t> &idx) {
    CurveData out;
    out.baseline = d.baseline, out.plateau_free = d.plateau_free, out.sign = d.sign;
    out.binomial = d.binomial, out.perfect = d.perfect;
    for (size_t i : idx) {
        out.loss.push_back(d.loss[i]);
        out.value.push_back(d.value[i]);
        out.n.push_back(i < d.n.size() ? d.n[i] : 0.0);
        if (i < d.run.size()) out.run.push_back(d.run[i]);
        if (i < d.size.size()) out.size.push_back(d.size[i]);
    }
    // Renumber runs densely; sizes keep their ids (size_params stays valid).
    std::vector<int32_t> map;
    int32_t next = 0;
    for (int32_t &r : out.run) {
        if (static_cast<size_t>(r) >= map.size()) map.resize(static_cast<size_t>(r) + 1, -1);
        int32_t &id = map[static_cast<size_t>(r)];
        if (id < 0) id = next++;
        r = id;
    }
    out.size_params = d.size_params;
    return out;
}

// One size's points as fit statistics, and its loss range.
struct SizeData {
    CurveStats stats;
    double lo = 0, hi = 0;
};

SizeData size_data(const CurveData &d, const ThresholdOptions &opt) {
    SizeData out;
    out.lo = *std::min_element(d.loss.begin(), d.loss.end());
    out.hi = *std::max_element(d.loss.begin(), d.loss.end());
    CurveGroups g =
        curve_groups_build(d.loss, std::max(out.hi - out.lo, 1e-12) * opt.group_width_frac);
    out.stats = curve_stats(d, g, {}, {});
    return out;
}

// η per size and the likelihood-ratio test of one shared η (threshold.h).
// Each size's own rise is tested on all its points; its η and the shared-threshold test use the
// start of its rise only: its points above the loss where its own fit has gained `half_gain` (half
// the overall gain at the window's bottom; all its points when it never gains that much). Fitted
// over their whole ranges, a small size that sees only the start and a large one that sees the
// whole rise would move their onsets apart to make up for any misfit of the family's later course;
// cut at the same height, every size follows the same part of its curve.
void sizes_analyze(const CurveData &d, const ThresholdOptions &opt, const CurveStats &all,
                   double half_gain, double onset_lo, double onset_hi, CurveFamily family,
                   bool trend, ThresholdResult &r) {
    if (d.size.size() != d.loss.size() || d.size_params.empty()) return;
    // Sizes are whole runs, so the tests' dispersion is the runs' design effect under the
    // per-size fits (run_residual_sums) where that exceeds the points'.
    double run_ss = 0, run_points = 0;
    struct Rise {
        size_t at;  // in r.sizes
        double ll_fit, ll_flat, gain;
        int df;
    };
    std::vector<Rise> rises;
    std::vector<SizeData> in;
    for (size_t s = 0; s < d.size_params.size(); ++s) {
        std::vector<size_t> idx;
        for (size_t i = 0; i < d.loss.size(); ++i)
            if (d.size[i] == static_cast<int32_t>(s)) idx.push_back(i);
        if (idx.empty()) continue;
        SizeEta e;
        e.params = d.size_params[s];
        e.points = static_cast<int64_t>(idx.size());
        CurveData sd = subset(d, idx);
        SizeData data = size_data(sd, opt);
        e.loss_lo = data.lo;
        CurveFit fit = curve_fit(data.stats, onset_lo, onset_hi, family);
        run_residual_sums(sd, fit, run_ss, run_points);
        const double cut = oriented_gain(fit.params, data.lo) > half_gain
                               ? curve_departure(fit.params, half_gain, fit.params.onset - data.lo)
                               : data.lo;
        int kept = 0;
        CurveStats start = stats_above(data.stats, cut, kept);
        const double gain = oriented_gain(fit.params, data.lo);
        auto points_below = [&](double loss) {
            int64_t below = 0;
            for (double l : sd.loss) below += l < loss;
            return below;
        };
        // A size takes part when it has points enough below η to show whether it rises there;
        // a size that makes half the gain on its own counts its points below its own η, so that
        // one rising well above the pooled η (which the other sizes pull down) is not left out.
        double own_eta = std::nan("");
        if (kept >= 3)
            own_eta = departure(curve_fit(start, std::max(onset_lo, cut), onset_hi, family).params,
                                opt, r);
        int64_t below = points_below(r.eta);
        if (below < opt.min_stretch_points && gain > half_gain && own_eta > r.eta)
            below = points_below(own_eta);
        if (e.points >= opt.min_points && below >= opt.min_stretch_points && kept >= 3) {
            CurveFit flat = curve_fit_flat(data.stats);
            rises.push_back({r.sizes.size(), fit.loglik, flat.loglik, gain, fit.k - flat.k});
            e.reaches = true;
            e.eta = own_eta;
            data.stats = std::move(start);
            in.push_back(std::move(data));
        } else {
            e.eta = std::nan(""), e.lr_rise = std::nan(""), e.p_rise = std::nan("");
        }
        r.sizes.push_back(e);
    }
    const double phi =
        std::max(r.dispersion, run_points > 0 ? std::max(1.0, run_ss / run_points) : 1.0);
    r.shared_dispersion = phi;
    for (const Rise &x : rises) {
        SizeEta &e = r.sizes[x.at];
        e.lr_rise = std::max(0.0, 2.0 * (x.ll_fit - x.ll_flat) / phi);
        e.p_rise = chi2_sf(e.lr_rise, x.df);
        e.rises = e.p_rise < opt.alpha && x.gain > 0;
    }
    r.shared_df = static_cast<int64_t>(in.size()) - 1;
    if (in.size() < 2) {
        r.shared_lr = r.shared_p = std::nan("");
        return;
    }
    // Both models share the rise's shape parameter across sizes and give each size its own
    // amplitude (and plateau where it is free), so the test isolates η: one η for all sizes
    // against one per size, df = sizes - 1.
    // Maximizes ll(v) over [v_lo, v_hi]: a grid, then ternary search about its best cell.
    auto maximize = [](double v_lo, double v_hi, int grid, int steps, auto &&ll, double *arg) {
        double best = -INFINITY, at = v_lo;
        for (int i = 0; i < grid; ++i) {
            double v = v_lo + (v_hi - v_lo) * i / (grid - 1);
            double f = ll(v);
            if (f > best) best = f, at = v;
        }
        const double cell = (v_hi - v_lo) / (grid - 1);
        double lo = std::max(v_lo, at - cell), hi = std::min(v_hi, at + cell);
        for (int it = 0; it < steps; ++it) {
            double m1 = lo + (hi - lo) / 3, m2 = hi - (hi - lo) / 3;
            double f1 = ll(m1), f2 = ll(m2);
            if (f1 > best) best = f1, at = m1;
            if (f2 > best) best = f2, at = m2;
            (f1 >= f2 ? hi : lo) = f1 >= f2 ? m2 : m1;
        }
        if (arg) *arg = at;
        return best;
    };
    auto best_onset = [&](auto &&ll) {  // over [onset_lo, onset_hi]
        return maximize(onset_lo, onset_hi, 25, 14, ll, nullptr);
    };
    auto separate = [&](double theta) {
        double ll = 0;
        for (const SizeData &x : in)
            ll += best_onset(
                [&](double on) { return curve_fit_at(x.stats, family, on, theta).loglik; });
        return ll;
    };
    auto common = [&](double theta) {
        return best_onset([&](double on) {
            double ll = 0;
            for (const SizeData &x : in) ll += curve_fit_at(x.stats, family, on, theta).loglik;
            return ll;
        });
    };
    // Maximizes ll(shape) over the family's range, on a log scale; `arg`: the best shape.
    auto best_shape = [&](auto &&ll, double *arg) {
        double th_lo, th_hi;
        curve_shape_range(all, family, th_lo, th_hi);
        double u = 0;
        double best = maximize(
            std::log(th_lo), std::log(th_hi), 8, 10, [&](double v) { return ll(std::exp(v)); }, &u);
        if (arg) *arg = std::exp(u);
        return best;
    };
    double theta = 1;
    const double ll_sep = best_shape(separate, nullptr), ll_common = best_shape(common, &theta);
    r.shared_lr = std::max(0.0, 2.0 * (ll_sep - ll_common) / phi);
    r.shared_p = chi2_sf(r.shared_lr, static_cast<double>(r.shared_df));
    if (!trend || in.size() < 3) return;

    // The trend: each size's onset a + b (x - mean x), x = log2 of its parameters, the shape held
    // at the shared model's θ. b = 0 is that model, so the test has 1 df.
    std::vector<double> x;
    for (const Rise &q : rises) {
        double params = r.sizes[q.at].params;
        if (!(params > 0)) return;
        x.push_back(std::log2(params));
    }
    const double x_mean = std::accumulate(x.begin(), x.end(), 0.0) / static_cast<double>(x.size());
    for (double &v : x) v -= x_mean;
    const auto [x_min, x_max] = std::minmax_element(x.begin(), x.end());
    if (!(*x_max > *x_min)) return;
    const double b_max = (onset_hi - onset_lo) / (*x_max - *x_min);
    // The best log-likelihood at slope b over the intercepts that keep every onset in range.
    auto at_slope = [&](double b) -> double {
        double a_lo = -INFINITY, a_hi = INFINITY;
        for (double v : x)
            a_lo = std::max(a_lo, onset_lo - b * v), a_hi = std::min(a_hi, onset_hi - b * v);
        if (a_lo > a_hi) return -INFINITY;
        return maximize(
            a_lo, a_hi, 25, 14,
            [&](double a) {
                double ll = 0;
                for (size_t k = 0; k < in.size(); ++k)
                    ll += curve_fit_at(in[k].stats, family, a + b * x[k], theta).loglik;
                return ll;
            },
            nullptr);
    };
    double b_hat = 0;
    double ll_trend = maximize(-b_max, b_max, 17, 12, at_slope, &b_hat);
    if (ll_common >= ll_trend) ll_trend = ll_common, b_hat = 0;
    r.trend_slope = b_hat;
    r.trend_lr = std::max(0.0, 2.0 * (ll_trend - ll_common) / phi);
    r.trend_p = chi2_sf(r.trend_lr, 1);
    // The 95% profile-likelihood interval: where 2 (ll_trend - ll(b)) / φ reaches χ²₁'s 0.95
    // quantile, by bisection on each side (the range's end where it never does).
    const double cut = ll_trend - 0.5 * phi * 3.841458820694124;
    auto edge = [&](double inside, double outside) {
        if (at_slope(outside) >= cut) return outside;
        for (int it = 0; it < 24; ++it) {
            double mid = 0.5 * (inside + outside);
            (at_slope(mid) >= cut ? inside : outside) = mid;
        }
        return 0.5 * (inside + outside);
    };
    r.trend_ci_low = edge(b_hat, -b_max);
    r.trend_ci_high = edge(b_hat, b_max);
}

// Everything but the stability refits. `ci_from` (a stability refit) gives the interval's
// offsets from η (and the gain's) instead of a bootstrap.
ThresholdResult threshold_core(const CurveData &d, const ThresholdOptions &opt,
                               const ThresholdResult *ci_from = nullptr) {
    ThresholdResult r;
    int64_t n = static_cast<int64_t>(d.loss.size());
    if (n == 0) {
        r.verdict = "inconclusive";
        r.reasons.push_back("no points in the window");
        return r;
    }
    r.window_lo = *std::min_element(d.loss.begin(), d.loss.end());
    r.window_hi = *std::max_element(d.loss.begin(), d.loss.end());
    double span = r.window_hi - r.window_lo;
    // An onset above the window needs a plateau known from elsewhere (chance): with a free
    // plateau nothing above the window pins it, and a rise that levels off inside the window
    // would fit with any plateau at all.
    double onset_lo = r.window_lo,
           onset_hi = r.window_hi + (d.plateau_free ? 0.0 : opt.onset_extension * span);

    CurveGroups groups = curve_groups_build(d.loss, std::max(span, 1e-12) * opt.group_width_frac);
    CurveStats stats = curve_stats(d, groups, {}, {});
    FamilySet set = fit_families(stats, onset_lo, onset_hi);
    r.threshold = set.fits[set.best];
    {
        FamilySet sm = fit_families(stats, r.window_hi, r.window_hi);
        r.smooth = sm.fits[sm.best];
    }
    r.flat = curve_fit_flat(stats);
    r.dispersion = d.binomial ? pearson_dispersion(d, r.threshold.params, r.threshold.k) : 1.0;
    double phi = r.dispersion, N = static_cast<double>(n);
    auto aic = [&](const CurveFit &f) { return -2.0 * f.loglik / phi + 2.0 * f.k; };
    auto bic = [&](const CurveFit &f) { return -2.0 * f.loglik / phi + f.k * std::log(N); };
    r.aic_threshold = aic(r.threshold), r.aic_smooth = aic(r.smooth), r.aic_flat = aic(r.flat);
    r.bic_threshold = bic(r.threshold), r.bic_smooth = bic(r.smooth), r.bic_flat = bic(r.flat);
    r.lr_vs_smooth = std::max(0.0, 2.0 * (r.threshold.loglik - r.smooth.loglik) / phi);
    r.p_vs_smooth = chi2_sf(r.lr_vs_smooth, 1);
    r.df_rise = r.threshold.k - r.flat.k;
    r.lr_rise = std::max(0.0, 2.0 * (r.threshold.loglik - r.flat.loglik) / phi);
    r.p_rise = chi2_sf(r.lr_rise, r.df_rise);
    const CurveParams &tp = r.threshold.params;
    r.gain_at_window_bottom = oriented_gain(tp, r.window_lo);
    r.rise_in_window = r.gain_at_window_bottom - oriented_gain(tp, r.window_hi);
    // η from the start of the rise (onset_refit), with the families' Akaike weights there (equal
    // parameter counts: likelihood ratios, quasi when overdispersed).
    const FamilySet start = onset_refit(stats, set, r.window_lo, onset_lo, onset_hi);
    r.eta = departure(start.fits[start.best].params, opt, r);
    double wsum = 0;
    r.families.resize(kCurveFamilyCount);
    for (int f = 0; f < kCurveFamilyCount; ++f) {
        FamilyFit &ff = r.families[f];
        ff.family = kCurveFamilies[f];
        ff.loglik = start.fits[f].loglik;
        ff.eta = departure(start.fits[f].params, opt, r);
        ff.aic_weight = std::exp((start.fits[f].loglik - start.fits[start.best].loglik) / phi);
        wsum += ff.aic_weight;
    }
    for (auto &ff : r.families) ff.aic_weight /= wsum;

    // Bootstrap: resample points (or whole runs) with replacement; proportions also redraw their
    // examples. Each resample refits every family; the resample's η is that of its best family,
    // so the interval carries the choice of shape as well as the sampling noise.
    const size_t B = ci_from ? 0 : static_cast<size_t>(std::max(opt.bootstrap, 0));
    std::vector<double> sel(B, std::nan("")), gains(B, std::nan(""));
    std::vector<std::vector<double>> fam(kCurveFamilyCount, std::vector<double>(B, std::nan("")));
    // Whole runs are resampled only when there are enough of them: with one run every replicate
    // is the same and with two half of them hold one run, so fewer runs fall back to checkpoints.
    const size_t runs_in_window =
        d.run.size() == d.loss.size() && !d.run.empty()
            ? static_cast<size_t>(*std::max_element(d.run.begin(), d.run.end())) + 1
            : 0;
    const bool by_runs = opt.bootstrap_runs && runs_in_window >= kMinBootstrapRuns;
    const size_t n_runs = by_runs ? runs_in_window : 0;
    r.bootstrap_unit = by_runs ? "run" : "checkpoint";
    auto replicate = [&](int64_t b0, int64_t b1) {
        std::vector<double> mult(static_cast<size_t>(n)), vals(static_cast<size_t>(n));
        std::vector<double> run_mult(n_runs);
        for (int64_t b = b0; b < b1; ++b) {
            Rng rng(opt.seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(b) + 1);
            std::fill(mult.begin(), mult.end(), 0.0);
            if (by_runs) {
                std::fill(run_mult.begin(), run_mult.end(), 0.0);
                for (size_t j = 0; j < run_mult.size(); ++j)
                    run_mult[rng.below(run_mult.size())] += 1;
                for (int64_t i = 0; i < n; ++i) mult[i] = run_mult[static_cast<size_t>(d.run[i])];
            } else {
                for (int64_t j = 0; j < n; ++j) mult[rng.below(static_cast<uint64_t>(n))] += 1;
            }
            for (int64_t i = 0; i < n; ++i) {
                vals[i] = d.value[i];
                if (d.binomial && mult[i] > 0) {
                    int64_t trials = static_cast<int64_t>(std::llround(mult[i] * d.n[i]));
                    double p = std::clamp(d.value[i], 0.0, 1.0);
                    vals[i] = static_cast<double>(binomial_sample(rng, trials, p)) /
                              static_cast<double>(trials);
                }
            }
            CurveStats s = curve_stats(d, groups, mult, vals);
            FamilySet fs = fit_families(s, onset_lo, onset_hi);
            FamilySet st = onset_refit(s, fs, r.window_lo, onset_lo, onset_hi);
            const size_t bi = static_cast<size_t>(b);
            for (int f = 0; f < kCurveFamilyCount; ++f)
                fam[f][bi] = departure(st.fits[f].params, opt, r);
            sel[bi] = fam[st.best][bi];
            gains[bi] = oriented_gain(fs.fits[fs.best].params, r.window_lo);
        }
    };
    if (opt.parallel)
        parallel_for(static_cast<int64_t>(B), replicate);
    else
        replicate(0, static_cast<int64_t>(B));
    r.bootstrap_done = static_cast<int64_t>(B);
    r.eta_ci_low = r.eta_ci_high = r.eta;
    r.gain_ci_low = r.gain_ci_high = r.gain_at_window_bottom;
    if (B > 0) {
        r.eta_ci_low = quantile(sel, 0.025);
        r.eta_ci_high = quantile(sel, 0.975);
        r.gain_ci_low = quantile(gains, 0.025);
        r.gain_ci_high = quantile(gains, 0.975);
        // A family the data cannot rule out widens the interval to its own.
        for (int f = 0; f < kCurveFamilyCount; ++f) {
            FamilyFit &ff = r.families[f];
            ff.eta_ci_low = quantile(fam[f], 0.025);
            ff.eta_ci_high = quantile(fam[f], 0.975);
            if (ff.aic_weight >= opt.family_weight_min) {
                r.eta_ci_low = std::min(r.eta_ci_low, ff.eta_ci_low);
                r.eta_ci_high = std::max(r.eta_ci_high, ff.eta_ci_high);
            }
        }
    } else if (ci_from) {
        r.eta_ci_low = r.eta + (ci_from->eta_ci_low - ci_from->eta);
        r.eta_ci_high = r.eta + (ci_from->eta_ci_high - ci_from->eta);
        r.gain_ci_low =
            r.gain_at_window_bottom + (ci_from->gain_ci_low - ci_from->gain_at_window_bottom);
        r.gain_ci_high =
            r.gain_at_window_bottom + (ci_from->gain_ci_high - ci_from->gain_at_window_bottom);
        for (auto &ff : r.families) ff.eta_ci_low = ff.eta_ci_high = ff.eta;
    } else {
        for (auto &ff : r.families) ff.eta_ci_low = ff.eta_ci_high = ff.eta;
    }
    const double plateau_ref = d.plateau_free ? tp.plateau : d.baseline;
    const double room = std::fabs(d.perfect - plateau_ref);
    r.gain_share =
        std::isfinite(d.perfect) && room > 0 ? r.gain_at_window_bottom / room : std::nan("");
    r.at_eta = stretch_at(d.loss, r.window_lo, r.window_hi, r.eta);
    plateau_test(d, r.eta, r.dispersion, r);
    double across =
        d.plateau_free ? r.plateau_excess * std::max(r.window_hi - r.eta, 0.0) : r.plateau_excess;
    r.plateau_effect =
        r.gain_at_window_bottom > 0 ? across / r.gain_at_window_bottom : std::nan("");
    r.at_ci_high = stretch_at(d.loss, r.window_lo, r.window_hi, r.eta_ci_high);
    r.shared_lr = r.shared_p = std::nan("");
    sizes_analyze(d, opt, stats, 0.5 * r.gain_at_window_bottom, onset_lo, onset_hi,
                  start.fits[start.best].params.family, ci_from == nullptr, r);
    verdict_decide(opt, n, r);
    qualify(opt, r);
    return r;
}

}  // namespace

CurveData curve_data_without_run(const CurveData &d, int32_t run) {
    std::vector<size_t> idx;
    for (size_t i = 0; i < d.loss.size(); ++i)
        if (d.run[i] != run) idx.push_back(i);
    return subset(d, idx);
}

ThresholdResult threshold_analyze(const CurveData &d, const ThresholdOptions &opt) {
    ThresholdResult r = threshold_core(d, opt);
    const int32_t runs = d.run.size() == d.loss.size() && !d.run.empty()
                             ? *std::max_element(d.run.begin(), d.run.end()) + 1
                             : 0;
    if (!opt.stability || runs < 3 || d.loss.empty()) return r;
    ThresholdOptions o = opt;
    std::vector<int> kept(static_cast<size_t>(runs), 0), inside(static_cast<size_t>(runs), 0);
    auto refit = [&](int64_t b, int64_t e) {
        for (int64_t k = b; k < e; ++k) {
            ThresholdResult x =
                threshold_core(curve_data_without_run(d, static_cast<int32_t>(k)), o, &r);
            kept[static_cast<size_t>(k)] = x.verdict == r.verdict;
            inside[static_cast<size_t>(k)] = x.eta >= r.eta_ci_low && x.eta <= r.eta_ci_high;
        }
    };
    o.parallel = false;
    if (opt.parallel)
        parallel_for(runs, refit);
    else
        refit(0, runs);
    Stability &st = r.stability;
    st.refits = runs;
    for (int32_t k = 0; k < runs; ++k) st.verdict_kept += kept[k], st.eta_kept += inside[k];
    st.verdict_kept /= runs, st.eta_kept /= runs;
    st.fragile = st.verdict_kept < opt.fragile_below;
    if (st.fragile)
        r.reasons.push_back(fmt::format(
            "fragile: {:.0f}% of the {} leave-one-run-out refits keep the verdict (need {:.0f}%)",
            100 * st.verdict_kept, runs, 100 * opt.fragile_below));
    return r;
}

}  // namespace em
