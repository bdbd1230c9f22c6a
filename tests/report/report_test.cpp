// The HTML report: self-contained (chart libraries inlined, nothing fetched), opening with one
// panel per task and the primary metrics' verdicts, every chart renders in headless Chromium with
// as many points (and grid panels) as the analysis has (read back from the DOM), and Pythia's
// lm-eval files go through import, analysis and report from the command line. Browser
// checks skip when /usr/bin/chromium is absent; the Pythia check when ../shared/data is.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "../analysis/cli.h"
#include "../analysis/synthetic.h"
#include "analysis/analysis.h"
#include "report/report.h"

namespace em {
namespace {

using json = nlohmann::json;
using testing::TempDir;

const char *kChromium = "/usr/bin/chromium";

struct ChartState {
    std::string id, status;
    int64_t expected = -1, rendered = -1;
    int64_t expected_panels = -1, rendered_panels = -1;  // the grid only
};

// Opens the page in headless Chromium and reads each chart's counts from the rendered DOM.
std::vector<ChartState> charts_rendered(const std::string &html_path, const TempDir &tmp,
                                        std::string &body_attrs) {
    std::string dom = tmp / "dom.html";
    std::string cmd = std::string("timeout 300 ") + kChromium +
                      " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
                      "--disable-background-networking --disable-component-update --disable-sync "
                      "--user-data-dir=" +
                      (tmp / "chromium-profile") +
                      " --virtual-time-budget=10000 --dump-dom file://" + html_path + " >" + dom +
                      " 2>/dev/null";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::string text = testing::read_file(dom);
    std::smatch m;
    // The inlined libraries mention "<body" too: take the tag the page script marked.
    if (std::regex_search(text, m, std::regex("<body([^>]*data-charts-done[^>]*)>")))
        body_attrs = m[1].str();
    std::vector<ChartState> out;
    std::regex div("<div class=\"chart(?: [^\"]*)?\"([^>]*)>");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), div);
         it != std::sregex_iterator(); ++it) {
        std::string attrs = (*it)[1].str();
        ChartState c;
        auto get = [&](const char *name) {
            std::smatch a;
            return std::regex_search(attrs, a, std::regex(std::string(name) + "=\"([^\"]*)\""))
                       ? a[1].str()
                       : std::string();
        };
        c.id = get("id");
        c.status = get("data-chart-status");
        if (!get("data-expected-points").empty())
            c.expected = std::stoll(get("data-expected-points"));
        if (!get("data-rendered-points").empty())
            c.rendered = std::stoll(get("data-rendered-points"));
        if (!get("data-expected-panels").empty())
            c.expected_panels = std::stoll(get("data-expected-panels"));
        if (!get("data-rendered-panels").empty())
            c.rendered_panels = std::stoll(get("data-rendered-panels"));
        out.push_back(c);
    }
    return out;
}

void expect_all_rendered(const std::vector<ChartState> &charts, size_t n_charts) {
    ASSERT_EQ(charts.size(), n_charts);
    for (const auto &c : charts) {
        EXPECT_EQ(c.status, "ok") << c.id;
        EXPECT_GT(c.expected, 0) << c.id;
        EXPECT_EQ(c.rendered, c.expected) << c.id;
        if (c.expected_panels >= 0) {
            EXPECT_GT(c.expected_panels, 0) << c.id;
            EXPECT_EQ(c.rendered_panels, c.expected_panels) << c.id;
        }
    }
}

// The page from its own heading on: the inlined libraries before it mention tags too.
std::string page_body(const std::string &html) {
    size_t at = html.find("<h1>" + ReportOptions{}.title + "</h1>");
    EXPECT_NE(at, std::string::npos);
    return at == std::string::npos ? std::string() : html.substr(at);
}

std::vector<std::string> section_ids(const std::string &body) {
    std::vector<std::string> ids;
    std::regex re("<section id=\"([^\"]*)\">");
    for (auto it = std::sregex_iterator(body.begin(), body.end(), re); it != std::sregex_iterator();
         ++it)
        ids.push_back((*it)[1].str());
    return ids;
}

