// The whole analysis of a points table into analysis.json; see analysis.h and docs/analysis.md.
#include "analysis/analysis.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <regex>
#include <set>

#include "analysis/metrics.h"
#include "analysis/stats.h"
#include "common/fileio.h"
#include "common/json_file.h"
#include "common/parallel.h"
#include "common/rng.h"

namespace em {
namespace {

// The isotonic curve against loss, reduced to the ends of its flat steps.
StepCurve step_curve(const IsotonicFit &fit) {
    StepCurve c;
    size_t n = fit.knot_x.size();
    for (size_t i = 0; i < n; ++i) {
        bool edge = i == 0 || i + 1 == n || fit.knot_y[i] != fit.knot_y[i - 1] ||
                    fit.knot_y[i] != fit.knot_y[i + 1];
        if (edge) c.x.push_back(fit.knot_x[i]), c.value.push_back(fit.knot_y[i]);
    }
    return c;
}

ModelFit model_fit(const CurveFit &f, double aic, double bic) {
    return {f.params, f.loglik, f.k, aic, bic, f.sigma};
}

SeriesCollapse series_collapse(const CollapseResult &c) {
    SeriesCollapse out;
    out.best_axis = c.best_axis;
    for (const auto &a : c.axes) {
        CollapseAxisResult x;
        x.axis = a.axis;
        x.r2 = a.r2, x.residual_var = a.residual_var;
        x.size_share = a.size_share, x.budget_share = a.budget_share;
        x.size_test = a.size_test, x.budget_test = a.budget_test;
        x.schedule_test = a.schedule_test;
        x.by_size = a.by_size, x.by_budget = a.by_budget;
        if (a.axis == "loss") x.curve = step_curve(a.fit);
        out.axes.push_back(std::move(x));
    }
    return out;
}

SeriesExtrapolation series_extrapolation(const ExtrapolationResult &e,
                                         const ExtrapolationOptions &o) {
    SeriesExtrapolation x;
    x.done = e.done;
    x.fit_frac = o.fit_frac;
    x.points_fit = e.n_fit, x.points_held_out = e.n_held;
    if (!e.done) return x;
    x.split_loss = e.split_loss;
    x.model = e.fit;
    x.rmse = e.rmse, x.mae = e.mae, x.mean_error = e.mean_error;
    x.frac_above_interval = e.frac_above, x.frac_below_interval = e.frac_below;
    x.p_above = e.p_above;
    x.exceeds_interval = e.exceeds;
    return x;
}

// The schedule of a run, from its name: a study's wsd-branch runs carry "-wsd" (docs/study.md).
double run_schedule(const std::string &run) {
    return run.find("-wsd") != std::string::npos ? 1.0 : 0.0;
}

// Run residuals at matched loss from the loss axis's monotone fit: the spread between replicate
// seeds of one (size, budget) and between sizes (result.h, SeedSpread).
SeedSpread seed_spread(const CollapseResult &col, const CollapseInput &in) {
    SeedSpread out;
    const CollapseAxis *axis = nullptr;
    for (const auto &a : col.axes)
        if (a.axis == "loss") axis = &a;
    if (!axis || in.run.size() != in.loss.size() || axis->fit.fitted.size() != in.loss.size())
        return out;
    out.size_p = axis->size_test.p;
    std::map<int32_t, std::pair<double, double>> run_sum;  // run -> (sum, count)
    std::map<int32_t, std::pair<double, double>> run_key;  // run -> (params, tokens)
    for (size_t i = 0; i < in.loss.size(); ++i) {
        auto &rs = run_sum[in.run[i]];
        rs.first += in.value[i] - axis->fit.fitted[i], rs.second += 1;
        run_key[in.run[i]] = {in.params[i], in.tokens[i]};
    }
    std::map<std::pair<double, double>, std::vector<double>> cell;  // (params, tokens) -> run means
    std::map<double, std::vector<double>> by_size;
    for (const auto &[run, rs] : run_sum) {
        double m = rs.first / rs.second;
        cell[run_key[run]].push_back(m);
        by_size[run_key[run].first].push_back(m);
    }
    double ss = 0, df = 0;
    for (const auto &[key, means] : cell) {
        if (means.size() < 2) continue;
        ++out.replicate_groups;
        double mean = 0;
        for (double m : means) mean += m;
        mean /= static_cast<double>(means.size());
        for (double m : means) ss += (m - mean) * (m - mean);
        df += static_cast<double>(means.size()) - 1;
    }
    if (df > 0) out.seed_sd = std::sqrt(ss / df);
    if (by_size.size() >= 2) {
        std::vector<double> size_means;
        for (const auto &[params, means] : by_size) {
            double m = 0;
            for (double v : means) m += v;
            size_means.push_back(m / static_cast<double>(means.size()));
        }
        double grand = 0, var = 0;
        for (double m : size_means) grand += m;
        grand /= static_cast<double>(size_means.size());
        for (double m : size_means) var += (m - grand) * (m - grand);
        out.size_sd = std::sqrt(var / static_cast<double>(size_means.size() - 1));
    }
    return out;
}

struct Series {
    std::vector<const Point *> pts;
    SeriesResult out;
};

void series_analyze(Series &s, const AnalysisOptions &opt) {
    MetricInfo info = metric_info(s.out.metric);
    double baseline = s.pts.front()->baseline;
    CurveData d;
    d.sign = info.higher_is_better ? 1.0 : -1.0;
    // A proportion whose baseline is 0 (exact match on generated answers) has no chance level: a
    // model that is not at all capable still gets an item right now and then, so its plateau is
    // estimated, like that of metrics without a baseline.
    const bool no_chance_level = info.proportion && info.higher_is_better && baseline <= 0;
    d.plateau_free = std::isnan(baseline) || no_chance_level || !info.has_chance_value;
    d.baseline = d.plateau_free ? 0.0 : baseline;
    bool counts = info.proportion && !std::isnan(baseline);
    CollapseInput ci;
    ci.sign = d.sign;
    d.perfect = info.perfect;
    std::set<std::string> runs;
    std::map<std::string, int32_t> run_index;
    std::map<double, int32_t> size_index;
    for (const Point *p : s.pts) size_index.emplace(p->params, 0);
    for (auto &[params, id] : size_index) {
        id = static_cast<int32_t>(d.size_params.size());
        d.size_params.push_back(params);
    }
    for (const Point *p : s.pts) {
        d.size.push_back(size_index[p->params]);
        d.run.push_back(
            run_index.emplace(p->run, static_cast<int32_t>(run_index.size())).first->second);
        ci.run.push_back(d.run.back());
        d.loss.push_back(p->loss);
        d.value.push_back(p->value);
        d.n.push_back(static_cast<double>(p->n));
        counts = counts && p->n > 0 && p->value >= 0 && p->value <= 1;
        ci.loss.push_back(p->loss), ci.value.push_back(p->value), ci.params.push_back(p->params);
        ci.tokens.push_back(p->tokens), ci.tokens_seen.push_back(p->tokens_seen);
        ci.schedule.push_back(run_schedule(p->run));
        runs.insert(p->run);
    }
    d.binomial = counts;
    std::string key = s.out.task + "\x1f" + s.out.metric;
    uint64_t seed =
        hash_fnv1a(key.data(), key.size(), opt.seed * 0x100000001B3ULL + 0xcbf29ce484222325ULL);

    ThresholdOptions to = opt.threshold;
    to.seed = seed;
    to.parallel = false;
    ThresholdResult t = threshold_analyze(d, to);
    double rs = spearman(d.value, d.loss), rp = pearson(d.value, d.loss);
    int64_t n = static_cast<int64_t>(d.loss.size());
    CollapseOptions co = opt.collapse;
    co.seed = seed ^ 0xC0FFEEULL;
    CollapseResult col = collapse_analyze(ci, co);
    ExtrapolationOptions eo = opt.extrapolation;
    eo.seed = seed ^ 0xE7ULL;
    ExtrapolationResult ex = extrapolation_analyze(d, t.window_lo, t.window_hi, eo);

    SeriesResult &r = s.out;
    r.n_points = n;
    r.n_runs = static_cast<int64_t>(runs.size());
    r.baseline = baseline;
    r.higher_is_better = info.higher_is_better;
    r.continuous = !info.proportion;
    r.likelihood = d.binomial ? "binomial" : "gaussian";
    r.loss_lo = t.window_lo, r.loss_hi = t.window_hi;
    r.spearman = rs, r.spearman_p = correlation_p_value(rs, n);
    r.pearson = rp, r.pearson_p = correlation_p_value(rp, n);
    r.verdict = t.verdict;
    r.reasons = t.reasons;
    bool has_threshold =
        t.verdict == "emergent" || (t.verdict == "inconclusive" && n >= to.min_points);
    if (has_threshold && std::isfinite(t.eta))
        r.threshold = ThresholdLoss{t.eta, t.eta_ci_low, t.eta_ci_high};
    r.eta = {t.eta, t.eta_ci_low, t.eta_ci_high, t.bootstrap_done, t.bootstrap_unit};
    r.families = t.families;
    r.gain = {t.gain_at_window_bottom, t.gain_ci_low, t.gain_ci_high, t.gain_share,
              t.rise_in_window};
    r.sizes = {t.sizes,     t.shared_lr,   t.shared_p,     t.shared_df,     t.shared_dispersion,
               t.qualifier, t.trend_slope, t.trend_ci_low, t.trend_ci_high, t.trend_lr,
               t.trend_p};
    r.stability = t.stability;
    r.seed_spread = seed_spread(col, ci);
    r.threshold_model = model_fit(t.threshold, t.aic_threshold, t.bic_threshold);
    r.smooth_model = model_fit(t.smooth, t.aic_smooth, t.bic_smooth);
    r.flat_model = model_fit(t.flat, t.aic_flat, t.bic_flat);
    r.tests.dispersion = t.dispersion;
    r.tests.threshold_vs_smooth = {t.lr_vs_smooth, 1, t.p_vs_smooth};
    r.tests.rise = {t.lr_rise, t.df_rise, t.p_rise};
    r.tests.plateau = {t.plateau_test,   t.plateau_points, t.plateau_excess,
                       t.plateau_effect, t.plateau_stat,   t.plateau_p};
    r.tests.gain_at_window_bottom = t.gain_at_window_bottom;
    r.stretch_at_eta = t.at_eta, r.stretch_at_ci_high = t.at_ci_high;
    r.collapse = series_collapse(col);
    r.extrapolation = series_extrapolation(ex, eo);
}

// Per task: does each other metric's η agree (intervals overlap) with the discontinuous one's?
std::vector<ContinuousAgreement> continuous_agreement(const std::vector<SeriesResult> &series) {
    std::map<std::string, std::vector<const SeriesResult *>> by_task;
    for (const auto &s : series) by_task[s.task].push_back(&s);
    static const char *const preference[] = {"acc", "acc_norm", "len_norm", "exact_match", "em"};
    std::vector<ContinuousAgreement> out;
    for (const auto &[task, list] : by_task) {
        const SeriesResult *ref = nullptr;
        for (const char *m : preference)
            for (const SeriesResult *s : list)
                if (!ref && s->metric == m) ref = s;
        for (const SeriesResult *s : list)
            if (!ref && !s->continuous) ref = s;
        bool any_continuous = false;
        for (const SeriesResult *s : list) any_continuous |= s->continuous;
        if (!ref || !any_continuous) continue;
        ContinuousAgreement a;
        a.task = task;
        a.reference = {ref->metric,       false,           ref->verdict,
                       ref->eta.estimate, ref->eta.ci_low, ref->eta.ci_high};
        bool all_overlap = true, all_same = true;
        for (const SeriesResult *s : list) {
            if (s == ref) continue;
            bool overlap = s->eta.ci_low <= ref->eta.ci_high && ref->eta.ci_low <= s->eta.ci_high;
            if (s->continuous) {
                all_overlap = all_overlap && overlap;
                all_same = all_same && s->verdict == ref->verdict;
            }
            a.comparisons.push_back({s->metric, s->continuous, s->verdict, s->eta.estimate,
                                     s->eta.ci_low, s->eta.ci_high, overlap,
                                     s->verdict == ref->verdict});
        }
        a.intervals_agree = all_overlap, a.verdicts_agree = all_same;
        out.push_back(std::move(a));
    }
    return out;
}

struct Checkpoint {
    std::string run;
    double params, tokens, tokens_seen, loss;
    int64_t step;
    bool in_window;
};

}  // namespace

Result<AnalysisResult> analysis_run(const std::vector<Point> &points, const AnalysisOptions &opt) {
    if (points.empty())
        return Status::error("analysis: the points table is empty; evaluate or import first");
    if (!(opt.window_frac >= 0 && opt.window_frac <= 1))
        return Status::error(fmt::format(
            "analysis: window fraction {} is outside [0, 1]; pass e.g. --window-frac 0.1",
            opt.window_frac));
    if (opt.loss_min > opt.loss_max)
        return Status::error(
            fmt::format("analysis: --loss-min {} is above --loss-max {}; swap them", opt.loss_min,
                        opt.loss_max));
    std::regex filter;
    if (!opt.task_filter.empty()) {
        try {
            filter = std::regex(opt.task_filter, std::regex::ECMAScript);
        } catch (const std::regex_error &e) {
            return Status::error("analysis: task filter '" + opt.task_filter +
                                 "' is not a valid regular expression (" + e.what() +
                                 "); fix the pattern");
        }
    }
    AnalysisResult out;
    AnalysisWindow &window = out.window;
    window.tokens_frac = opt.window_frac;
    window.loss_min = opt.loss_min;
    window.loss_max = opt.loss_max;

    // Checkpoints (one per run and step) and the series of the window.
    std::map<std::pair<std::string, int64_t>, Checkpoint> ckpts;
    std::map<std::pair<std::string, std::string>, Series> by_key;
    for (const Point &p : points) {
        bool w = window.contains(p);
        ckpts.emplace(std::make_pair(p.run, p.step),
                      Checkpoint{p.run, p.params, p.tokens, p.tokens_seen, p.loss, p.step, w});
        if (!w) continue;
        if (!opt.task_filter.empty() && !std::regex_search(p.task, filter)) continue;
        Series &s = by_key[{p.task, p.metric}];
        s.out.task = p.task, s.out.metric = p.metric;
        s.pts.push_back(&p);
    }
    int64_t n_window = 0;
    double lo = INFINITY, hi = -INFINITY;
    for (const auto &[k, c] : ckpts)
        if (c.in_window) ++n_window, lo = std::min(lo, c.loss), hi = std::max(hi, c.loss);
    if (by_key.empty())
        return Status::error(fmt::format(
            "analysis: no points fall in the window (tokens_seen >= {} x tokens, loss in [{}, "
            "{}]){}; lower "
            "--window-frac or widen --loss-min/--loss-max",
            opt.window_frac, opt.loss_min, opt.loss_max,
            opt.task_filter.empty() ? "" : " for tasks matching '" + opt.task_filter + "'"));
    window.checkpoints_total = static_cast<int64_t>(ckpts.size());
    window.checkpoints_in_window = n_window;
    window.loss_lo = lo, window.loss_hi = hi;

    std::vector<Series> series;
    for (auto &[k, s] : by_key) series.push_back(std::move(s));
    auto work = [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) series_analyze(series[static_cast<size_t>(i)], opt);
    };
    if (opt.parallel)
        parallel_for(static_cast<int64_t>(series.size()), work);
    else
        work(0, static_cast<int64_t>(series.size()));

