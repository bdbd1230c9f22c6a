// The report's Vega-Lite chart specs; see charts.h.
#include "report/charts.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "report/tables.h"

namespace em {

using json = nlohmann::json;

double chart_round6(double v) {
    if (!std::isfinite(v) || v == 0) return v;
    double mag = std::pow(10.0, 5 - static_cast<int>(std::floor(std::log10(std::fabs(v)))));
    return std::round(v * mag) / mag;
}

namespace {

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
        v.push_back({{"loss", chart_round6(l)}, {"value", chart_round6(y)}});
    }
    return v;
}

json chance_layer(double base) {
    return {{"data", {{"values", {{{"chance", base}}}}}},
            {"mark", {{"type", "rule"}, {"strokeDash", {4, 4}}, {"color", "#666"}}},
            {"encoding", {{"y", {{"field", "chance"}, {"type", "quantitative"}}}}}};
}

json curve_layer(const CurveParams &p, double lo, double hi, int n, const json &mark) {
    return {{"data", {{"values", curve_values(p, lo, hi, n)}}},
            {"mark", mark},
            {"encoding",
             {{"x", {{"field", "loss"}, {"type", "quantitative"}}},
              {"y", {{"field", "value"}, {"type", "quantitative"}}}}}};
}

// η's interval as a band (clipped to the window's loss range) and η as a rule.
void eta_layers(json &layers, const ThresholdLoss &t, double lo, double hi) {
    if (std::isfinite(t.ci_low) && std::isfinite(t.ci_high))
        layers.push_back(
            {{"data",
              {{"values", {{{"lo", std::max(t.ci_low, lo)}, {"hi", std::min(t.ci_high, hi)}}}}}},
             {"mark", {{"type", "rect"}, {"color", "#e7298a"}, {"opacity", 0.15}}},
             {"encoding",
              {{"x", {{"field", "lo"}, {"type", "quantitative"}}}, {"x2", {{"field", "hi"}}}}}});
    layers.push_back({{"data", {{"values", {{{"eta", t.loss}}}}}},
                      {"mark", {{"type", "rule"}, {"color", "#e7298a"}, {"strokeWidth", 2}}},
                      {"encoding", {{"x", {{"field", "eta"}, {"type", "quantitative"}}}}}});
}

// A grid panel's title: the verdict with its qualifier and fragility, then the gain.
json panel_title(const SeriesResult &r) {
    std::string verdict = r.metric + " · " + r.verdict, notes;
    if (!r.sizes.qualifier.empty()) notes = r.sizes.qualifier;
    if (r.stability.fragile) notes += notes.empty() ? "fragile" : ", fragile";
    if (!notes.empty()) verdict += " (" + notes + ")";
    json sub = json::array({verdict});
    // A series that never leaves chance has no gain to speak of (the summary's convention).
    if (r.verdict != "never_above_chance")
        sub.push_back(fmt::format("gain {} [{}, {}]", table_g3(r.gain.estimate),
                                  table_g3(r.gain.ci_low), table_g3(r.gain.ci_high)));
    return {{"text", r.task}, {"subtitle", sub}, {"anchor", "start"}};
}

}  // namespace

json chart_series_spec(const SeriesResult &r) {
    double lo = std::isfinite(r.loss_lo) ? r.loss_lo : 0;
    double hi = std::isfinite(r.loss_hi) ? r.loss_hi : 1;
    json layers = json::array();
    layers.push_back(
        points_layer("loss", {{"reverse", true}, {"zero", false}}, "loss (nats/token)", r.metric));
    if (std::isfinite(r.baseline)) layers.push_back(chance_layer(r.baseline));
    layers.push_back(curve_layer(curve_usable(r.threshold_model.params), lo, hi, 80,
                                 {{"type", "line"}, {"color", "#111"}, {"strokeWidth", 1.5}}));
    if (r.extrapolation.done)
        layers.push_back(
            curve_layer(curve_usable(r.extrapolation.model), lo, hi, 60,
                        {{"type", "line"}, {"color", "#d95f02"}, {"strokeDash", {6, 3}}}));
    std::string sub = r.metric + " · " + r.verdict;
    if (r.threshold) {
        eta_layers(layers, *r.threshold, lo, hi);
        sub += fmt::format(" · η {:.3g} [{:.3g}, {:.3g}]", r.threshold->loss, r.threshold->ci_low,
                           r.threshold->ci_high);
    }
    return {{"width", 340},
            {"height", 220},
            {"title", {{"text", r.task}, {"subtitle", sub}}},
            {"layer", layers}};
}