std::string section(const std::string &body, const std::string &id) {
    size_t b = body.find("<section id=\"" + id + "\">");
    if (b == std::string::npos) return "";
    size_t e = body.find("</section>", b);
    return body.substr(b, e == std::string::npos ? std::string::npos : e - b);
}

size_t count(const std::string &s, const std::string &what) {
    size_t n = 0;
    for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
    return n;
}

// The chart specs the page embeds (EM_CHARTS).
json page_charts(const std::string &body) {
    const std::string key = "const EM_CHARTS = ";
    size_t b = body.find(key);
    if (b == std::string::npos) return json();
    b += key.size();
    return json::parse(body.substr(b, body.find(";\n", b) - b));
}

std::vector<Point> small_points() {
    auto runs = testing::synthetic_runs(3, 2);
    std::vector<Point> pts;
    testing::synthetic_task(
        pts, runs, 10, "late<task>", "acc", 0.25,
        [](double L) { return 0.25 + 0.5 * std::max(0.0, 3.7 - L); }, 500, 0, 1);
    testing::synthetic_task(
        pts, runs, 10, "late<task>", "brier_score", 0.75,
        [](double L) { return 0.75 - 0.3 * std::max(0.0, 3.7 - L); }, 0, 0.005, 2);
    testing::synthetic_task(
        pts, runs, 10, "early", "acc", 0.5, [](double L) { return 0.5 + 0.1 * (5.6 - L); }, 500, 0,
        3);
    return pts;
}

AnalysisResult small_analysis(const std::vector<Point> &pts) {
    AnalysisOptions o;
    o.threshold.bootstrap = 50;
    o.collapse.permutations = 49;
    o.law.bootstrap = 10;
    auto a = analysis_run(pts, o);
    EXPECT_TRUE(a.is_ok()) << a.status().message();
    return a.is_ok() ? *a : AnalysisResult();
}

TEST(Report, IsSelfContainedAndEveryChartRendersItsPoints) {
    TempDir tmp("report");
    auto pts = small_points();
    AnalysisResult a = small_analysis(pts);
    std::string out = tmp / "report.html";
    Status s = report_write(out, a, pts, ReportOptions{});
    ASSERT_TRUE(s.is_ok()) << s.message();
    std::string html = testing::read_file(out);
    EXPECT_EQ(html.find("<script src"), std::string::npos);
    EXPECT_EQ(html.find("<link"), std::string::npos);
    EXPECT_NE(html.find("vegaEmbed"), std::string::npos);
    EXPECT_NE(html.find("η ≈ 2.2"), std::string::npos);           // absolute η is corpus-specific
    EXPECT_NE(html.find("late&lt;task&gt;"), std::string::npos);  // names are escaped
    if (!std::filesystem::exists(kChromium)) GTEST_SKIP() << "chromium is not installed";
    std::string body;
    auto charts = charts_rendered(out, tmp, body);
    // grid + law + R² bars + 3 task metrics + 2 compute charts
    expect_all_rendered(charts, 8);
    EXPECT_NE(body.find("data-charts-ok=\"8\""), std::string::npos) << body;
    ASSERT_EQ(charts.front().id, "chart-grid");
    EXPECT_EQ(charts.front().rendered_panels, 2);  // two tasks
    for (const auto &c : charts)
        if (c.id == "chart-r2") {
            EXPECT_EQ(c.rendered, 12);  // 3 task metrics x 4 axes
        }
}

