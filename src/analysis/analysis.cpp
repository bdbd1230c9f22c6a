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

using json = nlohmann::json;

constexpr int kAnalysisVersion = 1;

json num(double v) {
    return std::isfinite(v) ? json(v) : json(nullptr);
}

json model_json(const CurveFit &f, double aic, double bic) {
    return {{"plateau", num(f.params.plateau)},
            {"onset", num(f.params.onset)},
            {"amplitude", num(f.params.amplitude)},
            {"exponent", num(f.params.exponent)},
            {"sign", f.params.sign},
            {"loglik", num(f.loglik)},
            {"k", f.k},
            {"aic", num(aic)},
            {"bic", num(bic)},
            {"sigma", num(f.sigma)}};
}

json stretch_json(const Stretch &s) {
    return {{"onset", num(s.onset)},
            {"points", s.n_points},
            {"frac_points", num(s.frac_points)},
            {"frac_span", num(s.frac_span)}};
}

json perm_json(const PermutationTest &t) {
    return {{"stat", num(t.stat)},
            {"effect", num(t.effect)},
            {"p", num(t.p)},
            {"bins", t.bins},
            {"unit", t.unit}};
}

json groups_json(const std::vector<GroupResidual> &g, const char *key) {
    json a = json::array();
    for (const auto &r : g) a.push_back({{key, r.key}, {"n", r.n}, {"mean_residual", num(r.mean)}});
    return a;
}

// The isotonic curve against loss, reduced to the ends of its flat steps.
json curve_json(const IsotonicFit &fit) {
    json xs = json::array(), ys = json::array();
    size_t n = fit.knot_x.size();
    for (size_t i = 0; i < n; ++i) {
        bool edge = i == 0 || i + 1 == n || fit.knot_y[i] != fit.knot_y[i - 1] ||
                    fit.knot_y[i] != fit.knot_y[i + 1];
        if (edge) xs.push_back(fit.knot_x[i]), ys.push_back(fit.knot_y[i]);
    }
    return {{"x", xs}, {"value", ys}};
}

json collapse_json(const CollapseResult &c) {
    json axes = json::array();
    for (const auto &a : c.axes) {
        json j = {{"axis", a.axis},
                  {"r2", num(a.r2)},
                  {"residual_var", num(a.residual_var)},
                  {"size_share", num(a.size_share)},
                  {"budget_share", num(a.budget_share)},
                  {"size_test", perm_json(a.size_test)},
                  {"budget_test", perm_json(a.budget_test)},
                  {"by_size", groups_json(a.by_size, "params")},
                  {"by_budget", groups_json(a.by_budget, "tokens")}};
        if (a.axis == "loss") j["curve"] = curve_json(a.fit);
        axes.push_back(std::move(j));
    }
    return {{"best_axis", c.best_axis}, {"axes", axes}};
}

json extrapolation_json(const ExtrapolationResult &e, const ExtrapolationOptions &o) {
    if (!e.done)
        return {{"done", false},
                {"fit_frac", o.fit_frac},
                {"points_fit", e.n_fit},
                {"points_held_out", e.n_held}};
    return {{"done", true},
            {"fit_frac", o.fit_frac},
            {"split_loss", num(e.split_loss)},
            {"points_fit", e.n_fit},
            {"points_held_out", e.n_held},
            {"model",
             {{"plateau", num(e.fit.plateau)},
              {"onset", num(e.fit.onset)},
              {"amplitude", num(e.fit.amplitude)},
              {"exponent", num(e.fit.exponent)},
              {"sign", e.fit.sign}}},
            {"rmse", num(e.rmse)},
            {"mae", num(e.mae)},
            {"mean_error", num(e.mean_error)},
            {"frac_above_interval", num(e.frac_above)},
            {"frac_below_interval", num(e.frac_below)},
            {"p_above", num(e.p_above)},
            {"exceeds_interval", e.exceeds}};
}

struct Series {
    std::string task, metric;
    std::vector<const Point *> pts;
    json out;
    std::string verdict;
    double eta = 0, ci_lo = 0, ci_hi = 0;
    bool continuous = false, proportion = false;
    double spearman_p = 1;
};

