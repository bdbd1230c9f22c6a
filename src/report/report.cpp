// HTML report assembly: tables from analysis.json, Vega-Lite charts fed from the points table,
// with the chart libraries inlined; see report.h.
#include "report/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "analysis/analysis.h"
#include "common/fileio.h"
#include "common/paths.h"

namespace em {
namespace {

using json = nlohmann::json;

std::string html_escape(const std::string &s) {
    std::string o;
    for (char c : s) {
        switch (c) {
            case '&':
                o += "&amp;";
                break;
            case '<':
                o += "&lt;";
                break;
            case '>':
                o += "&gt;";
                break;
            case '"':
                o += "&quot;";
                break;
            default:
                o.push_back(c);
        }
    }
    return o;
}

// JSON for a <script> block: "</" would end the block early.
std::string script_json(const json &j) {
    std::string s = j.dump();
    std::string o;
    o.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '<' && i + 1 < s.size() && s[i + 1] == '/')
            o += "<\\/", ++i;
        else
            o.push_back(s[i]);
    }
    return o;
}

double jnum(const json &j, const char *key) {
    if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return std::nan("");
    return j[key].get<double>();
}

std::string g3(double v) {
    return std::isfinite(v) ? fmt::format("{:.3g}", v) : "–";
}
std::string f3(double v) {
    return std::isfinite(v) ? fmt::format("{:.3f}", v) : "–";
}

// Six significant digits keep the embedded data small without moving any point visibly.
double round6(double v) {
    if (!std::isfinite(v) || v == 0) return v;
    double mag = std::pow(10.0, 5 - static_cast<int>(std::floor(std::log10(std::fabs(v)))));
    return std::round(v * mag) / mag;
}

std::string budget_label(double tokens, double params, bool by_ratio) {
    if (!by_ratio) return fmt::format("{:.3g} tokens", tokens);
    return fmt::format("{:.3g} tokens/param", tokens / params);
}

const char *kTooltip = R"([{"field":"run","type":"nominal"},{"field":"step","type":"quantitative"},
{"field":"tokens_seen","type":"quantitative","format":".3s","title":"tokens seen"},
{"field":"loss","type":"quantitative","format":".4f"},{"field":"value","type":"quantitative","format":".4f"},
{"field":"params","type":"quantitative","format":".3s","title":"parameters"},{"field":"budget","type":"nominal"}])";

json points_layer(const std::string &x_field, const json &x_scale, const std::string &x_title,
                  const std::string &y_title) {
    return {
        {"name", "primary"},
        {"data", {{"name", "points"}}},
        {"mark", {{"type", "point"}, {"filled", true}, {"size", 16}, {"opacity", 0.65}}},
        {"encoding",
         {{"x",
           {{"field", x_field}, {"type", "quantitative"}, {"scale", x_scale}, {"title", x_title}}},
          {"y",
           {{"field", "value"},
            {"type", "quantitative"},
            {"scale", {{"zero", false}}},
            {"title", y_title}}},
          {"color",
           {{"field", "params"},
            {"type", "ordinal"},
            {"scale", {{"scheme", "viridis"}}},
            {"legend", {{"title", "parameters"}, {"labelExpr", "format(datum.value, '.3s')"}}}}},
          {"shape", {{"field", "budget"}, {"type", "nominal"}, {"title", "token budget"}}},
          {"tooltip", json::parse(kTooltip)}}}};
}

json curve_values(const CurveParams &p, double lo, double hi, int n) {
    json v = json::array();
    for (int i = 0; i < n; ++i) {
        double l = lo + (hi - lo) * i / (n - 1);
        double y = p.eval(l);
        if (std::fabs(y - p.plateau) < 1e-9) y = p.plateau;  // a vanishing amplitude draws flat
        v.push_back({{"loss", round6(l)}, {"value", round6(y)}});
    }
    return v;
}