// What a reader wants first: one panel per task of its primary metric, then one verdict row per
// task, before the per-metric table and the per-series charts.
TEST(Report, OpensWithOnePanelPerTaskThenThePrimaryVerdicts) {
    auto pts = small_points();
    AnalysisResult a = small_analysis(pts);
    // The report reads only these fields: plant the ones the synthetic runs cannot produce (one
    // run per size and budget has no replicate seeds; fragility needs a verdict that flips).
    std::vector<size_t> primary = report_primary_series(a.results);
    ASSERT_EQ(primary.size(), 2u);
    // Panels and rows follow the tasks' order in the results.
    const size_t kl = a.results[primary[0]].task == "late<task>" ? 0 : 1, ke = 1 - kl;
    SeriesResult &late = a.results[primary[kl]], &early = a.results[primary[ke]];
    ASSERT_EQ(late.task + "/" + late.metric, "late<task>/acc");  // not its brier_score
    ASSERT_EQ(early.task + "/" + early.metric, "early/acc");
    late.verdict = "emergent";
    late.threshold = ThresholdLoss{3.7, 3.6, 3.8};
    late.sizes.qualifier = "common";
    late.sizes.p = 0.42;
    late.sizes.trend_slope = -0.1234, late.sizes.trend_ci_low = -0.21;
    late.sizes.trend_ci_high = -0.03, late.sizes.trend_p = 0.0071;
    late.sizes.per_size = {{1.1e5, 40, 2.4, 2.61, 30, 1e-5, true, true},
                           {2.2e5, 40, 2.5, 2.7, 3, 0.2, true, false},
                           {4.4e5, 40, 3.9, 3.5, 0, 1, false, false}};
    late.stability = {6, 0.5, 2.0 / 3, true};
    early.seed_spread = {3, 0.0123, 0.0456, 0.01};
    // A smooth series has no threshold: its per-size fits are not shown as thresholds.
    early.verdict = "smooth";
    early.threshold.reset();
    early.sizes.p = 0.33;
    early.sizes.per_size = {{1.1e5, 40, 2.4, 2.9, 30, 1e-5, true, true}};

    TempDir tmp("report_order");
    std::string out = tmp / "report.html";
    Status s = report_write(out, a, pts, ReportOptions{});
    ASSERT_TRUE(s.is_ok()) << s.message();
    std::string body = page_body(testing::read_file(out));

    std::vector<std::string> want = {"overview",    "primary-verdicts", "all-series", "continuous",
                                     "scaling-law", "collapse",         "tasks"};
    EXPECT_EQ(section_ids(body), want);
    std::smatch h2;
    ASSERT_TRUE(std::regex_search(body, h2, std::regex("<h2>([^<]*)</h2>")));
    EXPECT_EQ(h2[1].str(), "Tasks at a glance");
    EXPECT_LT(body.find("id=\"chart-grid\""), body.find("<table"));

    // The grid: one panel per task, drawing its primary series, titled with verdict and gain.
    std::string overview = section(body, "overview");
    EXPECT_NE(overview.find("data-expected-panels=\"2\""), std::string::npos) << overview;
    EXPECT_NE(
        overview.find(fmt::format("data-expected-points=\"{}\"", late.n_points + early.n_points)),
        std::string::npos)
        << overview;
    json charts = page_charts(body);
    ASSERT_TRUE(charts.is_array() && !charts.empty());
    EXPECT_EQ(charts[0]["id"], "chart-grid");
    const json &panels = charts[0]["spec"]["concat"];
    ASSERT_EQ(panels.size(), 2u);
    EXPECT_EQ(panels[kl]["title"]["text"], "late<task>");
    EXPECT_EQ(panels[ke]["title"]["text"], "early");
    EXPECT_EQ(panels[kl]["title"]["subtitle"][0], "acc · emergent (common, fragile)");
    EXPECT_EQ(panels[kl]["title"]["subtitle"][1].get<std::string>().rfind("gain ", 0), 0u);
    for (size_t k = 0; k < 2; ++k) {
        const json &points = panels[k]["layer"][0];
        EXPECT_EQ(points["data"]["name"], fmt::format("series-{}", primary[k]));
        EXPECT_EQ(points["name"], fmt::format("primary_{}", k));
        EXPECT_EQ(points["encoding"]["x"]["field"], "loss");
        EXPECT_EQ(points["encoding"]["x"]["scale"]["reverse"], true);  // as the per-series charts
        EXPECT_EQ(points["encoding"]["color"]["field"], "params");
    }
    bool eta_rule = false;  // η as a vertical rule where the threshold is
    for (const json &l : panels[kl]["layer"])
        if (l["mark"].is_object() && l["mark"].value("type", "") == "rule" &&
            l["encoding"].contains("x"))
            eta_rule = l["data"]["values"][0]["eta"] == 3.7;
    EXPECT_TRUE(eta_rule) << panels[kl].dump();

    // The verdict table: one row per task with the new columns.
    std::string verdicts = section(body, "primary-verdicts");
    for (const char *col : {"qualifier", "gain [95% interval]", "share", "η per size", "shared η p",
                            "η trend per doubling", "seed spread", "verdict kept", "η kept"})
        EXPECT_NE(verdicts.find(std::string(col) + "</th>"), std::string::npos) << col;
    EXPECT_EQ(count(verdicts, "<tr>"), 1u + 2u);  // header + one per task
    EXPECT_EQ(verdicts.find("brier_score"), std::string::npos);
    std::string late_row = verdicts.substr(verdicts.find("late&lt;task&gt;"));
    late_row = late_row.substr(0, late_row.find("</tr>"));
    EXPECT_NE(late_row.find(">emergent (fragile)</td>"), std::string::npos) << late_row;
    EXPECT_NE(late_row.find(">common</td>"), std::string::npos) << late_row;
    EXPECT_NE(late_row.find("3.7 [3.6, 3.8]"), std::string::npos) << late_row;
    EXPECT_NE(late_row.find("n=1.1e5: 2.61*, n=2.2e5: 2.7</td>"), std::string::npos) << late_row;
    EXPECT_NE(late_row.find("<td>0.42</td>"), std::string::npos) << late_row;
    EXPECT_NE(late_row.find("<td>-0.12 [-0.21, -0.03], p 0.0071</td>"), std::string::npos)
        << late_row;
    EXPECT_NE(late_row.find("no replicates"), std::string::npos) << late_row;
    EXPECT_NE(late_row.find("<td>50%</td><td>67%</td>"), std::string::npos) << late_row;
    std::string early_row = verdicts.substr(verdicts.find("<td class=\"l\">early</td>"));
    early_row = early_row.substr(0, early_row.find("</tr>"));
    EXPECT_NE(early_row.find("seed 0.0123 vs size 0.0456 (3 pairs)"), std::string::npos)
        << early_row;
    EXPECT_EQ(early_row.find("fragile"), std::string::npos) << early_row;
    EXPECT_EQ(early_row.find("2.9"), std::string::npos) << early_row;
    EXPECT_EQ(early_row.find("0.33"), std::string::npos) << early_row;

    // The full table keeps every metric and gains the qualifier, gain and stability.
    std::string all = section(body, "all-series");
    EXPECT_EQ(count(all, "<tr>"), 1u + a.results.size());
    for (const char *col : {"qualifier", "gain [95% interval]", "verdict kept"})
        EXPECT_NE(all.find(std::string(col) + "</th>"), std::string::npos) << col;
    EXPECT_NE(all.find(">emergent (fragile)</td>"), std::string::npos);
}