void series_analyze(Series &s, const AnalysisOptions &opt) {
    MetricInfo info = metric_info(s.metric);
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
    std::set<std::string> runs;
    std::map<std::string, int32_t> run_index;
    for (const Point *p : s.pts) {
        d.run.push_back(
            run_index.emplace(p->run, static_cast<int32_t>(run_index.size())).first->second);
        ci.run.push_back(d.run.back());
        d.loss.push_back(p->loss);
        d.value.push_back(p->value);
        d.n.push_back(static_cast<double>(p->n));
        counts = counts && p->n > 0 && p->value >= 0 && p->value <= 1;
        ci.loss.push_back(p->loss), ci.value.push_back(p->value), ci.params.push_back(p->params);
        ci.tokens.push_back(p->tokens), ci.tokens_seen.push_back(p->tokens_seen);
        runs.insert(p->run);
    }
    d.binomial = counts;
    std::string key = s.task + "\x1f" + s.metric;
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

    s.verdict = t.verdict;
    s.eta = t.eta, s.ci_lo = t.eta_ci_low, s.ci_hi = t.eta_ci_high;
    s.continuous = !info.proportion;
    s.proportion = info.proportion;
    s.spearman_p = correlation_p_value(rs, n);
    bool has_threshold =
        t.verdict == "emergent" || (t.verdict == "inconclusive" && n >= to.min_points);
    json thr =
        has_threshold && std::isfinite(t.eta)
            ? json{{"loss", t.eta}, {"ci_low", num(t.eta_ci_low)}, {"ci_high", num(t.eta_ci_high)}}
            : json(nullptr);
    s.out = {
        {"task", s.task},
        {"metric", s.metric},
        {"n_points", n},
        {"n_runs", runs.size()},
        {"baseline", num(baseline)},
        {"higher_is_better", info.higher_is_better},
        {"continuous", !info.proportion},
        {"likelihood", d.binomial ? "binomial" : "gaussian"},
        {"loss_range", {num(t.window_lo), num(t.window_hi)}},
        {"spearman", num(rs)},
        {"spearman_p", num(s.spearman_p)},
        {"pearson", num(rp)},
        {"pearson_p", num(correlation_p_value(rp, n))},
        {"verdict", t.verdict},
        {"reasons", t.reasons},
        {"threshold", thr},
        {"eta",
         {{"estimate", num(t.eta)},
          {"ci_low", num(t.eta_ci_low)},
          {"ci_high", num(t.eta_ci_high)},
          {"bootstrap", t.bootstrap_done},
          {"bootstrap_unit", t.bootstrap_unit}}},
        {"models",
         {{"threshold", model_json(t.threshold, t.aic_threshold, t.bic_threshold)},
          {"smooth", model_json(t.smooth, t.aic_smooth, t.bic_smooth)},
          {"flat", model_json(t.flat, t.aic_flat, t.bic_flat)}}},
        {"tests",
         {{"dispersion", num(t.dispersion)},
          {"threshold_vs_smooth",
           {{"lr", num(t.lr_vs_smooth)}, {"df", 1}, {"p", num(t.p_vs_smooth)}}},
          {"rise", {{"lr", num(t.lr_rise)}, {"df", t.df_rise}, {"p", num(t.p_rise)}}},
          {"plateau",
           {{"test", t.plateau_test},
            {"points", t.plateau_points},
            {"excess", num(t.plateau_excess)},
            {"effect", num(t.plateau_effect)},
            {"stat", num(t.plateau_stat)},
            {"p", num(t.plateau_p)}}},
          {"gain_at_window_bottom", num(t.gain_at_window_bottom)}}},
        {"stretch",
         {{"at_eta", stretch_json(t.at_eta)}, {"at_ci_high", stretch_json(t.at_ci_high)}}},
        {"collapse", collapse_json(col)},
        {"extrapolation", extrapolation_json(ex, eo)},
    };
}