// Performance against loss: points, chance line, fitted threshold model, η and its interval,
// and the smooth model extrapolated from the higher-loss part (dashed).
json series_spec(const json &r) {
    std::string task = r.value("task", ""), metric = r.value("metric", ""),
                verdict = r.value("verdict", "");
    double lo = r["loss_range"][0].is_number() ? r["loss_range"][0].get<double>() : 0;
    double hi = r["loss_range"][1].is_number() ? r["loss_range"][1].get<double>() : 1;
    json layers = json::array();
    layers.push_back(
        points_layer("loss", {{"reverse", true}, {"zero", false}}, "loss (nats/token)", metric));
    double base = jnum(r, "baseline");
    if (std::isfinite(base))
        layers.push_back({{"data", {{"values", {{{"chance", base}}}}}},
                          {"mark", {{"type", "rule"}, {"strokeDash", {4, 4}}, {"color", "#666"}}},
                          {"encoding", {{"y", {{"field", "chance"}, {"type", "quantitative"}}}}}});
    CurveParams tp = analysis_curve_params(r["models"]["threshold"]);
    layers.push_back({{"data", {{"values", curve_values(tp, lo, hi, 80)}}},
                      {"mark", {{"type", "line"}, {"color", "#111"}, {"strokeWidth", 1.5}}},
                      {"encoding",
                       {{"x", {{"field", "loss"}, {"type", "quantitative"}}},
                        {"y", {{"field", "value"}, {"type", "quantitative"}}}}}});
    const json &ex = r["extrapolation"];
    if (ex.value("done", false)) {
        CurveParams ep = analysis_curve_params(ex["model"]);
        layers.push_back(
            {{"data", {{"values", curve_values(ep, lo, hi, 60)}}},
             {"mark", {{"type", "line"}, {"color", "#d95f02"}, {"strokeDash", {6, 3}}}},
             {"encoding",
              {{"x", {{"field", "loss"}, {"type", "quantitative"}}},
               {"y", {{"field", "value"}, {"type", "quantitative"}}}}}});
    }
    const json &thr = r["threshold"];
    if (thr.is_object()) {
        double eta = jnum(thr, "loss"), cl = jnum(thr, "ci_low"), ch = jnum(thr, "ci_high");
        if (std::isfinite(cl) && std::isfinite(ch))
            layers.push_back(
                {{"data", {{"values", {{{"lo", std::max(cl, lo)}, {"hi", std::min(ch, hi)}}}}}},
                 {"mark", {{"type", "rect"}, {"color", "#e7298a"}, {"opacity", 0.15}}},
                 {"encoding",
                  {{"x", {{"field", "lo"}, {"type", "quantitative"}}},
                   {"x2", {{"field", "hi"}}}}}});
        layers.push_back({{"data", {{"values", {{{"eta", eta}}}}}},
                          {"mark", {{"type", "rule"}, {"color", "#e7298a"}, {"strokeWidth", 2}}},
                          {"encoding", {{"x", {{"field", "eta"}, {"type", "quantitative"}}}}}});
    }
    std::string sub = metric + " · " + verdict;
    if (thr.is_object())
        sub += fmt::format(" · η {:.3g} [{:.3g}, {:.3g}]", jnum(thr, "loss"), jnum(thr, "ci_low"),
                           jnum(thr, "ci_high"));
    return {{"width", 340},
            {"height", 220},
            {"title", {{"text", task}, {"subtitle", sub}}},
            {"layer", layers}};
}

json compute_spec(const json &r) {
    std::string metric = r.value("metric", "");
    json layers = json::array();
    layers.push_back(points_layer("compute", {{"type", "log"}}, "compute 6·N·D (FLOP)", metric));
    layers[0]["encoding"]["x"]["axis"] = {{"format", ".0e"}};
    double base = jnum(r, "baseline");
    if (std::isfinite(base))
        layers.push_back({{"data", {{"values", {{{"chance", base}}}}}},
                          {"mark", {{"type", "rule"}, {"strokeDash", {4, 4}}, {"color", "#666"}}},
                          {"encoding", {{"y", {{"field", "chance"}, {"type", "quantitative"}}}}}});
    return {{"width", 340},
            {"height", 220},
            {"title", {{"text", r.value("task", "") + " against compute"}, {"subtitle", metric}}},
            {"layer", layers}};
}

