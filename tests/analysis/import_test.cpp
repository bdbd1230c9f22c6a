// Imports: wide CSV logs and path patterns; malformed inputs give one located error (also via the
// CLI, which then leaves no output file). The lm-eval importer's tests: tests/eval.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <cmath>
#include <filesystem>

#include "analysis/import.h"
#include "cli.h"

namespace em {
namespace {

using testing::TempDir;

const Point *find(const std::vector<Point> &pts, const std::string &run, int64_t step,
                  const std::string &task, const std::string &metric) {
    for (const auto &p : pts)
        if (p.run == run && p.step == step && p.task == task && p.metric == metric) return &p;
    return nullptr;
}

TEST(ImportCsv, WideLogsBecomeTaskMetrics) {
    TempDir tmp("widecsv");
    std::string header =
        "_step,eval/c4/CrossEntropyLoss,throughput/total_tokens,eval/downstream/arc_easy_len_norm,"
        "eval/downstream/boolq_acc,eval/downstream_soft/arc_easy_soft,eval/downstream_bpb/"
        "arc_easy_bpb,other\n";
    testing::write_file(tmp / "runs/150M-2xC.csv", header +
                                                       "100,5.5,1e8,0.26,0.6,0.251,2.1,9\n"
                                                       "200,4.5,2e8,0.30,,0.26,1.9,9\n");
    testing::write_file(tmp / "runs/150M-2xC-rerun.csv",
                        header + "100,5.4,1e8,0.27,0.55,0.252,2.0,9\n");
    ImportOptions o;
    o.dir = tmp / "runs";
    o.pattern = "{size}-{xc}xC*.csv";
    o.params = {"150M=150000000"};
    CsvImportOptions c;
    c.map = {{"loss", "eval/c4/CrossEntropyLoss"},
             {"step", "_step"},
             {"tokens_seen", "throughput/total_tokens"}};
    c.task_columns = {"eval/downstream/(.*)_(len_norm|acc)", "eval/downstream_soft/(.*)_soft",
                      "eval/downstream_bpb/(.*)_bpb"};
    auto r = import_wide_csv(o, c);
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    EXPECT_EQ(r->files, 2);
    const Point *p = find(r->points, "150M-2xC", 200, "arc_easy", "len_norm");
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->tokens, 2 * 20 * 150e6);
    EXPECT_EQ(p->tokens_seen, 2e8);
    EXPECT_EQ(p->loss, 4.5);
    EXPECT_DOUBLE_EQ(p->baseline, 0.25);
    EXPECT_DOUBLE_EQ(find(r->points, "150M-2xC", 100, "boolq", "acc")->baseline, 0.5);
    EXPECT_DOUBLE_EQ(find(r->points, "150M-2xC", 100, "arc_easy", "soft")->baseline, 0.25);
    EXPECT_TRUE(std::isnan(find(r->points, "150M-2xC", 100, "arc_easy", "bpb")->baseline));
    EXPECT_EQ(find(r->points, "150M-2xC", 200, "boolq", "acc"), nullptr);  // empty cell: missing
    EXPECT_NE(find(r->points, "150M-2xC-rerun", 100, "arc_easy", "len_norm"), nullptr);
    EXPECT_EQ(r->points.size(), 4u + 3u + 4u);
}

TEST(ImportCsv, MalformedCellsAndDuplicateStepsAreLocated) {
    TempDir tmp("widecsv_bad");
    testing::write_file(tmp / "r.csv", "step,loss,piqa_acc\n10,4.0,0.5\n20,3.9,abc\n");
    ImportOptions o;
    o.files = {tmp / "r.csv"};
    o.pattern = "*.csv";
    o.params = {"1e6"};
    o.tokens = {"1e8"};
    o.tokens_per_step = 100;
    CsvImportOptions c;
    c.map = {{"loss", "loss"}, {"step", "step"}};
    c.task_columns = {"(.*)_(acc)"};
    auto r = import_wide_csv(o, c);
    ASSERT_FALSE(r.is_ok());
    EXPECT_NE(r.status().message().find("r.csv:3:8: column 'piqa_acc' must be a number"),
              std::string::npos)
        << r.status().message();

    testing::write_file(tmp / "r.csv", "step,loss,piqa_acc\n10,4.0,0.5\n10,3.9,0.6\n");
    r = import_wide_csv(o, c);
    ASSERT_FALSE(r.is_ok());
    EXPECT_NE(r.status().message().find("r.csv:3:1: step 10 of run 'r' appears again (first at"),
              std::string::npos)
        << r.status().message();

    c.map["loss"] = "Loss";
    r = import_wide_csv(o, c);
    ASSERT_FALSE(r.is_ok());
    EXPECT_NE(r.status().message().find("r.csv:1:1: no column 'Loss' (from --map loss=Loss)"),
              std::string::npos);
}

// A percentage where a proportion belongs, or a budget the run overshoots by far, is refused at
// its cell.
TEST(ImportCsv, ImpossibleValuesAreRefusedAtTheirCell) {
    TempDir tmp("widecsv_impossible");
    testing::write_file(tmp / "r.csv",
                        "step,loss,piqa_acc,piqa_bpb\n10,4.0,0.5,1.5\n20,3.9,57,1.2\n");
    ImportOptions o;
    o.files = {tmp / "r.csv"};
    o.pattern = "*.csv";
    o.params = {"1e6"};
    o.tokens = {"1e8"};
    o.tokens_per_step = 100;
    CsvImportOptions c;
    c.map = {{"loss", "loss"}, {"step", "step"}};
    c.task_columns = {"(.*)_(acc|bpb)"};
    auto r = import_wide_csv(o, c);
    ASSERT_FALSE(r.is_ok());
    EXPECT_NE(r.status().message().find("r.csv:3:8: column 'piqa_acc' is a proportion (metric "
                                        "'acc') but holds 57; a proportion lies in [0, 1]"),
              std::string::npos)
        << r.status().message();

    testing::write_file(tmp / "r.csv", "step,loss,piqa_acc\n10,4.0,0.5\n2000000,3.9,0.6\n");
    r = import_wide_csv(o, c);
    ASSERT_FALSE(r.is_ok());
    EXPECT_NE(r.status().message().find("r.csv:3:1: tokens_seen 200000000 exceeds the run's "
                                        "token budget 100000000 by more than 1%"),
              std::string::npos)
        << r.status().message();
}

TEST(ImportCsv, CliErrorIsOneLineAndLeavesNoPointsFile) {
    TempDir tmp("widecsv_cli");
    testing::write_file(tmp / "r.csv", "step,loss,piqa_acc\n10,4.0,0.5\n20,-1,0.6\n");
    auto r = testing::cli_run(
        "import csv " + (tmp / "r.csv") +
            " --pattern '*.csv' --params 1e6 --tokens 1e8 --tokens-per-step 100 --map loss=loss "
            "--map step=step --task-columns '(.*)_(acc)' --out " +
            (tmp / "points.csv"),
        tmp);
    EXPECT_NE(r.code, 0);
    EXPECT_EQ(testing::line_count(r.err), 1) << r.err;
    EXPECT_NE(r.err.find("r.csv:3:4: loss must be a number > 0, got '-1'"), std::string::npos)
        << r.err;
    EXPECT_FALSE(std::filesystem::exists(tmp / "points.csv"));

    testing::write_file(tmp / "r.csv", "step,loss,piqa_acc\n10,4.0,0.5\n20,3.5,0.6\n");
    r = testing::cli_run(
        "import csv " + (tmp / "r.csv") +
            " --pattern '*.csv' --params 1e6 --tokens 1e8 --tokens-per-step 100 --map loss=loss "
            "--map step=step --task-columns '(.*)_(acc)' --out " +
            (tmp / "points.csv"),
        tmp);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("2 points from 1 files"), std::string::npos) << r.out;
}