// A task's primary metric: acc, acc_norm, len_norm, exact_match, em in that order; else its first
// discontinuous metric; else its first.
TEST(Report, PrimaryMetricFollowsTheReferencePreference) {
    auto series = [](const std::string &task, const std::string &metric, bool continuous) {
        SeriesResult r;
        r.task = task, r.metric = metric, r.continuous = continuous;
        return r;
    };
    std::vector<SeriesResult> results = {
        series("a", "brier_score", true),  series("a", "acc_norm", false),
        series("b", "em", false),          series("a", "acc", false),
        series("b", "exact_match", false), series("c", "correct_choice_prob", true),
        series("c", "f1", false),          series("c", "bleu", false),
        series("d", "nll", true),          series("d", "brier_score", true),
    };
    EXPECT_EQ(report_primary_series(results), (std::vector<size_t>{3, 4, 6, 8}));
    EXPECT_TRUE(report_primary_series({}).empty());
}

TEST(Report, RefusesPointsThatDoNotMatchTheAnalysisAndMissingAssets) {
    TempDir tmp("report_bad");
    auto pts = small_points();
    AnalysisResult a = small_analysis(pts);
    auto fewer = pts;
    fewer.pop_back();
    Status s = report_write(tmp / "r.html", a, fewer, ReportOptions{});
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("pass the points file the analysis was made from"),
              std::string::npos)
        << s.message();
    EXPECT_FALSE(std::filesystem::exists(tmp / "r.html"));
    ReportOptions o;
    o.assets = tmp / "nowhere";
    s = report_write(tmp / "r.html", a, pts, o);
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("vega/build/vega.min.js"), std::string::npos) << s.message();
    EXPECT_FALSE(std::filesystem::exists(tmp / "r.html"));
}