json r2_spec(const json &results, int64_t &rows) {
    json values = json::array();
    for (const auto &r : results)
        for (const auto &ax : r["collapse"]["axes"])
            values.push_back({{"series", r.value("task", "") + " / " + r.value("metric", "")},
                              {"axis", ax.value("axis", "")},
                              {"r2", ax["r2"].is_number() ? ax["r2"].get<double>() : 0.0}});
    rows = static_cast<int64_t>(values.size());
    return {
        {"width", 420},
        {"height", {{"step", 5}}},
        {"title",
         {{"text", "How well one monotone curve explains performance"},
          {"subtitle", "R² of the fit against loss, log compute and log parameters"}}},
        {"layer",
         {{{"name", "primary"},
           {"data", {{"values", values}}},
           {"mark", "bar"},
           {"encoding",
            {{"y",
              {{"field", "series"}, {"type", "nominal"}, {"title", nullptr}, {"sort", nullptr}}},
             {"yOffset", {{"field", "axis"}}},
             {"x",
              {{"field", "r2"},
               {"type", "quantitative"},
               {"scale", {{"domain", {0, 1}}}},
               {"title", "R²"}}},
             {"color", {{"field", "axis"}, {"type", "nominal"}, {"title", "axis"}}},
             {"tooltip",
              {{{"field", "series"}},
               {{"field", "axis"}},
               {{"field", "r2"}, {"format", ".4f"}}}}}}}}}};
}

json law_spec(const json &law, int64_t &rows) {
    json values = json::array();
    double lo = INFINITY, hi = -INFINITY;
    for (const auto &o : law["observed"]) {
        values.push_back({{"run", o.value("run", "")},
                          {"step", o.value("step", 0)},
                          {"params", o.value("params", 0.0)},
                          {"tokens_seen", o.value("tokens_seen", 0.0)},
                          {"loss", o.value("loss", 0.0)},
                          {"predicted", o.value("predicted", 0.0)}});
        lo = std::min({lo, o.value("loss", 0.0), o.value("predicted", 0.0)});
        hi = std::max({hi, o.value("loss", 0.0), o.value("predicted", 0.0)});
    }
    rows = static_cast<int64_t>(values.size());
    return {
        {"width", 360},
        {"height", 300},
        {"title",
         {{"text", "Scaling law: observed against predicted loss"},
          {"subtitle", "L = E + A/N^α + B/D^β (Huber fit on log L)"}}},
        {"layer",
         {{{"data", {{"values", {{{"a", lo}, {"b", lo}}, {{"a", hi}, {"b", hi}}}}}},
           {"mark", {{"type", "line"}, {"color", "#999"}, {"strokeDash", {4, 4}}}},
           {"encoding",
            {{"x",
              {{"field", "a"},
               {"type", "quantitative"},
               {"scale", {{"zero", false}}},
               {"title", "observed loss"}}},
             {"y",
              {{"field", "b"},
               {"type", "quantitative"},
               {"scale", {{"zero", false}}},
               {"title", "predicted loss"}}}}}},
          {{"name", "primary"},
           {"data", {{"values", values}}},
           {"mark", {{"type", "point"}, {"filled", true}, {"size", 40}}},
           {"encoding",
            {{"x", {{"field", "loss"}, {"type", "quantitative"}}},
             {"y", {{"field", "predicted"}, {"type", "quantitative"}}},
             {"color",
              {{"field", "params"},
               {"type", "ordinal"},
               {"scale", {{"scheme", "viridis"}}},
               {"legend", {{"title", "parameters"}, {"labelExpr", "format(datum.value, '.3s')"}}}}},
             {"tooltip",
              {{{"field", "run"}},
               {{"field", "step"}},
               {{"field", "tokens_seen"}, {"format", ".3s"}},
               {{"field", "loss"}, {"format", ".4f"}},
               {{"field", "predicted"}, {"format", ".4f"}}}}}}}}}};
}

// The page script: builds each chart's rows from the shared data, embeds it, and records how many
// points it drew.
const char *kPageScript = R"JS(
function emRows(src) {
  const c = EM_DATA.checkpoints, s = EM_DATA.series[src.series], rows = [];
  for (let k = 0; k < s.idx.length; ++k) {
    const i = s.idx[k];
    rows.push({run: c.run[i], params: c.params[i], tokens: c.tokens[i], budget: c.budget[i], step: c.step[i],
               tokens_seen: c.tokens_seen[i], loss: c.loss[i], value: s.value[k],
               compute: 6 * c.params[i] * Math.max(c.tokens_seen[i], 1)});
  }
  return rows;
}
function emAttach(spec, rows) {
  for (const layer of spec.layer || []) if (layer.data && layer.data.name === 'points') layer.data = {values: rows};
  return spec;
}
function emCount(node, name) {
  if (!node) return 0;
  if (node.marktype && node.name === name) return (node.items || []).length;
  let n = 0;
  for (const it of node.items || []) n += emCount(it, name);
  return n;
}
async function emRender() {
  let ok = 0;
  for (const chart of EM_CHARTS) {
    const el = document.getElementById(chart.id);
    try {
      const spec = chart.source ? emAttach(chart.spec, emRows(chart.source)) : chart.spec;
      const res = await vegaEmbed(el, spec, {renderer: 'canvas', actions: false});
      await res.view.runAsync();
      el.setAttribute('data-rendered-points', String(emCount(res.view.scenegraph().root, 'primary_marks')));
      el.setAttribute('data-chart-status', 'ok');
      ++ok;
    } catch (e) {
      el.setAttribute('data-chart-status', 'error');
      el.setAttribute('data-error', String(e && e.message || e));
    }
  }
  document.body.setAttribute('data-charts-ok', String(ok));
  document.body.setAttribute('data-charts-done', String(EM_CHARTS.length));
}
emRender();
)JS";

