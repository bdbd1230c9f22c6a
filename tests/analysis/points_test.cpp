// The points table: a written table reads back identically; every malformed file gives one error
// naming file, line, column and the fix, also through the CLI (non-zero exit, one stderr line,
// no output left behind).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "analysis/metrics.h"
#include "analysis/points.h"
#include "cli.h"
#include "common/csv.h"
#include "eval/task.h"

namespace em {
namespace {

using testing::TempDir;

const char *kHeader = "run,params,tokens,step,tokens_seen,loss,task,metric,value,n,baseline\n";

std::vector<Point> sample_points() {
    std::vector<Point> v;
    for (int step : {100, 200})
        for (const char *metric : {"acc", "brier_score"}) {
            Point p;
            p.run = "small, \"quoted\"";
            p.params = 1.5e6;
            p.tokens = 3e7;
            p.step = step;
            p.tokens_seen = step * 1e5;
            p.loss = 4.0 - step / 1000.0;
            p.task = "arc_easy";
            p.metric = metric;
            p.value = std::string(metric) == "acc" ? 0.3125 : 0.7;
            p.n = std::string(metric) == "acc" ? 512 : 0;
            p.baseline = std::string(metric) == "acc" ? 0.25 : 0.75;
            v.push_back(p);
        }
    Point q = v[0];
    q.task = "gen";
    q.metric = "bpb";
    q.baseline = std::nan("");
    v.push_back(q);
    return v;
}

TEST(Points, WrittenTableReadsBackIdentically) {
    TempDir tmp("points");
    auto pts = sample_points();
    ASSERT_TRUE(points_write(tmp / "points.csv", pts).is_ok());
    EXPECT_FALSE(std::filesystem::exists(tmp / "points.csv.tmp"));
    auto back = points_read(tmp / "points.csv");
    ASSERT_TRUE(back.is_ok()) << back.status().message();
    ASSERT_EQ(back->size(), pts.size());
    for (size_t i = 0; i < pts.size(); ++i) {
        const Point &a = pts[i], &b = (*back)[i];
        EXPECT_EQ(a.run, b.run);
        EXPECT_EQ(a.params, b.params);
        EXPECT_EQ(a.tokens, b.tokens);
        EXPECT_EQ(a.step, b.step);
        EXPECT_EQ(a.tokens_seen, b.tokens_seen);
        EXPECT_EQ(a.loss, b.loss);
        EXPECT_EQ(a.task, b.task);
        EXPECT_EQ(a.metric, b.metric);
        EXPECT_EQ(a.value, b.value);
        EXPECT_EQ(a.n, b.n);
        EXPECT_EQ(std::isnan(a.baseline), std::isnan(b.baseline));
        if (!std::isnan(a.baseline)) {
            EXPECT_EQ(a.baseline, b.baseline);
        }
    }
}

TEST(Points, ColumnsMayComeInAnyOrder) {
    auto r = points_parse(
        "task,metric,value,n,baseline,run,params,tokens,step,tokens_seen,loss\n"
        "t,acc,0.5,10,0.25,r,100,1000,1,10,3.5\n",
        "x.csv");
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    EXPECT_EQ((*r)[0].loss, 3.5);
    EXPECT_EQ((*r)[0].n, 10);
}

struct Bad {
    const char *body;   // rows after the header (or a whole file when it starts with '!')
    const char *where;  // expected "file:line:column"
    const char *what;   // expected part of the message
};

TEST(Points, MalformedTablesNameFileLineColumnAndFix) {
    const Bad cases[] = {
        {"r,100,1000,1,10,abc,t,acc,0.5,10,0.25\n", "bad.csv:2:17",
         "column 'loss' must be a finite number"},
        {"r,100,1000,1,10,3.5,t,acc,0.5,10,0.25\nr,100,1000,2,20,nan,t,acc,0.5,10,0.25\n",
         "bad.csv:3:17", "'loss'"},
        {"r,100,1000,1.5,10,3.5,t,acc,0.5,10,0.25\n", "bad.csv:2:12", "'step' must be an integer"},
        {"r,100,1000,1,10,3.5,t,acc,0.5,-3,0.25\n", "bad.csv:2:31",
         "column 'n' is -3; a value rests on at least one example"},
        {"r,0,1000,1,10,3.5,t,acc,0.5,10,0.25\n", "bad.csv:2:3", "'params' must be a number > 0"},
        {"r,100,1000,1,10,3.5,,acc,0.5,10,0.25\n", "bad.csv:2:21", "'task' is empty"},
        {"r,100,1000,1,10,3.5,t,acc,0.5,10\n", "bad.csv:2:1", "expected 11 fields"},
        {"r,100,1000,1,10,3.5,t,acc,0.5,10,0.25\nr,100,1000,1,10,3.6,t,f1,0.5,10,0.25\n",
         "bad.csv:3:17", "has loss 3.6 here but 3.5"},
        {"r,100,1000,1,10,3.5,t,acc,0.5,10,0.25\nr,200,1000,2,10,3.5,t,acc,0.5,10,0.25\n",
         "bad.csv:3:3", "run 'r' has params 200"},
        {"r,100,1000,1,10,3.5,t,acc,0.5,10,0.25\nr,100,1000,1,10,3.5,t,acc,0.6,10,0.25\n",
         "bad.csv:3:23", "duplicate row"},
        {"r,100,1000,1,10,3.5,t,acc,0.5,10,0.25\nr,100,1000,2,20,3.4,t,acc,0.6,10,0.5\n",
         "bad.csv:3:34", "has baseline 0.5 here but 0.25"},
        {"\"r,100,1000,1,10,3.5,t,acc,0.5,10,0.25\n", "bad.csv:2:1", "never closed"},
        {"!run,params,tokens,step,tokens_seen,loss,task,metric,value,n\n", "bad.csv:1:1",
         "missing column 'baseline'"},
        {"!run,params,tokens,step,tokens_seen,loss,task,metric,value,n,baseline,extra\n",
         "bad.csv:1:70", "unknown column 'extra'"},
        {"", "bad.csv:2:1", "no rows"},
    };
    for (const Bad &b : cases) {
        std::string text =
            b.body[0] == '!' ? std::string(b.body + 1) : std::string(kHeader) + b.body;
        auto r = points_parse(text, "bad.csv");
        ASSERT_FALSE(r.is_ok()) << b.body;
        std::string m = r.status().message();
        EXPECT_EQ(m.rfind(b.where, 0), 0u) << m;
        EXPECT_NE(m.find(b.what), std::string::npos) << m;
        EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    }
}

TEST(Points, WriterRefusesInconsistentPointsAndLeavesNoFile) {
    TempDir tmp("points_bad");
    auto pts = sample_points();
    pts[1].loss = 9.0;  // same checkpoint, another loss
    Status s = points_write(tmp / "points.csv", pts);
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("has loss 9 here"), std::string::npos) << s.message();
    EXPECT_FALSE(std::filesystem::exists(tmp / "points.csv"));
    EXPECT_FALSE(std::filesystem::exists(tmp / "points.csv.tmp"));
}

// Values that no evaluation can produce: each is refused at its cell, with the fix.
TEST(Points, ImpossibleValuesAreRefusedAtTheirCell) {
    // Columns of "r,100,1000,1,10,3.5,t,acc,V,N,0.25": tokens_seen 14, loss 17, value 27.
    const Bad cases[] = {
        {"r,100,1000,1,10,3.5,t,acc,1.2,10,0.25\n", "bad.csv:2:27",
         "proportion of examples, but its value is 1.2; a proportion lies in [0, 1]"},
        {"r,100,1000,1,10,3.5,t,acc,-0.1,10,0.25\n", "bad.csv:2:27", "lies in [0, 1]"},
        {"r,100,1000,1,10,3.5,t,exact_match,42,,0\n", "bad.csv:2:35", "write 0.42, not 42"},
        {"r,100,1000,1,10,3.5,t,acc,0.55,10,0.25\n", "bad.csv:2:27",
         "value 0.55 of n = 10 examples is 5.5 successes, not a whole number"},
        {"r,100,1000,1,10,3.5,t,exact_match,0.094,600,0\n", "bad.csv:2:35", "56.4 successes"},
        {"r,100,1000,1,10,3.5,t,acc,0.5,0,0.25\n", "bad.csv:2:31",
         "column 'n' is 0; a value rests on at least one example"},
        {"r,100,1000,1,10,3.5,t,acc,0.5,0.0,0.25\n", "bad.csv:2:31", "column 'n' is 0.0"},
        {"r,100,1000,1,10,-2,t,acc,0.5,10,0.25\n", "bad.csv:2:17",
         "'loss' must be a finite number > 0"},
        {"r,100,1000,1,10,0,t,acc,0.5,10,0.25\n", "bad.csv:2:17",
         "'loss' must be a finite number > 0"},
        {"r,100,1000,1,10,inf,t,acc,0.5,10,0.25\n", "bad.csv:2:17",
         "'loss' must be a finite number"},
        {"r,100,1000,1,2000,3.5,t,acc,0.5,10,0.25\n", "bad.csv:2:14",
         "tokens_seen 2000 exceeds the run's token budget (tokens = 1000) by more than 1%"},
        {"r,100,1000,1,10,3.5,t,acc,0.5,10,0.25\nr,100,1000,1,10,3.5,t,acc,0.7,10,0.25\n",
         "bad.csv:3:23", "(value 0.7 here, 0.5 on an earlier row)"},
        {"r,100,1000,1,10,3.5,t,acc,0.5,10,0.25\nr,100,1000,1,10,3.5,t,acc,0.5,10,0.25\n",
         "bad.csv:3:23", "duplicate row"},
    };
    for (const Bad &b : cases) {
        auto r = points_parse(std::string(kHeader) + b.body, "bad.csv");
        ASSERT_FALSE(r.is_ok()) << b.body;
        std::string m = r.status().message();
        EXPECT_EQ(m.rfind(b.where, 0), 0u) << m;
        EXPECT_NE(m.find(b.what), std::string::npos) << m;
        EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    }
}

// What is possible stays accepted: rounded proportions, continuous scores above 1, an overshoot
// of the budget by a last batch, n unknown.
TEST(Points, PossibleValuesAtTheEdgesAreAccepted) {
    const char *rows[] = {
        "r,100,1000,1,10,3.5,t,acc,0.333,3,0.25\n",               // 1/3 rounded to 3 places
        "r,100,1000,1,10,3.5,t,acc,0.3333333333333333,3,0.25\n",  // 1/3 in full
        "r,100,1000,1,10,3.5,t,acc,3.333e-1,3,0.25\n",            // the same in exponent form
        "r,100,1000,1,10,3.5,t,acc,0.5,,0.25\n",                  // n unknown
        "r,100,1000,1,10,3.5,t,acc,0,10,0.25\n",                  // none right
        "r,100,1000,1,10,3.5,t,acc,1,10,0.25\n",                  // all right
        "r,100,1000,1,1005,3.5,t,acc,1,10,0.25\n",                // 0.5% past the budget
        "r,100,1000,1,10,3.5,t,bits_per_byte,1.92,600,\n",        // continuous, above 1
        "r,100,1000,1,10,3.5,t,brier_score,0.123456,7,0.75\n",    // continuous: any n
    };
    for (const char *row : rows) {
        auto r = points_parse(std::string(kHeader) + row, "ok.csv");
        EXPECT_TRUE(r.is_ok()) << row << r.status().message();
    }
}

TEST(Points, ValidatorRefusesImpossibleInMemoryPoints) {
    auto pts = sample_points();
    pts[0].value = 0.31;  // of n = 512: 158.72 successes
    Status s = points_validate(pts, "study points");
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("study points: row 1 (run"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("not a whole number"), std::string::npos) << s.message();
    pts = sample_points();
    pts[0].tokens_seen = 2 * pts[0].tokens;
    s = points_validate(pts, "study points");
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("column 'tokens_seen'"), std::string::npos) << s.message();
}

