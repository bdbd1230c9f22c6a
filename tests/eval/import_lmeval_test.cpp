// The lm-evaluation-harness importer: results in the v0.3 and current layouts, path patterns,
// baselines and aggregates; malformed inputs give one located error.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <cmath>
#include <filesystem>

#include "eval/import_lmeval.h"
#include "tests/analysis/cli.h"

namespace em {
namespace {

using testing::TempDir;

// A proportion of n examples as lm-eval writes it: a whole number of successes over n, with the
// stderr sqrt(p(1-p)/(n-1)).
double share(double approx, int n) {
    return std::round(approx * n) / n;
}
std::string acc_entry(const char *name, double approx, int n) {
    const double p = share(approx, n);
    return fmt::format(R"("{0}": {1}, "{0}_stderr": {2})", name, p,
                       std::sqrt(p * (1 - p) / (n - 1)));
}

// A v0.3 results file: accuracies with their stderrs, LAMBADA perplexity.
std::string v03_file(double arc_acc, double ppl) {
    return fmt::format(R"({{"results": {{
  "arc_easy": {{{}, {}}},
  "lambada_openai": {{"ppl": {}, "ppl_stderr": 1.5, {}}},
  "hendrycksTest-anatomy": {{{}}},
  "hendrycksTest-virology": {{{}}},
  "mystery_task": {{{}}}
}}, "versions": {{"arc_easy": 0}}, "config": {{"model": "hf-causal"}}}})",
                       acc_entry("acc", arc_acc, 2376), acc_entry("acc_norm", 0.3, 2376), ppl,
                       acc_entry("acc", 0.4, 5153), acc_entry("acc", 0.3, 135),
                       acc_entry("acc", 0.2, 166), acc_entry("acc", 0.6, 1000));
}

const Point *find(const std::vector<Point> &pts, const std::string &run, int64_t step,
                  const std::string &task, const std::string &metric) {
    for (const auto &p : pts)
        if (p.run == run && p.step == step && p.task == task && p.metric == metric) return &p;
    return nullptr;
}

ImportOptions pythia_like(const TempDir &tmp) {
    ImportOptions o;
    o.dir = tmp / "evals";
    o.pattern = "pythia-{run}/{size}_step{step}.json";
    o.params = {"tiny=1000000", "small=3000000"};
    o.tokens = {"5e9"};
    o.tokens_per_step = 1000;
    return o;
}

TEST(ImportLmEval, V03LayoutWithPerplexityAsLoss) {
    TempDir tmp("lmeval03");
    testing::write_file(tmp / "evals/pythia-tiny/tiny_step100.json", v03_file(0.3, 400.0));
    testing::write_file(tmp / "evals/pythia-tiny/tiny_step2000.json", v03_file(0.4, 90.0));
    testing::write_file(tmp / "evals/pythia-small/small_step2000.json", v03_file(0.5, 30.0));
    testing::write_file(tmp / "evals/pythia-small/small_step10.json", v03_file(0.0, 900.0));
    testing::write_file(tmp / "evals/pythia-small/notes.txt",
                        "ignored: does not match the pattern");
    ImportOptions o = pythia_like(tmp);
    LmEvalOptions lm;
    lm.loss_from = "lambada_openai:ppl";
    auto r = import_lm_eval(o, lm);
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    EXPECT_EQ(r->files, 4);
    // A score of exactly 0 has a zero stderr: its n is the task's count at the other checkpoints.
    EXPECT_EQ(find(r->points, "small", 10, "arc_easy", "acc")->n, 2376);
    const Point *p = find(r->points, "tiny", 2000, "arc_easy", "acc");
    ASSERT_NE(p, nullptr);
    EXPECT_DOUBLE_EQ(p->loss, std::log(90.0));
    EXPECT_EQ(p->n, 2376);  // from the stderr
    EXPECT_DOUBLE_EQ(p->baseline, 0.25);
    EXPECT_EQ(p->params, 1e6);
    EXPECT_EQ(p->tokens, 5e9);
    EXPECT_EQ(p->tokens_seen, 2e6);
    EXPECT_DOUBLE_EQ(find(r->points, "tiny", 100, "lambada_openai", "acc")->baseline, 0.0);
    // The loss itself is not a task row.
    EXPECT_EQ(find(r->points, "tiny", 100, "lambada_openai", "ppl"), nullptr);
    // Unknown task: baseline 0 with one warning naming the fix.
    EXPECT_DOUBLE_EQ(find(r->points, "small", 2000, "mystery_task", "acc")->baseline, 0.0);
    ASSERT_EQ(r->warnings.size(), 1u);
    EXPECT_NE(r->warnings[0].find("--choices mystery_task=K"), std::string::npos) << r->warnings[0];
}

