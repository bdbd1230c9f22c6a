// Loss from the scaling law, performance from the fitted curves; see predict.h.
#include "analysis/predict.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "analysis/metrics.h"
#include "analysis/scaling_law.h"

namespace em {

using json = nlohmann::json;

Result<json> predict_from_analysis(const AnalysisResult &a, double params, double tokens) {
    if (!(params > 0) || !(tokens > 0))
        return Status::error(
            fmt::format("predict: --params {} and --tokens {} must both be > 0", params, tokens));
    const ScalingLaw &s = a.scaling_law.fit;
    if (!s.ok)
        return Status::error("predict: the analysis has no fitted scaling law (" + s.note +
                             "); analyse runs of several sizes and budgets first");
    double loss = s.predict(params, tokens);
    json out = {
        {"params", params},
        {"tokens", tokens},
        {"loss", loss},
        {"law", {{"E", s.E}, {"A", s.A}, {"B", s.B}, {"alpha", s.alpha}, {"beta", s.beta}}}};
    json tasks = json::array();
    for (const SeriesResult &r : a.results) {
        CurveParams p = curve_usable(r.threshold_model.params);
        double v = p.eval(loss);
        if (metric_info(r.metric).proportion) v = std::clamp(v, 0.0, 1.0);
        double lo = r.loss_lo, hi = r.loss_hi;
        tasks.push_back({{"task", r.task},
                         {"metric", r.metric},
                         {"value", v},
                         {"baseline", std::isfinite(r.baseline) ? json(r.baseline) : json()},
                         {"verdict", r.verdict},
                         {"loss_range", {lo, hi}},
                         {"beyond_observed", !(loss >= lo && loss <= hi)}});
    }
    out["tasks"] = tasks;
    return out;
}

std::string predict_format(const json &p) {
    std::string s =
        fmt::format("N = {:.4g} parameters, D = {:.4g} tokens: predicted loss {:.4f}\n",
                    p["params"].get<double>(), p["tokens"].get<double>(), p["loss"].get<double>());
    size_t w = 4;
    for (const auto &t : p["tasks"])
        w = std::max(
            w, t["task"].get<std::string>().size() + t["metric"].get<std::string>().size() + 1);
    s += fmt::format("{:<{}}  {:>9}  {:>8}  {:<18}  {}\n", "task", w, "predicted", "chance",
                     "verdict", "note");
    for (const auto &t : p["tasks"]) {
        std::string name = t["task"].get<std::string>() + "/" + t["metric"].get<std::string>();
        std::string chance =
            t["baseline"].is_number() ? fmt::format("{:.4g}", t["baseline"].get<double>()) : "-";
        std::string note;
        if (t["beyond_observed"].get<bool>())
            note = fmt::format("loss outside the fitted range [{:.3f}, {:.3f}]: extrapolated",
                               t["loss_range"][0].get<double>(), t["loss_range"][1].get<double>());
        s += fmt::format("{:<{}}  {:>9.4f}  {:>8}  {:<18}  {}\n", name, w, t["value"].get<double>(),
                         chance, t["verdict"].get<std::string>(), note);
    }
    return s;
}

}  // namespace em
