// analysis.json and the types of result.h: writing then reading gives the same values, and the
// reader refuses a file of another version or with a key missing or mistyped, in one line that
// names the file and the key.
#include <gtest/gtest.h>

#include <cmath>

#include "analysis/analysis.h"
#include "cli.h"
#include "synthetic.h"

namespace em {
namespace {

using json = nlohmann::json;

AnalysisResult planted_result() {
    auto runs = testing::synthetic_runs(4, 3);
    std::vector<Point> pts;
    testing::synthetic_task(
        pts, runs, 14, "emergent_task", "acc", 0.25,
        [](double L) { return 0.25 + 0.5 * std::max(0.0, 3.6 - L); }, 800, 0, 1);
    testing::synthetic_task(
        pts, runs, 14, "emergent_task", "correct_choice_prob", 0.25,
        [](double L) { return 0.25 + 0.3 * std::max(0.0, 3.6 - L); }, 0, 0.004, 2);
    testing::synthetic_task(
        pts, runs, 14, "smooth_task", "acc", 0.5, [](double L) { return 0.5 + 0.12 * (5.6 - L); },
        800, 0, 3);
    AnalysisOptions o;
    o.threshold.bootstrap = 50;
    o.collapse.permutations = 99;
    o.law.bootstrap = 10;
    o.loss_max = 6.0;  // one bound set, the other written as null
    auto r = analysis_run(pts, o);
    EXPECT_TRUE(r.is_ok()) << r.status().message();
    return r.is_ok() ? *r : AnalysisResult();
}

// Equal, with undefined (NaN) equal to undefined.
bool same(double a, double b) {
    return a == b || (std::isnan(a) && std::isnan(b));
}

TEST(AnalysisResult, RoundTripKeepsEveryValue) {
    AnalysisResult a = planted_result();
    ASSERT_FALSE(a.results.empty());
    std::string text = analysis_to_json(a).dump(1);
    auto b = analysis_from_json(json::parse(text), "analysis.json");
    ASSERT_TRUE(b.is_ok()) << b.status().message();
    // The file written from what was read back is the same file.
    EXPECT_EQ(analysis_to_json(*b).dump(1), text);

    // And the values themselves, including the optional parts and the unbounded window end.
    EXPECT_EQ(b->window.loss_min, -INFINITY);
    EXPECT_EQ(b->window.loss_max, 6.0);
    EXPECT_EQ(b->window.checkpoints_in_window, a.window.checkpoints_in_window);
    EXPECT_EQ(b->options.seed, a.options.seed);
    EXPECT_EQ(b->summary.verdicts, a.summary.verdicts);
    ASSERT_EQ(b->results.size(), a.results.size());
    bool saw_threshold = false, saw_curve = false, saw_other_tasks = false;
    for (size_t i = 0; i < a.results.size(); ++i) {
        const SeriesResult &x = a.results[i], &y = b->results[i];
        EXPECT_EQ(y.task, x.task);
        EXPECT_EQ(y.metric, x.metric);
        EXPECT_EQ(y.n_points, x.n_points);
        EXPECT_TRUE(same(y.baseline, x.baseline));
        EXPECT_EQ(y.verdict, x.verdict);
        EXPECT_EQ(y.reasons, x.reasons);
        EXPECT_TRUE(same(y.spearman, x.spearman));
        EXPECT_TRUE(same(y.eta.estimate, x.eta.estimate));
        EXPECT_TRUE(same(y.eta.ci_high, x.eta.ci_high));
        EXPECT_TRUE(same(y.threshold_model.params.onset, x.threshold_model.params.onset));
        EXPECT_TRUE(same(y.tests.rise.p, x.tests.rise.p));
        EXPECT_EQ(y.threshold.has_value(), x.threshold.has_value());
        if (x.threshold) {
            saw_threshold = true;
            EXPECT_EQ(y.threshold->loss, x.threshold->loss);
        }
        ASSERT_EQ(y.collapse.axes.size(), x.collapse.axes.size());
        for (size_t k = 0; k < x.collapse.axes.size(); ++k) {
            EXPECT_TRUE(same(y.collapse.axes[k].r2, x.collapse.axes[k].r2));
            EXPECT_EQ(y.collapse.axes[k].curve.has_value(), x.collapse.axes[k].curve.has_value());
            if (x.collapse.axes[k].curve) {
                saw_curve = true;
                EXPECT_EQ(y.collapse.axes[k].curve->value, x.collapse.axes[k].curve->value);
            }
        }
        EXPECT_EQ(y.extrapolation.done, x.extrapolation.done);
        EXPECT_TRUE(same(y.extrapolation.p_above, x.extrapolation.p_above));
        EXPECT_EQ(y.other_tasks_improving, x.other_tasks_improving);
        saw_other_tasks |= x.other_tasks_improving.has_value();
    }
    EXPECT_TRUE(saw_threshold && saw_curve && saw_other_tasks);
    ASSERT_EQ(b->continuous_agreement.size(), a.continuous_agreement.size());
    EXPECT_EQ(b->scaling_law.fit.ok, a.scaling_law.fit.ok);
    EXPECT_EQ(b->scaling_law.fit.E, a.scaling_law.fit.E);
    EXPECT_EQ(b->scaling_law.observed.size(), a.scaling_law.observed.size());
    ASSERT_EQ(b->emergence_sizes.size(), a.emergence_sizes.size());
    for (size_t i = 0; i < a.emergence_sizes.size(); ++i) {
        EXPECT_TRUE(same(b->emergence_sizes[i].params_needed, a.emergence_sizes[i].params_needed));
        EXPECT_EQ(b->emergence_sizes[i].note, a.emergence_sizes[i].note);
    }
}

// One line, naming the file and the key or the version.
void expect_refused(const json &j, const std::string &want) {
    auto r = analysis_from_json(j, "an/analysis.json");
    ASSERT_FALSE(r.is_ok());
    const std::string m = r.status().message();
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    EXPECT_EQ(m.rfind("an/analysis.json: ", 0), 0u) << m;
    EXPECT_NE(m.find(want), std::string::npos) << m;
    EXPECT_NE(m.find("emergence analyze"), std::string::npos) << m;
}

// The curve a chart draws and `predict` evaluates is the fitted one, whatever its family: a
// sigmoid or capped fit must not come back as a power law (the report once drew every
// non-power fit as a straight line that way).
TEST(AnalysisResult, UsableCurveKeepsItsFamily) {
    for (CurveFamily f :
         {CurveFamily::power, CurveFamily::saturating, CurveFamily::sigmoid, CurveFamily::capped}) {
        CurveParams p;
        p.family = f, p.plateau = 0.25, p.onset = 3.3, p.amplitude = 0.06, p.exponent = 1.0,
        p.scale = 0.33, p.sign = 1;
        CurveParams q = curve_usable(p);
        for (double L : {3.5, 3.0, 2.5, 1.7}) EXPECT_DOUBLE_EQ(q.eval(L), p.eval(L));
    }
    CurveParams undefined;
    undefined.plateau = 0.25, undefined.amplitude = std::nan(""), undefined.scale = std::nan("");
    undefined.family = CurveFamily::sigmoid;
    EXPECT_DOUBLE_EQ(curve_usable(undefined).eval(1.0), 0.25);  // no rise
}

TEST(AnalysisResult, ReadRefusesAnotherVersionAndMissingOrMistypedKeys) {
    const json good = analysis_to_json(planted_result());
    ASSERT_TRUE(analysis_from_json(good, "an/analysis.json").is_ok());

    json j = good;
    j["version"] = kAnalysisVersion + 1;
    expect_refused(j, "version " + std::to_string(kAnalysisVersion + 1) + " is not supported");
    j.erase("version");
    expect_refused(j, "no integer \"version\"");
    j = good;
    j.erase("format");
    expect_refused(j, "not an analysis file");

    j = good;
    j["results"][0].erase("verdict");
    expect_refused(j, "key \"results[0].verdict\" is missing");
    j = good;
    j["results"][1]["collapse"]["axes"][0].erase("r2");
    expect_refused(j, "key \"results[1].collapse.axes[0].r2\" is missing");
    j = good;
    j["scaling_law"].erase("E");
    expect_refused(j, "key \"scaling_law.E\" is missing");
    j = good;
    j.erase("window");
    expect_refused(j, "key \"window\" is missing");
    j = good;
    j["results"][0]["n_points"] = "many";
    expect_refused(j, "key \"results[0].n_points\" is string, expected an integer");
    j = good;
    j["window"]["tokens_frac"] = true;
    expect_refused(j, "key \"window.tokens_frac\" is boolean, expected a number or null");

    // Through the file reader too.
    testing::TempDir tmp("result_read");
    j = good;
    j["runs"][0].erase("final_loss");
    testing::write_file(tmp / "analysis.json", j.dump(1));
    auto r = analysis_read(tmp / "analysis.json");
    ASSERT_FALSE(r.is_ok());
    EXPECT_NE(r.status().message().find(tmp / "analysis.json"), std::string::npos);
    EXPECT_NE(r.status().message().find("\"runs[0].final_loss\" is missing"), std::string::npos)
        << r.status().message();
}

}  // namespace
}  // namespace em
