// The HTML report: self-contained (chart libraries inlined, nothing fetched), every chart renders
// in headless Chromium with as many points as the analysis has (read back from the DOM), and
// Pythia's lm-eval files go through import, analysis and report from the command line. Browser
// checks skip when /usr/bin/chromium is absent; the Pythia check when ../shared/data is.
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
    }
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
    // law + R² bars + 3 task metrics + 2 compute charts
    expect_all_rendered(charts, 7);
    EXPECT_NE(body.find("data-charts-ok=\"7\""), std::string::npos) << body;
    for (const auto &c : charts)
        if (c.id == "chart-r2") {
            EXPECT_EQ(c.rendered, 9);  // 3 task metrics x 3 axes
        }
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
    expect_all_rendered(charts, 2 + series + tasks);
}

}  // namespace
}  // namespace em
