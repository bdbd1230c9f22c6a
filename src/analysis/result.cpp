// analysis.json to and from the types of result.h: the one writer and the one strict reader.
#include "analysis/result.h"

#include <fmt/format.h>

#include <cmath>

namespace em {
namespace {

using json = nlohmann::json;

json num(double v) {
    return std::isfinite(v) ? json(v) : json(nullptr);
}

json pair_json(double lo, double hi) {
    return json::array({num(lo), num(hi)});
}

json curve_params_json(const CurveParams &p) {
    return {{"plateau", num(p.plateau)},     {"onset", num(p.onset)},
            {"amplitude", num(p.amplitude)}, {"exponent", num(p.exponent)},
            {"sign", num(p.sign)},           {"family", curve_family_name(p.family)},
            {"scale", num(p.scale)}};
}

json model_json(const ModelFit &f) {
    json j = curve_params_json(f.params);
    j.update({{"loglik", num(f.loglik)},
              {"k", f.k},
              {"aic", num(f.aic)},
              {"bic", num(f.bic)},
              {"sigma", num(f.sigma)}});
    return j;
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
    for (const auto &r : g)
        a.push_back({{key, num(r.key)}, {"n", r.n}, {"mean_residual", num(r.mean)}});
    return a;
}

json collapse_json(const SeriesCollapse &c) {
    json axes = json::array();
    for (const auto &a : c.axes) {
        json j = {{"axis", a.axis},
                  {"r2", num(a.r2)},
                  {"residual_var", num(a.residual_var)},
                  {"size_share", num(a.size_share)},
                  {"budget_share", num(a.budget_share)},
                  {"size_test", perm_json(a.size_test)},
                  {"budget_test", perm_json(a.budget_test)},
                  {"schedule_test", perm_json(a.schedule_test)},
                  {"by_size", groups_json(a.by_size, "params")},
                  {"by_budget", groups_json(a.by_budget, "tokens")}};
        if (a.curve) {
            json xs = json::array(), ys = json::array();
            for (double x : a.curve->x) xs.push_back(num(x));
            for (double y : a.curve->value) ys.push_back(num(y));
            j["curve"] = {{"x", xs}, {"value", ys}};
        }
        axes.push_back(std::move(j));
    }
    return {{"best_axis", c.best_axis}, {"axes", axes}};
}

json extrapolation_json(const SeriesExtrapolation &e) {
    json j = {{"done", e.done},
              {"fit_frac", num(e.fit_frac)},
              {"points_fit", e.points_fit},
              {"points_held_out", e.points_held_out}};
    if (!e.done) return j;
    j.update({{"split_loss", num(e.split_loss)},
              {"model", curve_params_json(e.model)},
              {"rmse", num(e.rmse)},
              {"mae", num(e.mae)},
              {"mean_error", num(e.mean_error)},
              {"frac_above_interval", num(e.frac_above_interval)},
              {"frac_below_interval", num(e.frac_below_interval)},
              {"p_above", num(e.p_above)},
              {"exceeds_interval", e.exceeds_interval}});
    return j;
}

json families_json(const std::vector<FamilyFit> &fs) {
    json a = json::array();
    for (const FamilyFit &f : fs)
        a.push_back({{"family", curve_family_name(f.family)},
                     {"loglik", num(f.loglik)},
                     {"aic_weight", num(f.aic_weight)},
                     {"eta", num(f.eta)},
                     {"ci_low", num(f.eta_ci_low)},
                     {"ci_high", num(f.eta_ci_high)}});
    return a;
}

json sizes_json(const SizeThresholds &t) {
    json a = json::array();
    for (const SizeEta &e : t.per_size)
        a.push_back({{"params", num(e.params)},
                     {"points", e.points},
                     {"loss_lo", num(e.loss_lo)},
                     {"eta", num(e.eta)},
                     {"lr_rise", num(e.lr_rise)},
                     {"p_rise", num(e.p_rise)},
                     {"reaches", e.reaches},
                     {"rises", e.rises}});
    return {{"per_size", a},
            {"lr", num(t.lr)},
            {"df", t.df},
            {"p", num(t.p)},
            {"dispersion", num(t.dispersion)},
            {"qualifier", t.qualifier},
            {"trend",
             {{"slope", num(t.trend_slope)},
              {"ci_low", num(t.trend_ci_low)},
              {"ci_high", num(t.trend_ci_high)},
              {"lr", num(t.trend_lr)},
              {"p", num(t.trend_p)}}}};
}

json series_json(const SeriesResult &s) {
    json thr = s.threshold ? json{{"loss", num(s.threshold->loss)},
                                  {"ci_low", num(s.threshold->ci_low)},
                                  {"ci_high", num(s.threshold->ci_high)}}
                           : json(nullptr);
    const SeriesTests &t = s.tests;
    json j = {
        {"task", s.task},
        {"metric", s.metric},
        {"n_points", s.n_points},
        {"n_runs", s.n_runs},
        {"baseline", num(s.baseline)},
        {"higher_is_better", s.higher_is_better},
        {"continuous", s.continuous},
        {"likelihood", s.likelihood},
        {"loss_range", pair_json(s.loss_lo, s.loss_hi)},
        {"spearman", num(s.spearman)},
        {"spearman_p", num(s.spearman_p)},
        {"pearson", num(s.pearson)},
        {"pearson_p", num(s.pearson_p)},
        {"verdict", s.verdict},
        {"reasons", s.reasons},
        {"threshold", thr},
        {"eta",
         {{"estimate", num(s.eta.estimate)},
          {"ci_low", num(s.eta.ci_low)},
          {"ci_high", num(s.eta.ci_high)},
          {"bootstrap", s.eta.bootstrap},
          {"bootstrap_unit", s.eta.bootstrap_unit}}},
        {"models",
         {{"threshold", model_json(s.threshold_model)},
          {"smooth", model_json(s.smooth_model)},
          {"flat", model_json(s.flat_model)}}},
        {"tests",
         {{"dispersion", num(t.dispersion)},
          {"threshold_vs_smooth",
           {{"lr", num(t.threshold_vs_smooth.lr)},
            {"df", t.threshold_vs_smooth.df},
            {"p", num(t.threshold_vs_smooth.p)}}},
          {"rise", {{"lr", num(t.rise.lr)}, {"df", t.rise.df}, {"p", num(t.rise.p)}}},
          {"plateau",
           {{"test", t.plateau.test},
            {"points", t.plateau.points},
            {"excess", num(t.plateau.excess)},
            {"effect", num(t.plateau.effect)},
            {"stat", num(t.plateau.stat)},
            {"p", num(t.plateau.p)}}},
          {"gain_at_window_bottom", num(t.gain_at_window_bottom)}}},
        {"stretch",
         {{"at_eta", stretch_json(s.stretch_at_eta)},
          {"at_ci_high", stretch_json(s.stretch_at_ci_high)}}},
        {"gain",
         {{"estimate", num(s.gain.estimate)},
          {"ci_low", num(s.gain.ci_low)},
          {"ci_high", num(s.gain.ci_high)},
          {"share", num(s.gain.share)},
          {"in_window", num(s.gain.in_window)}}},
        {"families", families_json(s.families)},
        {"sizes", sizes_json(s.sizes)},
        {"stability",
         {{"refits", s.stability.refits},
          {"verdict_kept", num(s.stability.verdict_kept)},
          {"eta_kept", num(s.stability.eta_kept)},
          {"fragile", s.stability.fragile}}},
        {"seed_spread",
         {{"replicate_groups", s.seed_spread.replicate_groups},
          {"seed_sd", num(s.seed_spread.seed_sd)},
          {"size_sd", num(s.seed_spread.size_sd)},
          {"size_p", num(s.seed_spread.size_p)}}},
        {"collapse", collapse_json(s.collapse)},
        {"extrapolation", extrapolation_json(s.extrapolation)},
    };
    if (s.other_tasks_improving) j["other_tasks_improving"] = *s.other_tasks_improving;
    return j;
}

json metric_eta_json(const MetricEta &m, bool comparison) {
    json j = {{"metric", m.metric},
              {"verdict", m.verdict},
              {"eta", num(m.eta)},
              {"ci_low", num(m.ci_low)},
              {"ci_high", num(m.ci_high)}};
    if (comparison)
        j.update({{"continuous", m.continuous},
                  {"overlap", m.overlap},
                  {"same_verdict", m.same_verdict}});
    return j;
}

json law_json(const ScalingLawResult &r) {
    const ScalingLaw &law = r.fit;
    json j = {{"ok", law.ok},
              {"note", law.note},
              {"points", r.points},
              {"n", law.n},
              {"huber_delta", num(r.huber_delta)}};
    if (!law.ok) return j;
    json observed = json::array();
    for (const LawPoint &o : r.observed)
        observed.push_back({{"run", o.run},
                            {"step", o.step},
                            {"params", num(o.params)},
                            {"tokens_seen", num(o.tokens_seen)},
                            {"loss", num(o.loss)},
                            {"predicted", num(o.predicted)}});
    auto ci = [](const Interval &i) { return pair_json(i.lo, i.hi); };
    j.update({{"E", num(law.E)},
              {"A", num(law.A)},
              {"B", num(law.B)},
              {"alpha", num(law.alpha)},
              {"beta", num(law.beta)},
              {"E_ci", ci(law.E_ci)},
              {"A_ci", ci(law.A_ci)},
              {"B_ci", ci(law.B_ci)},
              {"alpha_ci", ci(law.alpha_ci)},
              {"beta_ci", ci(law.beta_ci)},
              {"objective", num(law.objective)},
              {"bootstrap", law.bootstrap_done},
              {"observed", observed}});
    return j;
}

json size_json(const EmergenceSize &e) {
    json j = {{"task", e.task},
              {"metric", e.metric},
              {"eta", num(e.eta)},
              {"eta_ci", pair_json(e.eta_ci.lo, e.eta_ci.hi)},
              {"tokens", num(e.tokens)},
              {"tokens_per_param", num(e.tokens_per_param)},
              {"params_needed", num(e.params_needed)}};
    if (e.params_needed_range)
        j["params_needed_range"] = pair_json(e.params_needed_range->lo, e.params_needed_range->hi);
    if (e.params_needed_at_ratio) j["params_needed_at_ratio"] = num(*e.params_needed_at_ratio);
    if (e.note) j["note"] = *e.note;
    return j;
}

// The strict reader. Each accessor names the key it reads by its path from the top
// ("results[3].collapse.axes[0].r2"); the first problem is kept and later reads return defaults.
class Reader {
  public:
    explicit Reader(std::string source) : source_(std::move(source)) {}
    const std::string &error() const { return error_; }