    // Tasks that already improve while an emergent one sits at chance.
    for (auto &s : series) {
        if (s.out.verdict != "emergent") continue;
        std::set<std::string> others;
        for (const auto &o : series)
            if (o.out.task != s.out.task && o.out.verdict == "smooth" &&
                o.out.spearman_p < opt.threshold.alpha)
                others.insert(o.out.task);
        s.out.other_tasks_improving = std::vector<std::string>(others.begin(), others.end());
    }

    for (auto &s : series) {
        out.summary.verdicts[s.out.verdict] += 1;
        if (s.out.verdict == "emergent")
            out.summary.emergent.push_back(s.out.task + "/" + s.out.metric);
        out.results.push_back(std::move(s.out));
    }
    out.summary.series = static_cast<int64_t>(out.results.size());

    // Runs and their final checkpoints.
    std::map<std::string, const Checkpoint *> final_ckpt;
    std::map<std::string, std::pair<int64_t, int64_t>> run_counts;
    for (const auto &[k, c] : ckpts) {
        auto &f = final_ckpt[c.run];
        if (!f || c.step > f->step) f = &c;
        run_counts[c.run].first += 1;
        run_counts[c.run].second += c.in_window ? 1 : 0;
    }
    double max_tokens = 0;
    for (const auto &[run, c] : final_ckpt) {
        out.runs.push_back({run, c->params, c->tokens, run_counts[run].first,
                            run_counts[run].second, c->step, c->tokens_seen, c->loss});
        max_tokens = std::max(max_tokens, c->tokens);
    }