TEST(Report, PythiaFromLmEvalFilesThroughTheCommandLine) {
    std::string evals = std::string(EM_SHARED_DIR) + "/data/pythia-evals";
    if (!std::filesystem::exists(evals)) GTEST_SKIP() << evals << " is absent";
    TempDir tmp("pythia");
    // Non-embedding parameters of the Pythia suite; 2,097,152 tokens per step, 143,000 steps.
    std::string params = std::string(EM_TEST_DIR) + "/analysis/data/pythia_params.csv";
    auto imp = testing::cli_run(
        "import lm-eval --dir " + evals +
            " --pattern 'pythia-{run}/{size}_step{step}.json' --params-csv " + params +
            " --tokens 299892736000 --tokens-per-step 2097152 --loss-from lambada_openai:ppl"
            " --aggregate 'mmlu=hendrycksTest-.*' --drop-aggregated"
            " --tasks '^(arc_easy|arc_challenge|piqa|sciq|winogrande|lambada_openai|mmlu)$' "
            "--out " +
            (tmp / "points.csv"),
        tmp);
    ASSERT_EQ(imp.code, 0) << imp.err;
    EXPECT_NE(imp.out.find("from 189 files (7 runs"), std::string::npos) << imp.out;
    EXPECT_TRUE(imp.err.empty()) << imp.err;
    auto an = testing::cli_run("analyze --points " + (tmp / "points.csv") + " --out " +
                                   (tmp / "an") + " --bootstrap 100 --permutations 199",
                               tmp);
    ASSERT_EQ(an.code, 0) << an.err;
    std::printf("%s", an.out.c_str());
    auto a = analysis_read(tmp / "an/analysis.json");
    ASSERT_TRUE(a.is_ok()) << a.status().message();
    // Loss is LAMBADA's log-perplexity; the window keeps steps >= 10% of 143,000: 13 per run.
    for (const SeriesResult &r : a->results) {
        EXPECT_EQ(r.n_points, 7 * 13) << r.task;
        if (r.task == "arc_easy" || r.task == "piqa" || r.task == "sciq" ||
            r.task == "lambada_openai") {
            EXPECT_EQ(r.verdict, "smooth") << r.task << " " << r.metric;
        }
        EXPECT_LT(r.spearman, -0.5) << r.task;
    }
    // One budget for every run: the law falls back to every window checkpoint, and says so.
    EXPECT_TRUE(a->scaling_law.fit.ok);
    EXPECT_EQ(a->scaling_law.points, "all");
    auto rep =
        testing::cli_run("report --dir " + (tmp / "an") + " --points " + (tmp / "points.csv"), tmp);
    ASSERT_EQ(rep.code, 0) << rep.err;
    ASSERT_TRUE(std::filesystem::exists(tmp / "an/report.html"));
    if (!std::filesystem::exists(kChromium)) GTEST_SKIP() << "chromium is not installed";
    std::string body;
    auto charts = charts_rendered(tmp / "an/report.html", tmp, body);
    size_t series = a->results.size(), tasks = 7;
    expect_all_rendered(charts, 1 + 2 + series + tasks);  // grid, law, R² bars, per task
    EXPECT_EQ(charts.front().rendered_panels, static_cast<int64_t>(tasks));
}

}  // namespace
}  // namespace em