TEST(Points, CliReportsAMalformedTableInOneLineAndWritesNothing) {
    TempDir tmp("points_cli");
    testing::write_file(tmp / "bad.csv", std::string(kHeader) +
                                             "r,100,1000,1,10,3.5,t,acc,0.5,10,0.25\n"
                                             "r,100,1000,2,20,3.4,t,acc,x,10,0.25\n");
    auto r =
        testing::cli_run("analyze --points " + (tmp / "bad.csv") + " --out " + (tmp / "out"), tmp);
    EXPECT_NE(r.code, 0);
    EXPECT_EQ(testing::line_count(r.err), 1) << r.err;
    EXPECT_NE(r.err.find(tmp / "bad.csv:3:27: column 'value' must be a finite number, got 'x'"),
              std::string::npos)
        << r.err;
    EXPECT_FALSE(std::filesystem::exists(tmp / "out/analysis.json"));

    auto rep = testing::cli_run("report --points " + (tmp / "bad.csv") + " --analysis " +
                                    (tmp / "none.json") + " --out " + (tmp / "report.html"),
                                tmp);
    EXPECT_NE(rep.code, 0);
    EXPECT_EQ(testing::line_count(rep.err), 1) << rep.err;
    EXPECT_FALSE(std::filesystem::exists(tmp / "report.html"));
}