    // The member `key` of object `j` (found at `at`), or nullptr after recording why not.
    const json *get(const json &j, const std::string &at, const char *key) {
        if (!error_.empty()) return nullptr;
        std::string path = at.empty() ? key : at + "." + key;
        if (!j.is_object() || !j.contains(key)) {
            fail(path, "is missing");
            return nullptr;
        }
        return &j[key];
    }
    // A number, or null for an undefined one (NaN, or `null_as` where null means "no bound").
    double number(const json &j, const std::string &at, const char *key,
                  double null_as = kUndefined) {
        const json *v = get(j, at, key);
        return v ? number_of(*v, join(at, key), null_as) : kUndefined;
    }
    double number_of(const json &v, const std::string &path, double null_as = kUndefined) {
        if (v.is_null()) return null_as;
        if (!v.is_number()) return mistyped(path, v, "a number or null"), kUndefined;
        return v.get<double>();
    }
    int64_t integer(const json &j, const std::string &at, const char *key) {
        const json *v = get(j, at, key);
        if (!v) return 0;
        if (!v->is_number_integer()) return mistyped(join(at, key), *v, "an integer"), 0;
        return v->get<int64_t>();
    }
    uint64_t unsigned_integer(const json &j, const std::string &at, const char *key) {
        const json *v = get(j, at, key);
        if (!v) return 0;
        if (!v->is_number_unsigned())
            return mistyped(join(at, key), *v, "a non-negative integer"), 0;
        return v->get<uint64_t>();
    }
    bool boolean(const json &j, const std::string &at, const char *key) {
        const json *v = get(j, at, key);
        if (!v) return false;
        if (!v->is_boolean()) return mistyped(join(at, key), *v, "true or false"), false;
        return v->get<bool>();
    }
    std::string string(const json &j, const std::string &at, const char *key) {
        const json *v = get(j, at, key);
        if (!v) return {};
        if (!v->is_string()) return mistyped(join(at, key), *v, "a string"), std::string();
        return v->get<std::string>();
    }
    std::vector<std::string> strings(const json &j, const std::string &at, const char *key) {
        std::vector<std::string> out;
        const json *a = array(j, at, key);
        if (!a) return out;
        for (size_t i = 0; i < a->size(); ++i) {
            const json &v = (*a)[i];
            if (!v.is_string()) return mistyped(index(join(at, key), i), v, "a string"), out;
            out.push_back(v.get<std::string>());
        }
        return out;
    }
    // Members that are themselves objects or arrays.
    const json *object(const json &j, const std::string &at, const char *key) {
        const json *v = get(j, at, key);
        if (v && !v->is_object()) return mistyped(join(at, key), *v, "an object"), nullptr;
        return v;
    }
    const json *array(const json &j, const std::string &at, const char *key) {
        const json *v = get(j, at, key);
        if (v && !v->is_array()) return mistyped(join(at, key), *v, "an array"), nullptr;
        return v;
    }
    // [lo, hi] of two numbers (or nulls).
    Interval pair(const json &j, const std::string &at, const char *key) {
        Interval out{kUndefined, kUndefined};
        const json *v = get(j, at, key);
        if (!v) return out;
        std::string path = join(at, key);
        if (!v->is_array() || v->size() != 2)
            return mistyped(path, *v, "an array of two numbers"), out;
        out.lo = number_of((*v)[0], index(path, 0));
        out.hi = number_of((*v)[1], index(path, 1));
        return out;
    }