TEST(ImportLmEval, AggregatesAreExampleWeightedMeans) {
    TempDir tmp("lmeval_agg");
    testing::write_file(tmp / "evals/pythia-tiny/tiny_step100.json", v03_file(0.3, 400.0));
    ImportOptions o = pythia_like(tmp);
    o.aggregate = {"mmlu=hendrycksTest-.*"};
    o.drop_aggregated = true;
    o.task_filter = "^(mmlu|arc_easy)$";
    LmEvalOptions lm;
    lm.loss_from = "lambada_openai:ppl";
    auto r = import_lm_eval(o, lm);
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    const Point *m = find(r->points, "tiny", 100, "mmlu", "acc");
    ASSERT_NE(m, nullptr);
    const int n1 = 135, n2 = 166;
    EXPECT_EQ(m->n, n1 + n2);
    EXPECT_NEAR(m->value, (share(0.3, n1) * n1 + share(0.2, n2) * n2) / (n1 + n2), 1e-12);
    EXPECT_DOUBLE_EQ(m->baseline, 0.25);
    EXPECT_EQ(find(r->points, "tiny", 100, "hendrycksTest-anatomy", "acc"), nullptr);
    EXPECT_EQ(find(r->points, "tiny", 100, "mystery_task", "acc"), nullptr);
    EXPECT_TRUE(r->warnings.empty())
        << r->warnings[0];  // the filtered-out task is not warned about
}

TEST(ImportLmEval, CurrentLayoutWithFiltersSampleCountsAndLossCsv) {
    TempDir tmp("lmeval04");
    const char *file = R"({"results": {
  "arc_challenge": {"alias": "arc_challenge", "acc,none": 0.3003412969283277, "acc_stderr,none": 0.013,
                    "acc_norm,none": 0.3302047781569966, "acc_norm_stderr,none": 0.0137},
  "gsm8k": {"alias": "gsm8k", "exact_match,strict-match": 0.050037907505686124, "exact_match_stderr,strict-match": 0.006,
            "exact_match,flexible-extract": 0.06974981046247157, "exact_match_stderr,flexible-extract": "N/A"}},
 "n-samples": {"arc_challenge": {"original": 1172, "effective": 1172}, "gsm8k": {"original": 1319, "effective": 1319}},
 "configs": {}, "versions": {}, "n-shot": {}, "config": {}})";
    testing::write_file(tmp / "evals/runA/step_00000500/results.json", file);
    testing::write_file(tmp / "loss.csv", "run,step,loss\nrunA,500,3.25\n");
    ImportOptions o;
    o.dir = tmp / "evals";
    o.pattern = "{run}/step_{step}/results.json";
    o.params = {"2e6"};
    o.tokens = {"runA=4e7"};
    o.tokens_per_step = 4096;
    o.loss_csv = tmp / "loss.csv";
    auto r = import_lm_eval(o, LmEvalOptions{});
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    const Point *a = find(r->points, "runA", 500, "arc_challenge", "acc_norm");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->n, 1172);
    EXPECT_EQ(a->loss, 3.25);
    EXPECT_EQ(a->tokens, 4e7);
    const Point *g = find(r->points, "runA", 500, "gsm8k", "exact_match_strict-match");
    ASSERT_NE(g, nullptr);
    EXPECT_EQ(g->n, 1319);
    EXPECT_DOUBLE_EQ(g->baseline, 0.0);
    EXPECT_NE(find(r->points, "runA", 500, "gsm8k", "exact_match_flexible-extract"), nullptr);

    // A checkpoint the loss file lacks.
    testing::write_file(tmp / "evals/runA/step_00000900/results.json", file);
    auto bad = import_lm_eval(o, LmEvalOptions{});
    ASSERT_FALSE(bad.is_ok());
    EXPECT_NE(bad.status().message().find("no loss for run 'runA' step 900; add the row to"),
              std::string::npos)
        << bad.status().message();
}

