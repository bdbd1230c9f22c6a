// The report's HTML tables; see tables.h.
#include "report/tables.h"

#include <fmt/format.h>

#include <cmath>

namespace em {

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

std::string table_g3(double v) {
    return std::isfinite(v) ? fmt::format("{:.3g}", v) : "–";
}

namespace {

std::string f3(double v) {
    return std::isfinite(v) ? fmt::format("{:.3f}", v) : "–";
}

const auto g3 = table_g3;

// η means something only where the verdict found a threshold.
bool has_eta(const std::string &verdict) {
    return verdict == "emergent" || verdict == "inconclusive";
}

std::string eta_cell(const MetricEta &x) {
    return has_eta(x.verdict) ? fmt::format("{} [{}, {}]", g3(x.eta), g3(x.ci_low), g3(x.ci_high))
                              : std::string("–");
}

// "emergent", or "emergent (fragile)" when leaving a run out changes the verdict too often.
std::string verdict_cell(const SeriesResult &r) {
    std::string label = r.stability.fragile ? r.verdict + " (fragile)" : r.verdict;
    return fmt::format("<td class=\"l {}{}\">{}</td>", r.verdict,
                       r.stability.fragile ? " fragile" : "", label);
}

std::string eta_threshold(const SeriesResult &r) {
    if (!r.threshold) return "–";
    return fmt::format("{} [{}, {}]", g3(r.threshold->loss), g3(r.threshold->ci_low),
                       g3(r.threshold->ci_high));
}

// A series that never leaves chance has no gain to speak of (the summary's convention).
std::string gain_cell(const SeriesResult &r) {
    if (r.verdict == "never_above_chance") return "–";
    return fmt::format("{} [{}, {}]", g3(r.gain.estimate), g3(r.gain.ci_low), g3(r.gain.ci_high));
}

std::string percent(double v) {
    return std::isfinite(v) ? fmt::format("{:.0f}%", 100 * v) : "–";
}

std::string verdict_kept(const Stability &s) {
    return s.refits > 0 ? percent(s.verdict_kept) : "not assessed";
}

// Two significant digits in the paper's style: 110000 -> "1.1e5", 1000000 -> "1e6".
std::string params_short(double v) {
    if (!(std::isfinite(v) && v > 0)) return g3(v);
    int e = static_cast<int>(std::floor(std::log10(v)));
    std::string m = fmt::format("{:.2g}", v / std::pow(10.0, e));
    if (m == "10") m = "1", ++e;
    return m + "e" + std::to_string(e);
}

// η of each size that reaches below the overall η; * marks the sizes that rise.
std::string per_size_eta(const SizeThresholds &t) {
    std::string out;
    for (const SizeEta &e : t.per_size) {
        if (!e.reaches) continue;
        if (!out.empty()) out += ", ";
        out += fmt::format("n={}: {}{}", params_short(e.params), g3(e.eta), e.rises ? "*" : "");
    }
    if (out.empty()) return t.per_size.empty() ? "–" : "no size reaches";
    return out;
}

// η's slope against log2 size (nats per doubling) with its interval and the test's p.
std::string trend_cell(const SizeThresholds &t) {
    if (!std::isfinite(t.trend_p)) return "–";
    return fmt::format("{:+.2f} [{:+.2f}, {:+.2f}], p {}", t.trend_slope, t.trend_ci_low,
                       t.trend_ci_high, g3(t.trend_p));
}

std::string seed_spread_cell(const SeedSpread &s) {
    if (s.replicate_groups <= 0) return "no replicates";
    return fmt::format("seed {} vs size {} ({} {})", g3(s.seed_sd), g3(s.size_sd),
                       s.replicate_groups, s.replicate_groups == 1 ? "pair" : "pairs");
}

}  // namespace

std::string table_primary(const std::vector<SeriesResult> &results,
                          const std::vector<size_t> &primary) {
    std::string html =
        "<h2>Verdicts of the primary metrics</h2>\n<table><tr><th class=\"l\">task</th>"
        "<th class=\"l\">metric</th><th class=\"l\">verdict</th><th class=\"l\">qualifier</th>"
        "<th>η [95% interval]</th><th>gain [95% interval]</th><th>share</th>"
        "<th class=\"l\">η per size</th><th>shared η p</th><th>η trend per doubling</th>"
        "<th class=\"l\">seed spread</th><th>verdict kept</th><th>η kept</th></tr>\n";
    for (size_t i : primary) {
        const SeriesResult &r = results[i];
        bool no_gain = r.verdict == "never_above_chance";
        html += fmt::format(
            "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td>{}<td class=\"l\">{}</td>"
            "<td>{}</td><td>{}</td><td>{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td>"
            "<td class=\"l\">{}</td><td>{}</td><td>{}</td></tr>\n",
            html_escape(r.task), html_escape(r.metric), verdict_cell(r),
            r.sizes.qualifier.empty() ? "–" : html_escape(r.sizes.qualifier), eta_threshold(r),
            gain_cell(r), no_gain ? "–" : percent(r.gain.share),
            r.threshold ? per_size_eta(r.sizes) : "–", r.threshold ? g3(r.sizes.p) : "–",
            r.threshold ? trend_cell(r.sizes) : "–", seed_spread_cell(r.seed_spread),
            verdict_kept(r.stability),
            r.stability.refits > 0 ? percent(r.stability.eta_kept) : "–");
    }
    html +=
        "</table>\n<p class=\"small\">One row per task, its primary metric (acc, else acc_norm, "
        "len_norm, exact_match, em, else the first discontinuous metric). Qualifier: whether the "
        "sizes that reach below η share one threshold (common), do not (size_dependent), or only "
        "one size rises (one_size). Gain: the fitted rise over the plateau at the window's "
        "lowest loss; share: that gain as a share of the distance from the plateau to a perfect "
        "score. η per size: each size's own η, for the sizes with enough points below the overall "
        "η; * marks the sizes that rise significantly on their own. Shared η p: the test of one η "
        "for those sizes against one per size. η trend: the slope of the sizes' onsets against "
        "log2 of their parameters, in nats of loss per doubling (> 0: larger sizes leave chance "
        "at higher losses), with its 95% profile interval and the 1-df test of it against one η; "
        "with three or more sizes. All three only where the series has a threshold (not "
        "for smooth, marginal or never-above-chance series). Seed spread: at matched loss, the "
        "standard "
        "deviation between replicate seeds of one size and budget beside that between sizes. "
        "Verdict kept and η kept: the shares of leave-one-run-out refits that keep the verdict and "
        "whose η lies in the interval (not assessed with fewer than three runs); a verdict the "
        "refits keep too rarely (below 90% by default) is marked fragile. "
        "Formulas: docs/analysis.md.</p>\n";
    return html;
}

std::string table_verdicts(const std::vector<SeriesResult> &results) {
    std::string html =
        "<h2>Every task metric</h2>\n<table><tr><th class=\"l\">task</th><th "
        "class=\"l\">metric</th>"
        "<th>points</th><th class=\"l\">verdict</th><th class=\"l\">qualifier</th><th>η [95% "
        "interval]</th><th>gain [95% interval]</th><th>verdict kept</th><th>Spearman</th>"
        "<th>Pearson</th>"
        "<th class=\"l\">best axis</th><th>R² loss</th><th>R² compute</th><th>R² params</th>"
        "<th>R² tokens</th>"
        "<th>size effect p</th><th>beats extrapolation</th></tr>\n";
    for (const SeriesResult &r : results) {
        auto r2 = [&](const char *axis) {
            const CollapseAxisResult *x = r.collapse_axis(axis);
            return x ? f3(x->r2) : std::string("–");
        };
        const CollapseAxisResult *loss_axis = r.collapse_axis("loss");
        const SeriesExtrapolation &ex = r.extrapolation;
        html += fmt::format(
            "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td>{}<td "
            "class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td "
            "class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</"
            "td></tr>\n",
            html_escape(r.task), html_escape(r.metric), r.n_points, verdict_cell(r),
            r.sizes.qualifier.empty() ? "–" : html_escape(r.sizes.qualifier), eta_threshold(r),
            gain_cell(r), verdict_kept(r.stability), f3(r.spearman), f3(r.pearson),
            html_escape(r.collapse.best_axis), r2("loss"), r2("log_compute"), r2("log_params"),
            r2("log_tokens"), loss_axis ? g3(loss_axis->size_test.p) : std::string("–"),
            ex.done ? (ex.exceeds_interval ? "yes" : "no") : "–");
    }
    html +=
        "</table>\n<p class=\"small\">η: the loss below which the threshold model rises from "
        "chance, with its "
        "bootstrap interval (shown for emergent and inconclusive verdicts). Gain, qualifier and "
        "verdict kept: as in the table of primary metrics. Best axis: the axis "
        "against which one "
        "monotone curve explains most variance across all runs (loss, log compute, log parameters "
        "or log tokens seen). Size effect p: permutation test "
        "for a difference "
        "between model sizes at matched loss (whole runs are permuted when a size has several). "
        "Beats extrapolation: the lower-loss points exceed "
        "the interval of a "
        "smooth fit to the higher-loss part. Formulas: docs/analysis.md.</p>\n";
    return html;
}

std::string table_continuous(const std::vector<ContinuousAgreement> &agreement) {
    if (agreement.empty()) return "";
    std::string html =
        "<h2>Continuous metrics</h2>\n<table><tr><th class=\"l\">task</th><th "
        "class=\"l\">reference</th>"
        "<th class=\"l\">verdict</th><th>η [interval]</th><th class=\"l\">continuous "
        "metric</th>"
        "<th class=\"l\">verdict</th><th>η [interval]</th><th>intervals overlap</th></tr>\n";
    for (const ContinuousAgreement &c : agreement) {
        const MetricEta &ref = c.reference;
        for (const MetricEta &m : c.comparisons) {
            if (!m.continuous) continue;
            html += fmt::format(
                "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l {}\">{}</td>"
                "<td>{}</td><td class=\"l\">{}</td><td class=\"l {}\">{}</td>"
                "<td>{}</td><td>{}</td></tr>\n",
                html_escape(c.task), html_escape(ref.metric), ref.verdict, ref.verdict,
                eta_cell(ref), html_escape(m.metric), m.verdict, m.verdict, eta_cell(m),
                has_eta(ref.verdict) && has_eta(m.verdict) ? (m.overlap ? "yes" : "no") : "–");
        }
    }
    html +=
        "</table>\n<p class=\"small\">Each continuous metric against the task's accuracy or "
        "exact match. η and the overlap of the two intervals are shown where the verdict "
        "found a threshold (emergent or inconclusive).</p>\n";
    return html;
}

std::string table_law_fit(const ScalingLawResult &r) {
    const ScalingLaw &law = r.fit;
    auto ci = [](const Interval &c) {
        return std::isfinite(c.lo) ? fmt::format("[{}, {}]", g3(c.lo), g3(c.hi)) : std::string();
    };
    return fmt::format(
        "<p>Fitted on {} {} points: E = {} {}, A = {} {}, B = {} {}, α = {} {}, β "
        "= {} {}. {}</p>\n",
        law.n, r.points, g3(law.E), ci(law.E_ci), g3(law.A), ci(law.A_ci), g3(law.B), ci(law.B_ci),
        g3(law.alpha), ci(law.alpha_ci), g3(law.beta), ci(law.beta_ci), html_escape(law.note));
}

std::string table_sizes(const std::vector<EmergenceSize> &sizes) {
    if (sizes.empty()) return "";
    std::string html =
        "<table><tr><th class=\"l\">task</th><th class=\"l\">metric</th><th>η</th><th>at D "
        "tokens</th>"
        "<th>smallest N reaching η</th><th>N range from η's interval</th><th>N at D = "
        "ratio·N</th></tr>\n";
    for (const EmergenceSize &e : sizes) {
        std::string range = "–";
        if (e.params_needed_range)
            range = fmt::format("{} – {}", g3(e.params_needed_range->lo),
                                g3(e.params_needed_range->hi));
        html += fmt::format(
            "<tr><td class=\"l\">{}</td><td "
            "class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td><td>{}</td></tr>\n",
            html_escape(e.task), html_escape(e.metric), g3(e.eta), g3(e.tokens),
            g3(e.params_needed), range, g3(e.params_needed_at_ratio.value_or(kUndefined)));
    }
    html += "</table>\n";
    return html;
}

}  // namespace em