TEST(PathPattern, FieldsAndWildcards) {
    auto p = path_pattern_compile("pythia-{run}/{size}_step{step}.json");
    ASSERT_TRUE(p.is_ok());
    std::map<std::string, std::string> f;
    ASSERT_TRUE(path_pattern_match(*p, "pythia-1.4b/1.4b_step143000.json", f));
    EXPECT_EQ(f["run"], "1.4b");
    EXPECT_EQ(f["size"], "1.4b");
    EXPECT_EQ(f["step"], "143000");
    EXPECT_TRUE(path_pattern_match(*p, "/data/evals/pythia-70m/70m_step0.json", f));
    EXPECT_FALSE(path_pattern_match(*p, "pythia-70m/70m_stepX.json", f));
    auto q = path_pattern_compile("{size}-{xc}xC*.csv");
    ASSERT_TRUE(q.is_ok());
    ASSERT_TRUE(path_pattern_match(*q, "1B-0.5xC-rerun.csv", f));
    EXPECT_EQ(f["size"], "1B");
    EXPECT_EQ(f["xc"], "0.5");
    EXPECT_FALSE(path_pattern_compile("{run}/{stp}.json").is_ok());
    EXPECT_FALSE(path_pattern_compile("{run/x.json").is_ok());
}

}  // namespace
}  // namespace em