    // Scaling law on final losses. They need several sizes and several budgets; runs that all
    // share one budget (a suite trained on the same tokens) fall back to every window checkpoint.
    std::vector<const Checkpoint *> law_pts;
    bool all_points = opt.law_all_points;
    std::set<double> final_N, final_D;
    for (const auto &[run, c] : final_ckpt)
        final_N.insert(c->params), final_D.insert(c->tokens_seen);
    std::string law_note;
    if (!all_points && (final_ckpt.size() < 5 || final_N.size() < 2 || final_D.size() < 2)) {
        all_points = true;
        law_note = fmt::format(
            "final losses alone cannot fit the law ({} runs, {} distinct token counts): "
            "fitted on every window checkpoint",
            final_ckpt.size(), final_D.size());
    }
    if (all_points) {
        for (const auto &[k, c] : ckpts)
            if (c.in_window) law_pts.push_back(&c);
    } else {
        for (const auto &[run, c] : final_ckpt) law_pts.push_back(c);
    }
    std::vector<double> N, D, L;
    for (const Checkpoint *c : law_pts)
        N.push_back(c->params), D.push_back(c->tokens_seen), L.push_back(c->loss);
    ScalingLawOptions lo_opt = opt.law;
    lo_opt.seed = opt.seed ^ 0x5CA1EULL;
    lo_opt.parallel = opt.parallel;
    ScalingLawResult &law_out = out.scaling_law;
    ScalingLaw &law = law_out.fit;
    law = scaling_law_fit(N, D, L, lo_opt);
    if (!law_note.empty()) law.note = law.note.empty() ? law_note : law_note + "; " + law.note;
    law_out.points = all_points ? "all" : "final";
    law_out.huber_delta = opt.law.huber_delta;
    if (law.ok)
        for (const Checkpoint *c : law_pts)
            law_out.observed.push_back({c->run, c->step, c->params, c->tokens_seen, c->loss,
                                        law.predict(c->params, c->tokens_seen)});