// Per task: does each other metric's η agree (intervals overlap) with the discontinuous one's?
json continuous_agreement(const std::vector<Series> &series) {
    std::map<std::string, std::vector<const Series *>> by_task;
    for (const auto &s : series) by_task[s.task].push_back(&s);
    static const char *const preference[] = {"acc", "acc_norm", "len_norm", "exact_match", "em"};
    json out = json::array();
    for (const auto &[task, list] : by_task) {
        const Series *ref = nullptr;
        for (const char *m : preference)
            for (const Series *s : list)
                if (!ref && s->metric == m) ref = s;
        for (const Series *s : list)
            if (!ref && s->proportion) ref = s;
        bool any_continuous = false;
        for (const Series *s : list) any_continuous |= s->continuous;
        if (!ref || !any_continuous) continue;
        json comps = json::array();
        bool all_overlap = true, all_same = true;
        for (const Series *s : list) {
            if (s == ref) continue;
            bool overlap = s->ci_lo <= ref->ci_hi && ref->ci_lo <= s->ci_hi;
            if (s->continuous) {
                all_overlap = all_overlap && overlap;
                all_same = all_same && s->verdict == ref->verdict;
            }
            comps.push_back({{"metric", s->metric},
                             {"continuous", s->continuous},
                             {"verdict", s->verdict},
                             {"eta", num(s->eta)},
                             {"ci_low", num(s->ci_lo)},
                             {"ci_high", num(s->ci_hi)},
                             {"overlap", overlap},
                             {"same_verdict", s->verdict == ref->verdict}});
        }
        out.push_back({{"task", task},
                       {"reference",
                        {{"metric", ref->metric},
                         {"verdict", ref->verdict},
                         {"eta", num(ref->eta)},
                         {"ci_low", num(ref->ci_lo)},
                         {"ci_high", num(ref->ci_hi)}}},
                       {"comparisons", comps},
                       {"intervals_agree", all_overlap},
                       {"verdicts_agree", all_same}});
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

CurveParams analysis_curve_params(const json &m) {
    CurveParams p;
    auto get = [&](const char *k, double def) {
        return m.contains(k) && m[k].is_number() ? m[k].get<double>() : def;
    };
    p.plateau = get("plateau", 0);
    p.onset = get("onset", 0);
    p.amplitude = get("amplitude", 0);
    p.exponent = get("exponent", 1);
    p.sign = get("sign", 1);
    return p;
}

Result<json> analysis_run(const std::vector<Point> &points, const AnalysisOptions &opt) {
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
    auto in_window = [&](const Point &p) {
        return p.tokens_seen >= opt.window_frac * p.tokens && p.loss >= opt.loss_min &&
               p.loss <= opt.loss_max;
    };

    // Checkpoints (one per run and step) and the series of the window.
    std::map<std::pair<std::string, int64_t>, Checkpoint> ckpts;
    std::map<std::pair<std::string, std::string>, Series> by_key;
    for (const Point &p : points) {
        bool w = in_window(p);
        ckpts.emplace(std::make_pair(p.run, p.step),
                      Checkpoint{p.run, p.params, p.tokens, p.tokens_seen, p.loss, p.step, w});
        if (!w) continue;
        if (!opt.task_filter.empty() && !std::regex_search(p.task, filter)) continue;
        Series &s = by_key[{p.task, p.metric}];
        s.task = p.task, s.metric = p.metric;
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
        if (s.verdict != "emergent") continue;
        std::set<std::string> others;
        for (const auto &o : series)
            if (o.task != s.task && o.verdict == "smooth" && o.spearman_p < opt.threshold.alpha)
                others.insert(o.task);
        s.out["other_tasks_improving"] = others;
    }

    json results = json::array();
    std::map<std::string, int64_t> counts;
    json emergent = json::array();
    for (const auto &s : series) {
        results.push_back(s.out);
        counts[s.verdict] += 1;
        if (s.verdict == "emergent") emergent.push_back(s.task + "/" + s.metric);
    }

    // Runs and their final checkpoints.
    std::map<std::string, const Checkpoint *> final_ckpt;
    std::map<std::string, std::pair<int64_t, int64_t>> run_counts;
    for (const auto &[k, c] : ckpts) {
        auto &f = final_ckpt[c.run];
        if (!f || c.step > f->step) f = &c;
        run_counts[c.run].first += 1;
        run_counts[c.run].second += c.in_window ? 1 : 0;
    }
    json runs = json::array();
    double max_tokens = 0;
    for (const auto &[run, c] : final_ckpt) {
        runs.push_back({{"run", run},
                        {"params", c->params},
                        {"tokens", c->tokens},
                        {"checkpoints", run_counts[run].first},
                        {"in_window", run_counts[run].second},
                        {"final_step", c->step},
                        {"final_tokens_seen", c->tokens_seen},
                        {"final_loss", c->loss}});
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
    ScalingLaw law = scaling_law_fit(N, D, L, lo_opt);
    if (!law_note.empty()) law.note = law.note.empty() ? law_note : law_note + "; " + law.note;
    auto ci_json = [](const Interval &i) { return json{num(i.lo), num(i.hi)}; };
    json law_json = {{"ok", law.ok},
                     {"note", law.note},
                     {"points", all_points ? "all" : "final"},
                     {"n", law.n},
                     {"huber_delta", opt.law.huber_delta}};
    if (law.ok) {
        json observed = json::array();
        for (const Checkpoint *c : law_pts)
            observed.push_back({{"run", c->run},
                                {"step", c->step},
                                {"params", c->params},
                                {"tokens_seen", c->tokens_seen},
                                {"loss", c->loss},
                                {"predicted", law.predict(c->params, c->tokens_seen)}});
        law_json.update({{"E", law.E},
                         {"A", law.A},
                         {"B", law.B},
                         {"alpha", law.alpha},
                         {"beta", law.beta},
                         {"E_ci", ci_json(law.E_ci)},
                         {"A_ci", ci_json(law.A_ci)},
                         {"B_ci", ci_json(law.B_ci)},
                         {"alpha_ci", ci_json(law.alpha_ci)},
                         {"beta_ci", ci_json(law.beta_ci)},
                         {"objective", law.objective},
                         {"bootstrap", law.bootstrap_done},
                         {"observed", observed}});
    }

    // Model size each emergent threshold needs.
    double target_D = opt.target_tokens > 0 ? opt.target_tokens : max_tokens;
    json sizes = json::array();
    for (const auto &s : series) {
        if (s.verdict != "emergent" || !law.ok) continue;
        json e = {{"task", s.task},     {"metric", s.metric},
                  {"eta", s.eta},       {"eta_ci", {num(s.ci_lo), num(s.ci_hi)}},
                  {"tokens", target_D}, {"tokens_per_param", opt.tokens_per_param}};
        if (!(s.eta > law.E)) {
            e["params_needed"] = nullptr;
            e["note"] = fmt::format(
                "eta {:.4g} is at or below the law's irreducible loss E {:.4g}: no size reaches it",
                s.eta, law.E);
        } else {
            e["params_needed"] = num(law.params_for_loss(s.eta, target_D));
            // A lower threshold needs a larger model: the interval's low end gives the high size.
            e["params_needed_range"] = {num(law.params_for_loss(s.ci_hi, target_D)),
                                        num(law.params_for_loss(s.ci_lo, target_D))};
            e["params_needed_at_ratio"] =
                num(law.params_for_loss_at_ratio(s.eta, opt.tokens_per_param));
            if (!std::isfinite(law.params_for_loss(s.eta, target_D)))
                e["note"] = "unreachable at this token budget: the data term alone exceeds eta - E";
        }
        sizes.push_back(std::move(e));
    }

    json verdict_counts = json::object();
    for (const auto &[v, c] : counts) verdict_counts[v] = c;
    json out = {
        {"format", "emergence-analysis"},
        {"version", kAnalysisVersion},
        {"window",
         {{"tokens_frac", opt.window_frac},
          {"loss_min", num(opt.loss_min)},
          {"loss_max", num(opt.loss_max)},
          {"checkpoints_total", ckpts.size()},
          {"checkpoints_in_window", n_window},
          {"loss_lo", num(lo)},
          {"loss_hi", num(hi)}}},
        {"options",
         {{"bootstrap", opt.threshold.bootstrap},
          {"bootstrap_unit", opt.threshold.bootstrap_runs ? "run" : "checkpoint"},
          {"alpha", opt.threshold.alpha},
          {"plateau_alpha", opt.threshold.plateau_alpha},
          {"plateau_min_effect", opt.threshold.plateau_min_effect},
          {"min_span_frac", opt.threshold.min_span_frac},
          {"min_points_frac", opt.threshold.min_points_frac},
          {"min_stretch_points", opt.threshold.min_stretch_points},
          {"min_points", opt.threshold.min_points},
          {"onset_extension", opt.threshold.onset_extension},
          {"permutations", opt.collapse.permutations},
          {"collapse_bins", opt.collapse.bins},
          {"extrapolation_fit_frac", opt.extrapolation.fit_frac},
          {"seed", opt.seed},
          {"task_filter", opt.task_filter}}},
        {"summary",
         {{"series", series.size()}, {"verdicts", verdict_counts}, {"emergent", emergent}}},
        {"runs", runs},
        {"results", results},
        {"continuous_agreement", continuous_agreement(series)},
        {"scaling_law", law_json},
        {"emergence_sizes", sizes},
    };
    return out;
}

std::string analysis_summary_format(const json &a) {
    auto f = [](const json &j, const char *k) {
        return j.contains(k) && j[k].is_number() ? fmt::format("{:.3f}", j[k].get<double>())
                                                 : std::string("-");
    };
    size_t w = 4;
    for (const auto &r : a["results"])
        w = std::max(w, r.value("task", "").size() + r.value("metric", "").size() + 1);
    std::string s =
        fmt::format("{:<{}}  {:>6}  {:<18}  {:<22}  {:>8}  {:>8}  {:>7}  {:>7}  {:>7}\n",
                    "task/metric", w, "points", "verdict", "eta [95% interval]", "spearman",
                    "pearson", "R2 loss", "R2 comp", "R2 par");
    for (const auto &r : a["results"]) {
        std::string eta = "-";
        if (r["threshold"].is_object())
            eta = fmt::format("{} [{}, {}]", f(r["threshold"], "loss"), f(r["threshold"], "ci_low"),
                              f(r["threshold"], "ci_high"));
        std::map<std::string, json> ax;
        for (const auto &x : r["collapse"]["axes"]) ax[x.value("axis", "")] = x;
        s += fmt::format("{:<{}}  {:>6}  {:<18}  {:<22}  {:>8}  {:>8}  {:>7}  {:>7}  {:>7}\n",
                         r.value("task", "") + "/" + r.value("metric", ""), w,
                         r.value("n_points", int64_t{0}), r.value("verdict", ""), eta,
                         f(r, "spearman"), f(r, "pearson"), f(ax["loss"], "r2"),
                         f(ax["log_compute"], "r2"), f(ax["log_params"], "r2"));
    }
    const json &law = a["scaling_law"];
    if (law.value("ok", false))
        s += fmt::format(
            "scaling law ({} {} points): E {:.4g}  A {:.4g}  B {:.4g}  alpha {:.4g}  beta {:.4g}\n",
            law.value("n", int64_t{0}), law.value("points", std::string()), law.value("E", 0.0),
            law.value("A", 0.0), law.value("B", 0.0), law.value("alpha", 0.0),
            law.value("beta", 0.0));
    else
        s += "scaling law not fitted: " + law.value("note", std::string()) + "\n";
    return s;
}

Status analysis_write(const std::string &points_path, const std::string &out_dir,
                      const AnalysisOptions &opt) {
    EM_ASSIGN_OR_RETURN(std::vector<Point> pts, points_read(points_path));
    EM_ASSIGN_OR_RETURN(json a, analysis_run(pts, opt));
    EM_TRY(dir_create(out_dir));
    return file_write_atomic(out_dir + "/analysis.json", a.dump(1) + "\n");
}

Result<json> analysis_read(const std::string &path) {
    EM_ASSIGN_OR_RETURN(std::string text, file_read(path));
    EM_ASSIGN_OR_RETURN(json j,
                        json_parse_located(text, path, "regenerate it with `emergence analyze`"));
    if (!j.is_object() || j.value("format", "") != "emergence-analysis")
        return Status::error(
            path +
            ": not an analysis file (no \"format\": \"emergence-analysis\"); pass the "
            "analysis.json written by `emergence analyze`");
    if (j.value("version", 0) != kAnalysisVersion)
        return Status::error(
            fmt::format("{}: analysis version {} is not supported (expected {}); rerun "
                        "`emergence analyze`",
                        path, j.value("version", 0), kAnalysisVersion));
    if (!j.contains("results") || !j["results"].is_array())
        return Status::error(path +
                             ": no \"results\" array; regenerate it with `emergence analyze`");
    return j;
}

}  // namespace em