const char *kStyle = R"CSS(
body { font-family: system-ui, sans-serif; margin: 24px auto; max-width: 1180px; color: #222; }
h1 { font-size: 1.5em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; } h3 { margin-bottom: 0.2em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1em; }
th, td { border: 1px solid #ddd; padding: 3px 7px; text-align: right; }
th { background: #f4f4f4; } td.l, th.l { text-align: left; }
.emergent { color: #b0006b; font-weight: 600; } .smooth { color: #1b7837; }
.never_above_chance { color: #777; } .inconclusive { color: #b35806; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; } .note { background: #fff8e1; padding: 8px 12px; border-left: 4px solid #f0b400; }
.small { font-size: 0.85em; color: #555; }
)CSS";

struct Checkpoints {
    std::map<std::pair<std::string, int64_t>, int64_t> index;
    json run = json::array(), params = json::array(), tokens = json::array(),
         budget = json::array(), step = json::array(), tokens_seen = json::array(),
         loss = json::array();
};

}  // namespace

Result<std::string> report_html(const json &a, const std::vector<Point> &points,
                                const ReportOptions &opt) {
    if (!a.is_object() || !a.contains("results") || !a["results"].is_array())
        return Status::error(
            "report: the analysis has no results; pass the analysis.json of `emergence analyze`");
    std::string assets = opt.assets.empty() ? assets_dir() : opt.assets;
    std::string libs;
    for (const char *rel : {"vega/build/vega.min.js", "vega-lite/build/vega-lite.min.js",
                            "vega-embed/build/vega-embed.min.js"}) {
        std::string path = assets + "/" + rel;
        auto text = file_read(path);
        if (!text.is_ok())
            return Status::error(
                text.status().message() +
                "; install the npm packages vega, vega-lite and vega-embed "
                "(scripts/install-deps.sh) "
                "or point EMERGENCE_ASSETS at a node_modules folder that has them");
        libs += "<script>" + text.value() + "\n</script>\n";
    }

    // The analysis window, as analysis.json records it.
    const json &w = a["window"];
    double frac = w.value("tokens_frac", 0.1);
    double lmin = w.contains("loss_min") && w["loss_min"].is_number()
                      ? w["loss_min"].get<double>()
                      : -std::numeric_limits<double>::infinity();
    double lmax = w.contains("loss_max") && w["loss_max"].is_number()
                      ? w["loss_max"].get<double>()
                      : std::numeric_limits<double>::infinity();
    std::set<double> budgets;
    for (const Point &p : points) budgets.insert(p.tokens);
    bool by_ratio = budgets.size() > 8;

    Checkpoints ck;
    std::map<std::pair<std::string, std::string>, std::pair<json, json>> series_pts;  // idx, value
    for (const Point &p : points) {
        if (!(p.tokens_seen >= frac * p.tokens && p.loss >= lmin && p.loss <= lmax)) continue;
        auto key = std::make_pair(p.run, p.step);
        auto it = ck.index.find(key);
        if (it == ck.index.end()) {
            it = ck.index.emplace(key, static_cast<int64_t>(ck.run.size())).first;
            ck.run.push_back(p.run), ck.params.push_back(p.params), ck.tokens.push_back(p.tokens);
            ck.budget.push_back(budget_label(p.tokens, p.params, by_ratio));
            ck.step.push_back(p.step), ck.tokens_seen.push_back(p.tokens_seen),
                ck.loss.push_back(round6(p.loss));
        }
        auto &sp = series_pts[{p.task, p.metric}];
        if (sp.first.is_null()) sp.first = json::array(), sp.second = json::array();
        sp.first.push_back(it->second);
        sp.second.push_back(round6(p.value));
    }

    const json &results = a["results"];
    json series = json::array(), charts = json::array();
    std::map<std::string, std::vector<size_t>> by_task;  // task -> result indices
    std::vector<std::string> task_order;
    for (size_t i = 0; i < results.size(); ++i) {
        const json &r = results[i];
        std::string task = r.value("task", ""), metric = r.value("metric", "");
        auto it = series_pts.find({task, metric});
        int64_t have = it == series_pts.end() ? 0 : static_cast<int64_t>(it->second.first.size());
        int64_t want = r.value("n_points", int64_t{-1});
        if (have != want)
            return Status::error(fmt::format(
                "report: task '{}' metric '{}' has {} points in the analysis window of the "
                "points table but the analysis counted {}; pass the points file the "
                "analysis was made from",
                task, metric, have, want));
        series.push_back({{"idx", it->second.first}, {"value", it->second.second}});
        if (!by_task.count(task)) task_order.push_back(task);
        by_task[task].push_back(i);
    }

    std::string html;
    auto add = [&](const std::string &s) { html += s; };
    auto chart_div = [&](const std::string &id, int64_t expected) {
        add(fmt::format("<div class=\"chart\" id=\"{}\" data-expected-points=\"{}\"></div>\n", id,
                        expected));
    };
    add("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>" +
        html_escape(opt.title) + "</title>\n<style>" + kStyle + "</style>\n" + libs +
        "</head>\n<body>\n");
    add("<h1>" + html_escape(opt.title) + "</h1>\n");
    const json &sum = a["summary"];
    add(fmt::format(
        "<p>{} task metrics over {} checkpoints in the analysis window (tokens seen ≥ {} of each "
        "run's "
        "budget{}), loss {} to {}.</p>\n",
        sum.value("series", int64_t{0}), w.value("checkpoints_in_window", int64_t{0}), frac,
        std::isfinite(lmin) || std::isfinite(lmax)
            ? fmt::format(", loss in [{}, {}]", g3(lmin), g3(lmax))
            : std::string(),
        g3(jnum(w, "loss_lo")), g3(jnum(w, "loss_hi"))));
    add("<p class=\"note\">Absolute thresholds are not comparable with the paper's η ≈ 2.2: "
        "pre-training loss depends "
        "on the corpus and the tokenizer (and on which loss is on the x-axis: a validation loss, "
        "or a stand-in such "
        "as LAMBADA's log-perplexity), so η is meaningful relative to this family of runs only. "
        "What carries over "
        "is the pattern: tasks that stay at chance over part of the window while the loss keeps "
        "falling, and "
        "runs of different sizes and budgets that fall on one curve against loss but not against "
        "compute.</p>\n");

    // Summary table.
    add("<h2>Verdicts and correlations</h2>\n<table><tr><th class=\"l\">task</th><th "
        "class=\"l\">metric</th>"
        "<th>points</th><th class=\"l\">verdict</th><th>η [95% "
        "interval]</th><th>Spearman</th><th>Pearson</th>"
        "<th class=\"l\">best axis</th><th>R² loss</th><th>R² compute</th><th>R² params</th>"
        "<th>size effect p</th><th>beats extrapolation</th></tr>\n");
    for (const auto &r : results) {
        std::map<std::string, const json *> ax;
        for (const auto &x : r["collapse"]["axes"]) ax[x.value("axis", "")] = &x;
        auto r2 = [&](const char *k) {
            return ax.count(k) ? f3(jnum(*ax[k], "r2")) : std::string("–");
        };
        std::string eta = "–";
        if (r["threshold"].is_object())
            eta = fmt::format("{} [{}, {}]", g3(jnum(r["threshold"], "loss")),
                              g3(jnum(r["threshold"], "ci_low")),
                              g3(jnum(r["threshold"], "ci_high")));
        std::string verdict = r.value("verdict", "");
        const json &ex = r["extrapolation"];
        add(fmt::format(
            "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td class=\"l "
            "{}\">{}</td>"
            "<td>{}</td><td>{}</td><td>{}</td><td "
            "class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td><td>{}</td></tr>\n",
            html_escape(r.value("task", "")), html_escape(r.value("metric", "")),
            r.value("n_points", int64_t{0}), verdict, verdict, eta, f3(jnum(r, "spearman")),
            f3(jnum(r, "pearson")), html_escape(r["collapse"].value("best_axis", "")), r2("loss"),
            r2("log_compute"), r2("log_params"),
            ax.count("loss") ? g3(jnum((*ax["loss"])["size_test"], "p")) : std::string("–"),
            ex.value("done", false) ? (ex.value("exceeds_interval", false) ? "yes" : "no") : "–"));
    }
    add("</table>\n<p class=\"small\">η: the loss below which the threshold model rises from "
        "chance, with its "
        "bootstrap interval (shown for emergent and inconclusive verdicts). Best axis: the axis "
        "against which one "
        "monotone curve explains most variance across all runs. Size effect p: permutation test "
        "for a difference "
        "between model sizes at matched loss (whole runs are permuted when a size has several). "
        "Beats extrapolation: the lower-loss points exceed "
        "the interval of a "
        "smooth fit to the higher-loss part. Formulas: docs/analysis.md.</p>\n");

    // Continuous metrics.
    if (a.contains("continuous_agreement") && !a["continuous_agreement"].empty()) {
        add("<h2>Continuous metrics</h2>\n<table><tr><th class=\"l\">task</th><th "
            "class=\"l\">reference</th>"
            "<th class=\"l\">verdict</th><th>η [interval]</th><th class=\"l\">continuous "
            "metric</th>"
            "<th class=\"l\">verdict</th><th>η [interval]</th><th>intervals overlap</th></tr>\n");
        // η means something only where the verdict found a threshold.
        auto has_eta = [](const json &x) {
            const std::string v = x.value("verdict", "");
            return v == "emergent" || v == "inconclusive";
        };
        auto eta_cell = [&](const json &x) {
            return has_eta(x) ? fmt::format("{} [{}, {}]", g3(jnum(x, "eta")),
                                            g3(jnum(x, "ci_low")), g3(jnum(x, "ci_high")))
                              : std::string("–");
        };
        for (const auto &c : a["continuous_agreement"]) {
            const json &ref = c["reference"];
            for (const auto &m : c["comparisons"]) {
                if (!m.value("continuous", false)) continue;
                add(fmt::format(
                    "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l {}\">{}</td>"
                    "<td>{}</td><td class=\"l\">{}</td><td class=\"l {}\">{}</td>"
                    "<td>{}</td><td>{}</td></tr>\n",
                    html_escape(c.value("task", "")), html_escape(ref.value("metric", "")),
                    ref.value("verdict", ""), ref.value("verdict", ""), eta_cell(ref),
                    html_escape(m.value("metric", "")), m.value("verdict", ""),
                    m.value("verdict", ""), eta_cell(m),
                    has_eta(ref) && has_eta(m) ? (m.value("overlap", false) ? "yes" : "no") : "–"));
            }
        }
        add("</table>\n<p class=\"small\">Each continuous metric against the task's accuracy or "
            "exact match. η and the overlap of the two intervals are shown where the verdict "
            "found a threshold (emergent or inconclusive).</p>\n");
    }

    // Scaling law.
    const json &law = a["scaling_law"];
    add("<h2>Scaling law</h2>\n");
    if (law.value("ok", false)) {
        auto ci = [&](const char *k) {
            const json &c = law[k];
            return c.is_array() && c.size() == 2 && c[0].is_number()
                       ? fmt::format("[{}, {}]", g3(c[0].get<double>()), g3(c[1].get<double>()))
                       : std::string("");
        };
        add(
            fmt::format("<p>Fitted on {} {} points: E = {} {}, A = {} {}, B = {} {}, α = {} {}, β "
                        "= {} {}. {}</p>\n",
                        law.value("n", int64_t{0}), law.value("points", std::string("final")),
                        g3(jnum(law, "E")), ci("E_ci"), g3(jnum(law, "A")), ci("A_ci"),
                        g3(jnum(law, "B")), ci("B_ci"), g3(jnum(law, "alpha")), ci("alpha_ci"),
                        g3(jnum(law, "beta")), ci("beta_ci"), html_escape(law.value("note", ""))));
        int64_t rows = 0;
        json spec = law_spec(law, rows);
        chart_div("chart-law", rows);
        charts.push_back({{"id", "chart-law"}, {"spec", spec}});
        if (a.contains("emergence_sizes") && !a["emergence_sizes"].empty()) {
            add("<table><tr><th class=\"l\">task</th><th class=\"l\">metric</th><th>η</th><th>at D "
                "tokens</th>"
                "<th>smallest N reaching η</th><th>N range from η's interval</th><th>N at D = "
                "ratio·N</th></tr>\n");
            for (const auto &e : a["emergence_sizes"]) {
                std::string range = "–";
                if (e.contains("params_needed_range") && e["params_needed_range"].is_array())
                    range = fmt::format("{} – {}",
                                        g3(e["params_needed_range"][0].is_number()
                                               ? e["params_needed_range"][0].get<double>()
                                               : NAN),
                                        g3(e["params_needed_range"][1].is_number()
                                               ? e["params_needed_range"][1].get<double>()
                                               : NAN));
                add(fmt::format(
                    "<tr><td class=\"l\">{}</td><td "
                    "class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td>"
                    "<td>{}</td><td>{}</td></tr>\n",
                    html_escape(e.value("task", "")), html_escape(e.value("metric", "")),
                    g3(jnum(e, "eta")), g3(jnum(e, "tokens")), g3(jnum(e, "params_needed")), range,
                    g3(jnum(e, "params_needed_at_ratio"))));
            }
            add("</table>\n");
        }
    } else {
        add("<p>Not fitted: " + html_escape(law.value("note", "")) + "</p>\n");
    }

    // Loss against compute.
    add("<h2>Loss against compute</h2>\n<p>Against loss, runs of every size and budget should fall "
        "on one curve; "
        "against compute (6·N·D) they should not. Each bar is the R² of one monotone curve fitted "
        "to all runs "
        "against that axis.</p>\n");
    {
        int64_t rows = 0;
        json spec = r2_spec(results, rows);
        chart_div("chart-r2", rows);
        charts.push_back({{"id", "chart-r2"}, {"spec", spec}});
    }

    // Per task.
    add("<h2>Tasks</h2>\n<p class=\"small\">Points are checkpoints in the window, coloured by "
        "model size and shaped "
        "by token budget (hover for run, step and tokens). Dashed grey: chance. Black: the fitted "
        "threshold model. "
        "Pink: η and its 95% interval. Dashed orange: the smooth model fitted to the higher-loss "
        "part, "
        "extrapolated.</p>\n");
    int chart_no = 0;
    for (const std::string &task : task_order) {
        add("<h3>" + html_escape(task) + "</h3>\n<div class=\"charts\">\n");
        const std::vector<size_t> &idx = by_task[task];
        for (size_t i : idx) {
            std::string id = fmt::format("chart-s{}", chart_no++);
            chart_div(id, results[i].value("n_points", int64_t{0}));
            charts.push_back(
                {{"id", id}, {"spec", series_spec(results[i])}, {"source", {{"series", i}}}});
        }
        // Against compute, for the task's first discontinuous metric (or its first metric).
        size_t ref = idx.front();
        for (size_t i : idx)
            if (!results[i].value("continuous", true)) {
                ref = i;
                break;
            }
        std::string id = fmt::format("chart-c{}", chart_no++);
        chart_div(id, results[ref].value("n_points", int64_t{0}));
        charts.push_back(
            {{"id", id}, {"spec", compute_spec(results[ref])}, {"source", {{"series", ref}}}});
        add("</div>\n");
    }

    json data = {{"checkpoints",
                  {{"run", ck.run},
                   {"params", ck.params},
                   {"tokens", ck.tokens},
                   {"budget", ck.budget},
                   {"step", ck.step},
                   {"tokens_seen", ck.tokens_seen},
                   {"loss", ck.loss}}},
                 {"series", series}};
    add("<script>\nconst EM_DATA = " + script_json(data) + ";\nconst EM_CHARTS = " +
        script_json(charts) + ";\n" + kPageScript + "</script>\n</body></html>\n");
    return html;
}

Status report_write(const std::string &out_path, const json &analysis,
                    const std::vector<Point> &points, const ReportOptions &opt) {
    EM_ASSIGN_OR_RETURN(std::string html, report_html(analysis, points, opt));
    return file_write_atomic(out_path, html);
}

Status report_write_files(const std::string &out_path, const std::string &analysis_path,
                          const std::string &points_path, const ReportOptions &opt) {
    EM_ASSIGN_OR_RETURN(json a, analysis_read(analysis_path));
    EM_ASSIGN_OR_RETURN(std::vector<Point> pts, points_read(points_path));
    return report_write(out_path, a, pts, opt);
}

}  // namespace em