    // Model size each emergent threshold needs.
    double target_D = opt.target_tokens > 0 ? opt.target_tokens : max_tokens;
    for (const auto &s : out.results) {
        if (s.verdict != "emergent" || !law.ok) continue;
        EmergenceSize e;
        e.task = s.task, e.metric = s.metric;
        e.eta = s.eta.estimate;
        e.eta_ci = {s.eta.ci_low, s.eta.ci_high};
        e.tokens = target_D, e.tokens_per_param = opt.tokens_per_param;
        if (!(e.eta > law.E)) {
            e.note = fmt::format(
                "eta {:.4g} is at or below the law's irreducible loss E {:.4g}: no size reaches it",
                e.eta, law.E);
        } else {
            e.params_needed = law.params_for_loss(e.eta, target_D);
            // A lower threshold needs a larger model: the interval's low end gives the high size.
            e.params_needed_range = Interval{law.params_for_loss(e.eta_ci.hi, target_D),
                                             law.params_for_loss(e.eta_ci.lo, target_D)};
            e.params_needed_at_ratio = law.params_for_loss_at_ratio(e.eta, opt.tokens_per_param);
            if (!std::isfinite(e.params_needed))
                e.note = "unreachable at this token budget: the data term alone exceeds eta - E";
        }
        out.emergence_sizes.push_back(std::move(e));
    }