// Values that a 0/1 mean cannot take are refused naming the task's entry; a stderr too rounded to
// give the sample count leaves n unknown instead of a count the value does not fit.
TEST(ImportLmEval, ImpossibleValuesAreRefusedAndUnfitCountsDropped) {
    TempDir tmp("lmeval_impossible");
    auto file = [](const std::string &arc) {
        return R"({"results": {"arc_challenge": {)" + arc +
               R"(}, "lambada_openai": {"ppl": 30}}, "n-samples": {"arc_challenge": {"original": 1172, "effective": 1172}}})";
    };
    testing::write_file(tmp / "evals/pythia-tiny/tiny_step100.json",
                        file(R"("acc,none": 30.03, "acc_stderr,none": 0.013)"));
    ImportOptions o = pythia_like(tmp);
    LmEvalOptions lm;
    lm.loss_from = "lambada_openai:ppl";
    auto r = import_lm_eval(o, lm);
    ASSERT_FALSE(r.is_ok());
    EXPECT_NE(r.status().message().find("tiny_step100.json:1:14: task 'arc_challenge' metric "
                                        "'acc' is a proportion of examples but has value 30.03"),
              std::string::npos)
        << r.status().message();

    testing::write_file(tmp / "evals/pythia-tiny/tiny_step100.json",
                        file(R"("acc,none": 0.3, "acc_stderr,none": 0.013)"));
    r = import_lm_eval(o, lm);
    ASSERT_FALSE(r.is_ok());
    EXPECT_NE(r.status().message().find("has value 0.3 over 1172 samples (n-samples), which is "
                                        "not a whole number"),
              std::string::npos)
        << r.status().message();

    // No n-samples, a stderr rounded to two digits: n = 0.21 / 0.013^2 + 1 = 1244 does not fit.
    testing::write_file(tmp / "evals/pythia-tiny/tiny_step100.json",
                        R"({"results": {"arc_challenge": {"acc": 0.3, "acc_stderr": 0.013},
                            "lambada_openai": {"ppl": 30}}})");
    r = import_lm_eval(o, lm);
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    EXPECT_EQ(find(r->points, "tiny", 100, "arc_challenge", "acc")->n, 0);
}

TEST(ImportLmEval, MalformedFilesNameTheirPlace) {
    TempDir tmp("lmeval_bad");
    testing::write_file(tmp / "evals/pythia-tiny/tiny_step100.json",
                        "{\"results\": {\n  \"arc_easy\": {\"acc\": 0.3,,}\n}}");
    ImportOptions o = pythia_like(tmp);
    LmEvalOptions lm;
    lm.loss_from = "lambada_openai:ppl";
    auto r = import_lm_eval(o, lm);
    ASSERT_FALSE(r.is_ok());
    std::string m = r.status().message();
    EXPECT_NE(m.find("tiny_step100.json:2:27: invalid JSON"), std::string::npos) << m;

    testing::write_file(tmp / "evals/pythia-tiny/tiny_step100.json",
                        "{\"results\": {\"arc_easy\": {\"acc\": 0.3}}}");
    r = import_lm_eval(o, lm);
    ASSERT_FALSE(r.is_ok());
    EXPECT_NE(r.status().message().find("tiny_step100.json:1:2: no task 'lambada_openai'"),
              std::string::npos)
        << r.status().message();

    testing::write_file(tmp / "evals/pythia-tiny/tiny_step100.json", v03_file(0.3, 50));
    o.params = {"small=3000000"};
    r = import_lm_eval(o, lm);
    ASSERT_FALSE(r.is_ok());
    EXPECT_NE(r.status().message().find(
                  "no parameter count for run 'tiny' (size 'tiny'); pass --params tiny=N"),
              std::string::npos)
        << r.status().message();

    o.pattern = "pythia-{run}/{size}_step{step}.jsn";
    r = import_lm_eval(o, lm);
    ASSERT_FALSE(r.is_ok());
    EXPECT_NE(r.status().message().find("no file matches --pattern"), std::string::npos);

    // A step too large for an integer is an error naming the file, not a crash.
    std::filesystem::remove_all(tmp / "evals/pythia-tiny");
    testing::write_file(tmp / "evals/pythia-tiny/tiny_step99999999999999999999999.json",
                        v03_file(0.3, 50));
    o.pattern = "pythia-{run}/{size}_step{step}.json";
    o.params = {"tiny=1000000"};
    r = import_lm_eval(o, lm);
    ASSERT_FALSE(r.is_ok());
    EXPECT_NE(r.status().message().find("{step} is '99999999999999999999999' in its path, not an "
                                        "integer"),
              std::string::npos)
        << r.status().message();
}

}  // namespace
}  // namespace em