TEST(Csv, ParsesQuotesAndCrLfAndKeepsPositions) {
    auto t = csv_parse("a,b\r\n\"x,1\",\"say \"\"hi\"\"\"\r\n\r\n3,4", "f.csv");
    ASSERT_TRUE(t.is_ok()) << t.status().message();
    ASSERT_EQ(t->rows.size(), 2u);
    EXPECT_EQ(t->rows[0][0].text, "x,1");
    EXPECT_EQ(t->rows[0][1].text, "say \"hi\"");
    EXPECT_EQ(t->rows[1][1].line, 4);
    EXPECT_EQ(t->rows[1][1].column, 3);
    EXPECT_FALSE(number_parse(" 1").has_value());
    EXPECT_FALSE(number_parse("inf").has_value());
    EXPECT_EQ(integer_parse("1200.0").value(), 1200);
    EXPECT_FALSE(integer_parse("12.5").has_value());
}

// The analysis reads a metric's direction from its name; for every metric the evaluator writes
// it must agree with the evaluator's own (token_edit_distance: lower is better).
TEST(Metrics, DirectionsAgreeWithTheEvaluator) {
    for (OutputType t : {OutputType::multiple_choice, OutputType::loglikelihood,
                         OutputType::loglikelihood_rolling, OutputType::generate_until})
        for (const std::string &m : task_default_metrics(t))
            EXPECT_EQ(metric_info(m).higher_is_better, metric_higher_is_better(m)) << m;
    EXPECT_FALSE(metric_info("token_edit_distance").higher_is_better);
    EXPECT_FALSE(metric_info("word_error_rate").higher_is_better);
}

}  // namespace
}  // namespace em