    static std::string join(const std::string &at, const char *key) {
        return at.empty() ? std::string(key) : at + "." + key;
    }
    static std::string index(const std::string &at, size_t i) {
        return fmt::format("{}[{}]", at, i);
    }

    // Records that the value at `path` is not one of the values the key allows.
    void invalid(const std::string &path, const std::string &value) {
        fail(path, fmt::format("has the unknown value \"{}\"", value));
    }

  private:
    void fail(const std::string &path, const std::string &what) {
        if (error_.empty())
            error_ = fmt::format(
                "{}: key \"{}\" {}; regenerate it with `emergence analyze` (the schema is "
                "src/analysis/result.h)",
                source_, path, what);
    }
    void mistyped(const std::string &path, const json &v, const char *want) {
        fail(path, fmt::format("is {}, expected {}", v.type_name(), want));
    }

    std::string source_;
    std::string error_;
};

CurveParams curve_params_read(Reader &in, const json &j, const std::string &at) {
    CurveParams p;
    p.plateau = in.number(j, at, "plateau");
    p.onset = in.number(j, at, "onset");
    p.amplitude = in.number(j, at, "amplitude");
    p.exponent = in.number(j, at, "exponent");
    p.sign = in.number(j, at, "sign");
    std::string family = in.string(j, at, "family");
    if (!curve_family_parse(family, p.family)) in.invalid(Reader::join(at, "family"), family);
    p.scale = in.number(j, at, "scale");
    return p;
}

ModelFit model_read(Reader &in, const json &j, const std::string &at) {
    ModelFit f;
    f.params = curve_params_read(in, j, at);
    f.loglik = in.number(j, at, "loglik");
    f.k = in.integer(j, at, "k");
    f.aic = in.number(j, at, "aic");
    f.bic = in.number(j, at, "bic");
    f.sigma = in.number(j, at, "sigma");
    return f;
}

Stretch stretch_read(Reader &in, const json &j, const std::string &at) {
    Stretch s;
    s.onset = in.number(j, at, "onset");
    s.n_points = in.integer(j, at, "points");
    s.frac_points = in.number(j, at, "frac_points");
    s.frac_span = in.number(j, at, "frac_span");
    return s;
}

PermutationTest perm_read(Reader &in, const json &j, const std::string &at) {
    PermutationTest t;
    t.stat = in.number(j, at, "stat");
    t.effect = in.number(j, at, "effect");
    t.p = in.number(j, at, "p");
    t.bins = in.integer(j, at, "bins");
    t.unit = in.string(j, at, "unit");
    return t;
}

std::vector<GroupResidual> groups_read(Reader &in, const json &j, const std::string &at,
                                       const char *name, const char *key) {
    std::vector<GroupResidual> out;
    const json *a = in.array(j, at, name);
    if (!a) return out;
    std::string path = Reader::join(at, name);
    for (size_t i = 0; i < a->size(); ++i) {
        std::string p = Reader::index(path, i);
        const json &g = (*a)[i];
        out.push_back(
            {in.number(g, p, key), in.integer(g, p, "n"), in.number(g, p, "mean_residual")});
    }
    return out;
}

std::vector<double> numbers_read(Reader &in, const json &j, const std::string &at,
                                 const char *key) {
    std::vector<double> out;
    const json *a = in.array(j, at, key);
    if (!a) return out;
    std::string path = Reader::join(at, key);
    for (size_t i = 0; i < a->size(); ++i)
        out.push_back(in.number_of((*a)[i], Reader::index(path, i)));
    return out;
}

SeriesCollapse collapse_read(Reader &in, const json &j, const std::string &at) {
    SeriesCollapse c;
    c.best_axis = in.string(j, at, "best_axis");
    const json *axes = in.array(j, at, "axes");
    if (!axes) return c;
    for (size_t i = 0; i < axes->size(); ++i) {
        std::string p = Reader::index(Reader::join(at, "axes"), i);
        const json &x = (*axes)[i];
        CollapseAxisResult a;
        a.axis = in.string(x, p, "axis");
        a.r2 = in.number(x, p, "r2");
        a.residual_var = in.number(x, p, "residual_var");
        a.size_share = in.number(x, p, "size_share");
        a.budget_share = in.number(x, p, "budget_share");
        if (const json *t = in.object(x, p, "size_test"))
            a.size_test = perm_read(in, *t, Reader::join(p, "size_test"));
        if (const json *t = in.object(x, p, "budget_test"))
            a.budget_test = perm_read(in, *t, Reader::join(p, "budget_test"));
        if (const json *t = in.object(x, p, "schedule_test"))
            a.schedule_test = perm_read(in, *t, Reader::join(p, "schedule_test"));
        a.by_size = groups_read(in, x, p, "by_size", "params");
        a.by_budget = groups_read(in, x, p, "by_budget", "tokens");
        if (x.is_object() && x.contains("curve")) {
            const json *cv = in.object(x, p, "curve");
            if (cv) {
                std::string cp = Reader::join(p, "curve");
                a.curve =
                    StepCurve{numbers_read(in, *cv, cp, "x"), numbers_read(in, *cv, cp, "value")};
            }
        }
        c.axes.push_back(std::move(a));
    }
    return c;
}

SeriesExtrapolation extrapolation_read(Reader &in, const json &j, const std::string &at) {
    SeriesExtrapolation e;
    e.done = in.boolean(j, at, "done");
    e.fit_frac = in.number(j, at, "fit_frac");
    e.points_fit = in.integer(j, at, "points_fit");
    e.points_held_out = in.integer(j, at, "points_held_out");
    if (!e.done) return e;
    e.split_loss = in.number(j, at, "split_loss");
    if (const json *m = in.object(j, at, "model"))
        e.model = curve_params_read(in, *m, Reader::join(at, "model"));
    e.rmse = in.number(j, at, "rmse");
    e.mae = in.number(j, at, "mae");
    e.mean_error = in.number(j, at, "mean_error");
    e.frac_above_interval = in.number(j, at, "frac_above_interval");
    e.frac_below_interval = in.number(j, at, "frac_below_interval");
    e.p_above = in.number(j, at, "p_above");
    e.exceeds_interval = in.boolean(j, at, "exceeds_interval");
    return e;
}

SeriesResult series_read(Reader &in, const json &j, const std::string &at) {
    SeriesResult s;
    s.task = in.string(j, at, "task");
    s.metric = in.string(j, at, "metric");
    s.n_points = in.integer(j, at, "n_points");
    s.n_runs = in.integer(j, at, "n_runs");
    s.baseline = in.number(j, at, "baseline");
    s.higher_is_better = in.boolean(j, at, "higher_is_better");
    s.continuous = in.boolean(j, at, "continuous");
    s.likelihood = in.string(j, at, "likelihood");
    Interval range = in.pair(j, at, "loss_range");
    s.loss_lo = range.lo, s.loss_hi = range.hi;
    s.spearman = in.number(j, at, "spearman");
    s.spearman_p = in.number(j, at, "spearman_p");
    s.pearson = in.number(j, at, "pearson");
    s.pearson_p = in.number(j, at, "pearson_p");
    s.verdict = in.string(j, at, "verdict");
    s.reasons = in.strings(j, at, "reasons");
    if (const json *t = in.get(j, at, "threshold"); t && !t->is_null()) {
        std::string p = Reader::join(at, "threshold");
        if (!t->is_object()) {
            in.object(j, at, "threshold");  // records the type error
        } else {
            s.threshold = ThresholdLoss{in.number(*t, p, "loss"), in.number(*t, p, "ci_low"),
                                        in.number(*t, p, "ci_high")};
        }
    }
    if (const json *e = in.object(j, at, "eta")) {
        std::string p = Reader::join(at, "eta");
        s.eta.estimate = in.number(*e, p, "estimate");
        s.eta.ci_low = in.number(*e, p, "ci_low");
        s.eta.ci_high = in.number(*e, p, "ci_high");
        s.eta.bootstrap = in.integer(*e, p, "bootstrap");
        s.eta.bootstrap_unit = in.string(*e, p, "bootstrap_unit");
    }
    if (const json *m = in.object(j, at, "models")) {
        std::string p = Reader::join(at, "models");
        if (const json *f = in.object(*m, p, "threshold"))
            s.threshold_model = model_read(in, *f, Reader::join(p, "threshold"));
        if (const json *f = in.object(*m, p, "smooth"))
            s.smooth_model = model_read(in, *f, Reader::join(p, "smooth"));
        if (const json *f = in.object(*m, p, "flat"))
            s.flat_model = model_read(in, *f, Reader::join(p, "flat"));
    }
    if (const json *t = in.object(j, at, "tests")) {
        std::string p = Reader::join(at, "tests");
        SeriesTests &x = s.tests;
        x.dispersion = in.number(*t, p, "dispersion");
        auto lr = [&](const char *key, LrTest &out) {
            if (const json *v = in.object(*t, p, key)) {
                std::string q = Reader::join(p, key);
                out = {in.number(*v, q, "lr"), in.integer(*v, q, "df"), in.number(*v, q, "p")};
            }
        };
        lr("threshold_vs_smooth", x.threshold_vs_smooth);
        lr("rise", x.rise);
        if (const json *v = in.object(*t, p, "plateau")) {
            std::string q = Reader::join(p, "plateau");
            x.plateau.test = in.string(*v, q, "test");
            x.plateau.points = in.integer(*v, q, "points");
            x.plateau.excess = in.number(*v, q, "excess");
            x.plateau.effect = in.number(*v, q, "effect");
            x.plateau.stat = in.number(*v, q, "stat");
            x.plateau.p = in.number(*v, q, "p");
        }
        x.gain_at_window_bottom = in.number(*t, p, "gain_at_window_bottom");
    }
    if (const json *st = in.object(j, at, "stretch")) {
        std::string p = Reader::join(at, "stretch");
        if (const json *v = in.object(*st, p, "at_eta"))
            s.stretch_at_eta = stretch_read(in, *v, Reader::join(p, "at_eta"));
        if (const json *v = in.object(*st, p, "at_ci_high"))
            s.stretch_at_ci_high = stretch_read(in, *v, Reader::join(p, "at_ci_high"));
    }
    if (const json *g = in.object(j, at, "gain")) {
        std::string p = Reader::join(at, "gain");
        s.gain = {in.number(*g, p, "estimate"), in.number(*g, p, "ci_low"),
                  in.number(*g, p, "ci_high"), in.number(*g, p, "share"),
                  in.number(*g, p, "in_window")};
    }
    if (const json *a = in.array(j, at, "families")) {
        std::string p = Reader::join(at, "families");
        for (size_t i = 0; i < a->size(); ++i) {
            const json &f = (*a)[i];
            std::string q = Reader::index(p, i);
            FamilyFit x;
            std::string name = in.string(f, q, "family");
            if (!curve_family_parse(name, x.family)) in.invalid(Reader::join(q, "family"), name);
            x.loglik = in.number(f, q, "loglik");
            x.aic_weight = in.number(f, q, "aic_weight");
            x.eta = in.number(f, q, "eta");
            x.eta_ci_low = in.number(f, q, "ci_low");
            x.eta_ci_high = in.number(f, q, "ci_high");
            s.families.push_back(x);
        }
    }
    if (const json *z = in.object(j, at, "sizes")) {
        std::string p = Reader::join(at, "sizes");
        if (const json *a = in.array(*z, p, "per_size")) {
            std::string pp = Reader::join(p, "per_size");
            for (size_t i = 0; i < a->size(); ++i) {
                const json &e = (*a)[i];
                std::string q = Reader::index(pp, i);
                SizeEta x;
                x.params = in.number(e, q, "params");
                x.points = in.integer(e, q, "points");
                x.loss_lo = in.number(e, q, "loss_lo");
                x.eta = in.number(e, q, "eta");
                x.lr_rise = in.number(e, q, "lr_rise");
                x.p_rise = in.number(e, q, "p_rise");
                x.reaches = in.boolean(e, q, "reaches");
                x.rises = in.boolean(e, q, "rises");
                s.sizes.per_size.push_back(x);
            }
        }
        s.sizes.lr = in.number(*z, p, "lr");
        s.sizes.df = in.integer(*z, p, "df");
        s.sizes.p = in.number(*z, p, "p");
        s.sizes.dispersion = in.number(*z, p, "dispersion");
        s.sizes.qualifier = in.string(*z, p, "qualifier");
        if (const json *t = in.object(*z, p, "trend")) {
            std::string q = Reader::join(p, "trend");
            s.sizes.trend_slope = in.number(*t, q, "slope");
            s.sizes.trend_ci_low = in.number(*t, q, "ci_low");
            s.sizes.trend_ci_high = in.number(*t, q, "ci_high");
            s.sizes.trend_lr = in.number(*t, q, "lr");
            s.sizes.trend_p = in.number(*t, q, "p");
        }
    }
    if (const json *v = in.object(j, at, "stability")) {
        std::string p = Reader::join(at, "stability");
        s.stability.refits = in.integer(*v, p, "refits");
        s.stability.verdict_kept = in.number(*v, p, "verdict_kept");
        s.stability.eta_kept = in.number(*v, p, "eta_kept");
        s.stability.fragile = in.boolean(*v, p, "fragile");
    }
    if (const json *v = in.object(j, at, "seed_spread")) {
        std::string p = Reader::join(at, "seed_spread");
        s.seed_spread.replicate_groups = in.integer(*v, p, "replicate_groups");
        s.seed_spread.seed_sd = in.number(*v, p, "seed_sd");
        s.seed_spread.size_sd = in.number(*v, p, "size_sd");
        s.seed_spread.size_p = in.number(*v, p, "size_p");
    }
    if (const json *c = in.object(j, at, "collapse"))
        s.collapse = collapse_read(in, *c, Reader::join(at, "collapse"));
    if (const json *e = in.object(j, at, "extrapolation"))
        s.extrapolation = extrapolation_read(in, *e, Reader::join(at, "extrapolation"));
    if (j.is_object() && j.contains("other_tasks_improving"))
        s.other_tasks_improving = in.strings(j, at, "other_tasks_improving");
    return s;
}

MetricEta metric_eta_read(Reader &in, const json &j, const std::string &at, bool comparison) {
    MetricEta m;
    m.metric = in.string(j, at, "metric");
    m.verdict = in.string(j, at, "verdict");
    m.eta = in.number(j, at, "eta");
    m.ci_low = in.number(j, at, "ci_low");
    m.ci_high = in.number(j, at, "ci_high");
    if (comparison) {
        m.continuous = in.boolean(j, at, "continuous");
        m.overlap = in.boolean(j, at, "overlap");
        m.same_verdict = in.boolean(j, at, "same_verdict");
    }
    return m;
}

ScalingLawResult law_read(Reader &in, const json &j, const std::string &at) {
    ScalingLawResult r;
    ScalingLaw &law = r.fit;
    law.ok = in.boolean(j, at, "ok");
    law.note = in.string(j, at, "note");
    r.points = in.string(j, at, "points");
    law.n = in.integer(j, at, "n");
    r.huber_delta = in.number(j, at, "huber_delta");
    if (!law.ok) return r;
    law.E = in.number(j, at, "E");
    law.A = in.number(j, at, "A");
    law.B = in.number(j, at, "B");
    law.alpha = in.number(j, at, "alpha");
    law.beta = in.number(j, at, "beta");
    law.E_ci = in.pair(j, at, "E_ci");
    law.A_ci = in.pair(j, at, "A_ci");
    law.B_ci = in.pair(j, at, "B_ci");
    law.alpha_ci = in.pair(j, at, "alpha_ci");
    law.beta_ci = in.pair(j, at, "beta_ci");
    law.objective = in.number(j, at, "objective");
    law.bootstrap_done = in.integer(j, at, "bootstrap");
    if (const json *obs = in.array(j, at, "observed")) {
        for (size_t i = 0; i < obs->size(); ++i) {
            std::string p = Reader::index(Reader::join(at, "observed"), i);
            const json &o = (*obs)[i];
            r.observed.push_back({in.string(o, p, "run"), in.integer(o, p, "step"),
                                  in.number(o, p, "params"), in.number(o, p, "tokens_seen"),
                                  in.number(o, p, "loss"), in.number(o, p, "predicted")});
        }
    }
    return r;
}

EmergenceSize size_read(Reader &in, const json &j, const std::string &at) {
    EmergenceSize e;
    e.task = in.string(j, at, "task");
    e.metric = in.string(j, at, "metric");
    e.eta = in.number(j, at, "eta");
    e.eta_ci = in.pair(j, at, "eta_ci");
    e.tokens = in.number(j, at, "tokens");
    e.tokens_per_param = in.number(j, at, "tokens_per_param");
    e.params_needed = in.number(j, at, "params_needed");
    // η above E gives the range and the size at the token ratio; otherwise the note says why not.
    bool above_e = j.is_object() && j.contains("params_needed_range");
    if (above_e) {
        e.params_needed_range = in.pair(j, at, "params_needed_range");
        e.params_needed_at_ratio = in.number(j, at, "params_needed_at_ratio");
    }
    if (!above_e || (j.is_object() && j.contains("note"))) e.note = in.string(j, at, "note");
    return e;
}

// Reads the elements of the array `key` of `j` with `read`.
template <typename T, typename F>
std::vector<T> list_read(Reader &in, const json &j, const char *key, F read) {
    std::vector<T> out;
    const json *a = in.array(j, "", key);
    if (!a) return out;
    for (size_t i = 0; i < a->size(); ++i) out.push_back(read((*a)[i], Reader::index(key, i)));
    return out;
}

}  // namespace

CurveParams curve_usable(const CurveParams &p) {
    auto or_else = [](double v, double def) { return std::isfinite(v) ? v : def; };
    CurveParams q;
    q.plateau = or_else(p.plateau, 0);
    q.onset = or_else(p.onset, 0);
    q.amplitude = or_else(p.amplitude, 0);
    q.exponent = or_else(p.exponent, 1);
    q.sign = or_else(p.sign, 1);
    q.family = p.family;
    q.scale = or_else(p.scale, 1);
    return q;
}

const CollapseAxisResult *SeriesResult::collapse_axis(const std::string &axis) const {
    for (const auto &a : collapse.axes)
        if (a.axis == axis) return &a;
    return nullptr;
}

json analysis_to_json(const AnalysisResult &a) {
    const AnalysisWindow &w = a.window;
    const AnalysisSettings &o = a.options;
    json verdicts = json::object();
    for (const auto &[v, c] : a.summary.verdicts) verdicts[v] = c;
    json runs = json::array();
    for (const RunSummary &r : a.runs)
        runs.push_back({{"run", r.run},
                        {"params", num(r.params)},
                        {"tokens", num(r.tokens)},
                        {"checkpoints", r.checkpoints},
                        {"in_window", r.in_window},
                        {"final_step", r.final_step},
                        {"final_tokens_seen", num(r.final_tokens_seen)},
                        {"final_loss", num(r.final_loss)}});
    json results = json::array();
    for (const SeriesResult &s : a.results) results.push_back(series_json(s));
    json agreement = json::array();
    for (const ContinuousAgreement &c : a.continuous_agreement) {
        json comps = json::array();
        for (const MetricEta &m : c.comparisons) comps.push_back(metric_eta_json(m, true));
        agreement.push_back({{"task", c.task},
                             {"reference", metric_eta_json(c.reference, false)},
                             {"comparisons", comps},
                             {"intervals_agree", c.intervals_agree},
                             {"verdicts_agree", c.verdicts_agree}});
    }
    json sizes = json::array();
    for (const EmergenceSize &e : a.emergence_sizes) sizes.push_back(size_json(e));
    return {
        {"format", kAnalysisFormat},
        {"version", a.version},
        {"window",
         {{"tokens_frac", num(w.tokens_frac)},
          {"loss_min", num(w.loss_min)},
          {"loss_max", num(w.loss_max)},
          {"checkpoints_total", w.checkpoints_total},
          {"checkpoints_in_window", w.checkpoints_in_window},
          {"loss_lo", num(w.loss_lo)},
          {"loss_hi", num(w.loss_hi)}}},
        {"options",
         {{"bootstrap", o.bootstrap},
          {"bootstrap_unit", o.bootstrap_unit},
          {"alpha", num(o.alpha)},
          {"plateau_alpha", num(o.plateau_alpha)},
          {"plateau_min_effect", num(o.plateau_min_effect)},
          {"min_span_frac", num(o.min_span_frac)},
          {"min_points_frac", num(o.min_points_frac)},
          {"min_stretch_points", o.min_stretch_points},
          {"min_points", o.min_points},
          {"onset_extension", num(o.onset_extension)},
          {"permutations", o.permutations},
          {"collapse_bins", o.collapse_bins},
          {"extrapolation_fit_frac", num(o.extrapolation_fit_frac)},
          {"seed", o.seed},
          {"task_filter", o.task_filter}}},
        {"summary",
         {{"series", a.summary.series}, {"verdicts", verdicts}, {"emergent", a.summary.emergent}}},
        {"runs", runs},
        {"results", results},
        {"continuous_agreement", agreement},
        {"scaling_law", law_json(a.scaling_law)},
        {"emergence_sizes", sizes},
    };
}

Result<AnalysisResult> analysis_from_json(const json &j, const std::string &source) {
    if (!j.is_object() || !j.contains("format") || j["format"] != kAnalysisFormat)
        return Status::error(fmt::format(
            "{}: not an analysis file (no \"format\": \"{}\"); pass the analysis.json written by "
            "`emergence analyze`",
            source, kAnalysisFormat));
    if (!j.contains("version") || !j["version"].is_number_integer())
        return Status::error(fmt::format(
            "{}: no integer \"version\" key; regenerate it with `emergence analyze`", source));
    if (j["version"].get<int64_t>() != kAnalysisVersion)
        return Status::error(
            fmt::format("{}: analysis version {} is not supported (expected {}); rerun "
                        "`emergence analyze`",
                        source, j["version"].dump(), kAnalysisVersion));
    Reader in(source);
    AnalysisResult a;
    a.version = kAnalysisVersion;
    if (const json *w = in.object(j, "", "window")) {
        AnalysisWindow &x = a.window;
        x.tokens_frac = in.number(*w, "window", "tokens_frac");
        // No bound is written as null.
        x.loss_min = in.number(*w, "window", "loss_min", -std::numeric_limits<double>::infinity());
        x.loss_max = in.number(*w, "window", "loss_max", std::numeric_limits<double>::infinity());
        x.checkpoints_total = in.integer(*w, "window", "checkpoints_total");
        x.checkpoints_in_window = in.integer(*w, "window", "checkpoints_in_window");
        x.loss_lo = in.number(*w, "window", "loss_lo");
        x.loss_hi = in.number(*w, "window", "loss_hi");
    }
    if (const json *o = in.object(j, "", "options")) {
        AnalysisSettings &x = a.options;
        const std::string at = "options";
        x.bootstrap = in.integer(*o, at, "bootstrap");
        x.bootstrap_unit = in.string(*o, at, "bootstrap_unit");
        x.alpha = in.number(*o, at, "alpha");
        x.plateau_alpha = in.number(*o, at, "plateau_alpha");
        x.plateau_min_effect = in.number(*o, at, "plateau_min_effect");
        x.min_span_frac = in.number(*o, at, "min_span_frac");
        x.min_points_frac = in.number(*o, at, "min_points_frac");
        x.min_stretch_points = in.integer(*o, at, "min_stretch_points");
        x.min_points = in.integer(*o, at, "min_points");
        x.onset_extension = in.number(*o, at, "onset_extension");
        x.permutations = in.integer(*o, at, "permutations");
        x.collapse_bins = in.integer(*o, at, "collapse_bins");
        x.extrapolation_fit_frac = in.number(*o, at, "extrapolation_fit_frac");
        x.seed = in.unsigned_integer(*o, at, "seed");
        x.task_filter = in.string(*o, at, "task_filter");
    }
    if (const json *s = in.object(j, "", "summary")) {
        a.summary.series = in.integer(*s, "summary", "series");
        if (const json *v = in.object(*s, "summary", "verdicts"))
            for (const auto &[verdict, n] : v->items())
                a.summary.verdicts[verdict] = in.integer(*v, "summary.verdicts", verdict.c_str());
        a.summary.emergent = in.strings(*s, "summary", "emergent");
    }
    a.runs = list_read<RunSummary>(in, j, "runs", [&](const json &r, const std::string &p) {
        return RunSummary{in.string(r, p, "run"),
                          in.number(r, p, "params"),
                          in.number(r, p, "tokens"),
                          in.integer(r, p, "checkpoints"),
                          in.integer(r, p, "in_window"),
                          in.integer(r, p, "final_step"),
                          in.number(r, p, "final_tokens_seen"),
                          in.number(r, p, "final_loss")};
    });
    a.results = list_read<SeriesResult>(in, j, "results", [&](const json &r, const std::string &p) {
        return series_read(in, r, p);
    });
    a.continuous_agreement = list_read<ContinuousAgreement>(
        in, j, "continuous_agreement", [&](const json &c, const std::string &p) {
            ContinuousAgreement x;
            x.task = in.string(c, p, "task");
            if (const json *r = in.object(c, p, "reference"))
                x.reference = metric_eta_read(in, *r, Reader::join(p, "reference"), false);
            if (const json *cs = in.array(c, p, "comparisons"))
                for (size_t i = 0; i < cs->size(); ++i)
                    x.comparisons.push_back(metric_eta_read(
                        in, (*cs)[i], Reader::index(Reader::join(p, "comparisons"), i), true));
            x.intervals_agree = in.boolean(c, p, "intervals_agree");
            x.verdicts_agree = in.boolean(c, p, "verdicts_agree");
            return x;
        });
    if (const json *l = in.object(j, "", "scaling_law"))
        a.scaling_law = law_read(in, *l, "scaling_law");
    a.emergence_sizes = list_read<EmergenceSize>(
        in, j, "emergence_sizes",
        [&](const json &e, const std::string &p) { return size_read(in, e, p); });
    if (!in.error().empty()) return Status::error(in.error());
    return a;
}

}  // namespace em