    AnalysisSettings &o = out.options;
    o.bootstrap = opt.threshold.bootstrap;
    o.bootstrap_unit = opt.threshold.bootstrap_runs ? "run" : "checkpoint";
    o.alpha = opt.threshold.alpha;
    o.plateau_alpha = opt.threshold.plateau_alpha;
    o.plateau_min_effect = opt.threshold.plateau_min_effect;
    o.min_span_frac = opt.threshold.min_span_frac;
    o.min_points_frac = opt.threshold.min_points_frac;
    o.min_stretch_points = opt.threshold.min_stretch_points;
    o.min_points = opt.threshold.min_points;
    o.onset_extension = opt.threshold.onset_extension;
    o.permutations = opt.collapse.permutations;
    o.collapse_bins = opt.collapse.bins;
    o.extrapolation_fit_frac = opt.extrapolation.fit_frac;
    o.seed = opt.seed;
    o.task_filter = opt.task_filter;
    out.continuous_agreement = continuous_agreement(out.results);
    return out;
}

std::string analysis_summary_format(const AnalysisResult &a) {
    auto f = [](double v) {
        return std::isfinite(v) ? fmt::format("{:.3f}", v) : std::string("-");
    };
    auto r2 = [&](const SeriesResult &r, const char *axis) {
        const CollapseAxisResult *x = r.collapse_axis(axis);
        return x ? f(x->r2) : std::string("-");
    };
    auto g = [](double v) {
        return std::isfinite(v) ? fmt::format("{:.3g}", v) : std::string("-");
    };
    size_t w = 4;
    for (const auto &r : a.results) w = std::max(w, r.task.size() + r.metric.size() + 1);
    const char *row =
        "{:<{}}  {:>6}  {:<18}  {:<14}  {:<22}  {:<24}  {:>6}  {:>6}  {:>8}  {:>7}  {:>7}  {:>7}\n";
    std::string s = fmt::format(fmt::runtime(row), "task/metric", w, "points", "verdict",
                                "threshold", "eta [95% interval]", "gain [95% interval]", "sizes",
                                "stable", "spearman", "R2 loss", "R2 comp", "R2 tok");
    for (const auto &r : a.results) {
        std::string eta = "-";
        if (r.threshold)
            eta = fmt::format("{} [{}, {}]", f(r.threshold->loss), f(r.threshold->ci_low),
                              f(r.threshold->ci_high));
        std::string gain = r.verdict == "never_above_chance"
                               ? "-"
                               : fmt::format("{} [{}, {}]", g(r.gain.estimate), g(r.gain.ci_low),
                                             g(r.gain.ci_high));
        int rising = 0, reaching = 0;
        for (const SizeEta &e : r.sizes.per_size) rising += e.rises, reaching += e.reaches;
        std::string sizes =
            r.sizes.per_size.empty() ? "-" : fmt::format("{}/{}", rising, r.sizes.per_size.size());
        std::string stable = r.stability.refits > 0
                                 ? fmt::format("{:.0f}%{}", 100 * r.stability.verdict_kept,
                                               r.stability.fragile ? "!" : "")
                                 : "-";
        s += fmt::format(fmt::runtime(row), r.task + "/" + r.metric, w, r.n_points, r.verdict,
                         r.sizes.qualifier.empty() ? "-" : r.sizes.qualifier, eta, gain, sizes,
                         stable, f(r.spearman), r2(r, "loss"), r2(r, "log_compute"),
                         r2(r, "log_tokens"));
    }
    s += "sizes: sizes that rise below eta / sizes; stable: share of leave-one-run-out refits that "
         "keep the verdict (! below the fragile mark)\n";
    const ScalingLaw &law = a.scaling_law.fit;
    if (law.ok)
        s += fmt::format(
            "scaling law ({} {} points): E {:.4g}  A {:.4g}  B {:.4g}  alpha {:.4g}  beta {:.4g}\n",
            law.n, a.scaling_law.points, law.E, law.A, law.B, law.alpha, law.beta);
    else
        s += "scaling law not fitted: " + law.note + "\n";
    return s;
}

Status analysis_write(const std::string &points_path, const std::string &out_dir,
                      const AnalysisOptions &opt) {
    EM_ASSIGN_OR_RETURN(std::vector<Point> pts, points_read(points_path));
    EM_ASSIGN_OR_RETURN(AnalysisResult a, analysis_run(pts, opt));
    EM_TRY(dir_create(out_dir));
    return file_write_atomic(out_dir + "/analysis.json", analysis_to_json(a).dump(1) + "\n");
}

Result<AnalysisResult> analysis_read(const std::string &path) {
    EM_ASSIGN_OR_RETURN(std::string text, file_read(path));
    EM_ASSIGN_OR_RETURN(nlohmann::json j,
                        json_parse_located(text, path, "regenerate it with `emergence analyze`"));
    return analysis_from_json(j, path);
}

}  // namespace em