json chart_grid_spec(const std::vector<SeriesResult> &results, const std::vector<size_t> &panels,
                     int64_t &rows) {
    json concat = json::array();
    rows = 0;
    for (size_t k = 0; k < panels.size(); ++k) {
        const SeriesResult &r = results[panels[k]];
        rows += r.n_points;
        double lo = std::isfinite(r.loss_lo) ? r.loss_lo : 0;
        double hi = std::isfinite(r.loss_hi) ? r.loss_hi : 1;
        json layers = json::array();
        json pts = points_layer("loss", {{"reverse", true}, {"zero", false}}, "loss", r.metric);
        // Vega-Lite draws only one of several layers that share a name.
        pts["name"] = fmt::format("primary_{}", k);
        pts["data"] = {{"name", fmt::format("series-{}", panels[k])}};
        pts["encoding"].erase("shape");
        layers.push_back(pts);
        if (std::isfinite(r.baseline)) layers.push_back(chance_layer(r.baseline));
        layers.push_back(curve_layer(curve_usable(r.threshold_model.params), lo, hi, 60,
                                     {{"type", "line"}, {"color", "#111"}, {"strokeWidth", 1.5}}));
        if (r.threshold) eta_layers(layers, *r.threshold, lo, hi);
        concat.push_back(
            {{"width", 190}, {"height", 130}, {"title", panel_title(r)}, {"layer", layers}});
    }
    return {{"columns", 4}, {"spacing", 16}, {"concat", concat}};
}

json chart_compute_spec(const SeriesResult &r) {
    json layers = json::array();
    layers.push_back(points_layer("compute", {{"type", "log"}}, "compute 6·N·D (FLOP)", r.metric));
    layers[0]["encoding"]["x"]["axis"] = {{"format", ".0e"}};
    if (std::isfinite(r.baseline)) layers.push_back(chance_layer(r.baseline));
    return {{"width", 340},
            {"height", 220},
            {"title", {{"text", r.task + " against compute"}, {"subtitle", r.metric}}},
            {"layer", layers}};
}

json chart_r2_spec(const std::vector<SeriesResult> &results, int64_t &rows) {
    json values = json::array();
    for (const auto &r : results)
        for (const auto &ax : r.collapse.axes)
            values.push_back({{"series", r.task + " / " + r.metric},
                              {"axis", ax.axis},
                              {"r2", std::isfinite(ax.r2) ? ax.r2 : 0.0}});
    rows = static_cast<int64_t>(values.size());
    return {
        {"width", 420},
        {"height", {{"step", 5}}},
        {"title",
         {{"text", "How well one monotone curve explains performance"},
          {"subtitle", "R² of the fit against loss, log compute, log parameters and log tokens"}}},
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

json chart_law_spec(const ScalingLawResult &law, int64_t &rows) {
    json values = json::array();
    double lo = INFINITY, hi = -INFINITY;
    for (const LawPoint &o : law.observed) {
        values.push_back({{"run", o.run},
                          {"step", o.step},
                          {"params", o.params},
                          {"tokens_seen", o.tokens_seen},
                          {"loss", o.loss},
                          {"predicted", o.predicted}});
        lo = std::min({lo, o.loss, o.predicted});
        hi = std::max({hi, o.loss, o.predicted});
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

}  // namespace em
