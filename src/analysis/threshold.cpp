// Threshold analysis and verdict of one task metric; see threshold.h and docs/analysis.md.
#include "analysis/threshold.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

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

ThresholdResult threshold_analyze(const CurveData &d, const ThresholdOptions &opt) {
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
    double onset_lo = r.window_lo, onset_hi = r.window_hi + opt.onset_extension * span;

    CurveGroups groups = curve_groups_build(d.loss, std::max(span, 1e-12) * opt.group_width_frac);
    CurveStats stats = curve_stats(d, groups, {}, {});
    r.threshold = curve_fit(stats, onset_lo, onset_hi);
    r.smooth = curve_fit(stats, r.window_hi, r.window_hi);
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
    r.gain_at_window_bottom = tp.sign * (tp.eval(r.window_lo) - tp.plateau);
    r.eta = tp.onset;

    // Bootstrap: resample points with replacement; proportions also redraw their examples.
    std::vector<double> etas(static_cast<size_t>(std::max(opt.bootstrap, 0)), std::nan(""));
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
            etas[static_cast<size_t>(b)] = curve_fit(s, onset_lo, onset_hi).params.onset;
        }
    };
    if (opt.parallel)
        parallel_for(static_cast<int64_t>(etas.size()), replicate);
    else
        replicate(0, static_cast<int64_t>(etas.size()));
    r.bootstrap_done = static_cast<int64_t>(etas.size());
    if (!etas.empty()) {
        r.eta_ci_low = quantile(etas, 0.025);
        r.eta_ci_high = quantile(etas, 0.975);
    } else {
        r.eta_ci_low = r.eta_ci_high = r.eta;
    }
    r.at_eta = stretch_at(d.loss, r.window_lo, r.window_hi, r.eta);
    plateau_test(d, r.eta, r.dispersion, r);
    double across =
        d.plateau_free ? r.plateau_excess * std::max(r.window_hi - r.eta, 0.0) : r.plateau_excess;
    r.plateau_effect =
        r.gain_at_window_bottom > 0 ? across / r.gain_at_window_bottom : std::nan("");
    r.at_ci_high = stretch_at(d.loss, r.window_lo, r.window_hi, r.eta_ci_high);
    verdict_decide(opt, n, r);
    return r;
}

}  // namespace em
