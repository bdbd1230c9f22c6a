// The whole analysis on synthetic runs with a planted truth: an emergent task (and its continuous
// metric), a smooth task and a task stuck at chance; loss collapses the runs better than compute;
// a planted size effect at matched loss is detected; the extrapolation check separates emergent
// from smooth; the planted scaling law is recovered and turns η into a model size; predict reads
// it back.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

#include "analysis/analysis.h"
#include "analysis/collapse.h"
#include "analysis/predict.h"
#include "cli.h"
#include "common/rng.h"
#include "synthetic.h"

namespace em {
namespace {

using json = nlohmann::json;

const json *result(const json &a, const std::string &task, const std::string &metric) {
    for (const auto &r : a["results"])
        if (r["task"] == task && r["metric"] == metric) return &r;
    return nullptr;
}

double axis_r2(const json &r, const std::string &axis) {
    for (const auto &x : r["collapse"]["axes"])
        if (x["axis"] == axis) return x["r2"].get<double>();
    return NAN;
}

constexpr double kEta = 3.6;

std::vector<Point> planted_points() {
    auto runs = testing::synthetic_runs(4, 3);
    std::vector<Point> pts;
    testing::synthetic_task(
        pts, runs, 14, "emergent_task", "acc", 0.25,
        [](double L) { return 0.25 + 0.5 * std::max(0.0, kEta - L); }, 800, 0, 1);
    testing::synthetic_task(
        pts, runs, 14, "emergent_task", "correct_choice_prob", 0.25,
        [](double L) { return 0.25 + 0.3 * std::max(0.0, kEta - L); }, 0, 0.004, 2);
    testing::synthetic_task(
        pts, runs, 14, "smooth_task", "acc", 0.5, [](double L) { return 0.5 + 0.12 * (5.6 - L); },
        800, 0, 3);
    testing::synthetic_task(
        pts, runs, 14, "flat_task", "acc", 0.25, [](double) { return 0.25; }, 800, 0, 4);
    return pts;
}

AnalysisOptions fast_options() {
    AnalysisOptions o;
    o.threshold.bootstrap = 100;
    o.collapse.permutations = 199;
    o.law.bootstrap = 20;
    return o;
}

TEST(Analysis, PlantedTasksGetTheirVerdicts) {
    auto pts = planted_points();
    auto r = analysis_run(pts, fast_options());
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    const json a = analysis_to_json(*r);
    const json *em = result(a, "emergent_task", "acc");
    ASSERT_NE(em, nullptr);
    EXPECT_EQ((*em)["verdict"], "emergent");
    EXPECT_EQ((*em)["likelihood"], "binomial");
    ASSERT_TRUE((*em)["threshold"].is_object());
    EXPECT_LE((*em)["threshold"]["ci_low"].get<double>(), kEta);
    EXPECT_GE((*em)["threshold"]["ci_high"].get<double>(), kEta);
    EXPECT_LT((*em)["spearman"].get<double>(), -0.7);
    EXPECT_TRUE((*em)["extrapolation"]["exceeds_interval"].get<bool>());
    EXPECT_EQ((*em)["other_tasks_improving"], json::array({"smooth_task"}));

    const json *cont = result(a, "emergent_task", "correct_choice_prob");
    ASSERT_NE(cont, nullptr);
    EXPECT_EQ((*cont)["verdict"], "emergent");
    EXPECT_EQ((*cont)["likelihood"], "gaussian");

    const json *sm = result(a, "smooth_task", "acc");
    EXPECT_EQ((*sm)["verdict"], "smooth");
    EXPECT_TRUE((*sm)["threshold"].is_null());
    EXPECT_FALSE((*sm)["extrapolation"]["exceeds_interval"].get<bool>());

    const json *fl = result(a, "flat_task", "acc");
    EXPECT_EQ((*fl)["verdict"], "never_above_chance");
    EXPECT_TRUE((*fl)["threshold"].is_null());

    // Every number behind the verdict is recorded.
    for (const char *k : {"loglik", "aic", "bic"})
        EXPECT_TRUE((*em)["models"]["threshold"][k].is_number()) << k;
    EXPECT_TRUE((*em)["tests"]["threshold_vs_smooth"]["p"].is_number());
    EXPECT_TRUE((*em)["stretch"]["at_eta"]["frac_span"].is_number());
    EXPECT_GT((*em)["stretch"]["at_ci_high"]["frac_span"].get<double>(), 0.15);

    // Loss collapses the runs; compute and parameters do not.
    for (const json *s : {em, sm}) {
        EXPECT_EQ((*s)["collapse"]["best_axis"], "loss");
        EXPECT_GT(axis_r2(*s, "loss"), axis_r2(*s, "log_compute"));
        EXPECT_GT(axis_r2(*s, "loss"), axis_r2(*s, "log_params") + 0.1);
    }

    // The continuous metric's η agrees with the accuracy's.
    ASSERT_EQ(a["continuous_agreement"].size(), 1u);
    const json &ca = a["continuous_agreement"][0];
    EXPECT_EQ(ca["task"], "emergent_task");
    EXPECT_EQ(ca["reference"]["metric"], "acc");
    EXPECT_TRUE(ca["intervals_agree"].get<bool>());

    // The planted law comes back from the final losses, and η becomes a model size.
    const json &law = a["scaling_law"];
    ASSERT_TRUE(law["ok"].get<bool>()) << law["note"];
    EXPECT_EQ(law["points"], "final");
    EXPECT_NEAR(law["E"].get<double>(), 1.69, 0.03);
    EXPECT_NEAR(law["alpha"].get<double>(), 0.34, 0.02);
    EXPECT_NEAR(law["beta"].get<double>(), 0.28, 0.02);
    ASSERT_EQ(a["emergence_sizes"].size(), 2u);
    double need = a["emergence_sizes"][0]["params_needed"].get<double>();
    double D = a["emergence_sizes"][0]["tokens"].get<double>();
    EXPECT_NEAR(testing::synthetic_loss(need, D), a["emergence_sizes"][0]["eta"].get<double>(),
                0.02);

    // predict: below the loss of the smallest model, the emergent task is at chance.
    auto p = predict_from_analysis(*r, 5e6, 2e7);
    ASSERT_TRUE(p.is_ok()) << p.status().message();
    EXPECT_NEAR((*p)["loss"].get<double>(), testing::synthetic_loss(5e6, 2e7), 0.05);
    for (const auto &t : (*p)["tasks"])
        if (t["task"] == "emergent_task" && t["metric"] == "acc") {
            EXPECT_DOUBLE_EQ(t["value"].get<double>(), 0.25);
            EXPECT_TRUE(t["beyond_observed"].get<bool>());  // a higher loss than any checkpoint
        }
    auto big = predict_from_analysis(*r, 3e8, 3e10);
    ASSERT_TRUE(big.is_ok());
    for (const auto &t : (*big)["tasks"])
        if (t["task"] == "emergent_task" && t["metric"] == "acc") {
            EXPECT_GT(t["value"].get<double>(), 0.4);
        }
}

// Exact match on generated answers has baseline 0 but no chance level: an incapable model still
// gets an item right now and then. Its plateau is estimated, so rare lucky answers are not a rise,
// while a real threshold is still found.
TEST(Analysis, ExactMatchEstimatesItsPlateau) {
    auto runs = testing::synthetic_runs(4, 3);
    std::vector<Point> pts;
    for (uint64_t seed = 1; seed <= 4; ++seed)
        testing::synthetic_task(
            pts, runs, 14, "lucky" + std::to_string(seed), "exact_match", 0.0,
            [](double) { return 0.003; }, 100, 0, 10 + seed);
    testing::synthetic_task(
        pts, runs, 14, "emergent_gen", "exact_match", 0.0,
        [](double L) { return 0.01 + 0.5 * std::max(0.0, kEta - L); }, 300, 0, 20);
    testing::synthetic_task(
        pts, runs, 14, "smooth_gen", "exact_match", 0.0,
        [](double L) { return 0.02 + 0.12 * (5.6 - L); }, 300, 0, 21);
    auto r = analysis_run(pts, fast_options());
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    const json a = analysis_to_json(*r);
    for (uint64_t seed = 1; seed <= 4; ++seed) {
        const json *l = result(a, "lucky" + std::to_string(seed), "exact_match");
        ASSERT_NE(l, nullptr);
        EXPECT_EQ((*l)["verdict"], "never_above_chance") << (*l)["reasons"];
    }
    const json *em = result(a, "emergent_gen", "exact_match");
    ASSERT_NE(em, nullptr);
    EXPECT_EQ((*em)["verdict"], "emergent") << (*em)["reasons"];
    EXPECT_EQ((*em)["likelihood"], "binomial");
    ASSERT_TRUE((*em)["threshold"].is_object());
    EXPECT_LE((*em)["threshold"]["ci_low"].get<double>(), kEta);
    EXPECT_GE((*em)["threshold"]["ci_high"].get<double>(), kEta);
    const json *sm = result(a, "smooth_gen", "exact_match");
    ASSERT_NE(sm, nullptr);
    EXPECT_EQ((*sm)["verdict"], "smooth") << (*sm)["reasons"];
}

TEST(Analysis, WindowOptionsChooseThePoints) {
    auto pts = planted_points();
    AnalysisOptions o = fast_options();
    o.task_filter = "^smooth_task$";
    auto all = analysis_run(pts, o);
    ASSERT_TRUE(all.is_ok());
    int64_t n_default = all->results[0].n_points;
    int64_t expect = 0;
    for (const auto &p : pts) expect += p.task == "smooth_task" && p.tokens_seen >= 0.1 * p.tokens;
    EXPECT_EQ(n_default, expect);
    o.window_frac = 0;
    o.loss_min = 3.0;
    o.loss_max = 4.0;
    auto cut = analysis_run(pts, o);
    ASSERT_TRUE(cut.is_ok());
    const SeriesResult &r = cut->results[0];
    EXPECT_GE(r.loss_lo, 3.0);
    EXPECT_LE(r.loss_hi, 4.0);
    EXPECT_LT(r.n_points, n_default);
    o.loss_min = 40;
    o.loss_max = 50;
    auto none = analysis_run(pts, o);
    ASSERT_FALSE(none.is_ok());
    EXPECT_NE(none.status().message().find("no points fall in the window"), std::string::npos);
}

TEST(Collapse, DetectsASizeEffectAtMatchedLoss) {
    auto runs = testing::synthetic_runs(4, 3);
    for (double effect : {0.0, 0.04}) {
        std::vector<Point> pts;
        testing::synthetic_task(
            pts, runs, 14, "t", "acc", 0.25, [](double L) { return 0.25 + 0.2 * (5.6 - L); }, 0,
            0.01, 9);
        CollapseInput in;
        for (auto &p : pts) {
            if (p.params == runs.back().params)
                p.value += effect;  // the largest model does better at equal loss
            in.loss.push_back(p.loss), in.value.push_back(p.value), in.params.push_back(p.params);
            in.tokens.push_back(p.tokens), in.tokens_seen.push_back(p.tokens_seen);
        }
        CollapseOptions o;
        o.permutations = 299;
        CollapseResult c = collapse_analyze(in, o);
        ASSERT_EQ(c.axes.size(), 4u);
        EXPECT_EQ(c.axes[0].axis, "loss");
        EXPECT_EQ(c.axes[3].axis, "log_tokens");
        if (effect == 0) {
            EXPECT_GT(c.axes[0].size_test.p, 0.01);
            EXPECT_EQ(c.best_axis, "loss");
        } else {
            EXPECT_LT(c.axes[0].size_test.p, 0.01);
            double biggest = c.axes[0].by_size.back().mean,
                   smallest = c.axes[0].by_size.front().mean;
            EXPECT_GT(biggest - smallest, 0.005);
        }
    }
}

// A skill learned by exposure (a fact recalled once it has been seen often enough) follows the
// tokens a run has seen, whatever its size, and so not the loss, which also falls with size; a
// skill that follows the loss is not mistaken for one that follows exposure. Across sizes at equal
// tokens the loss differs, so the two axes part.
TEST(Collapse, TellsExposureFromLoss) {
    // paper-small's design: every size trains on the same token budgets.
    for (bool by_tokens : {false, true}) {
        CollapseInput in;
        Rng rng(22);
        int run = 0;
        for (double N : {2e7, 5e7, 1.2e8, 3e8})
            for (double D : {1e9, 3e9, 1e10}) {
                for (int c = 1; c <= 12; ++c) {
                    const double seen = D * (0.05 + 0.95 * (c - 1) / 11.0);
                    const double L = testing::synthetic_loss(N, seen);
                    // A rise in log tokens seen (logistic), or a linear one in loss.
                    const double q = by_tokens
                                         ? 0.25 + 0.7 / (1 + std::exp(-2 * std::log(seen / 2e9)))
                                         : std::clamp(0.25 + 0.35 * (3.9 - L), 0.0, 1.0);
                    in.loss.push_back(L), in.params.push_back(N), in.tokens.push_back(D);
                    in.tokens_seen.push_back(seen), in.run.push_back(run);
                    in.value.push_back(static_cast<double>(binomial_sample(rng, 400, q)) / 400);
                }
                ++run;
            }
        CollapseOptions o;
        o.permutations = 199;
        CollapseResult c = collapse_analyze(in, o);
        ASSERT_EQ(c.axes.size(), 4u);
        const double loss = c.axes[0].r2, tokens = c.axes[3].r2;
        if (by_tokens) {
            EXPECT_EQ(c.best_axis, "log_tokens");
            EXPECT_GT(tokens, loss + 0.05);
            EXPECT_GT(c.axes[3].size_test.p, 0.01);  // at matched tokens they do not
        } else {
            EXPECT_EQ(c.best_axis, "loss");
            EXPECT_GT(loss, tokens + 0.05);
            EXPECT_LT(c.axes[3].size_test.p, 0.05);
            EXPECT_GT(c.axes[0].size_test.p, 0.01);
        }
        std::printf(
            "planted on %s: R2 loss %.3f, log tokens %.3f; size p at matched loss %.3f, "
            "at matched tokens %.3f\n",
            by_tokens ? "tokens" : "loss", loss, tokens, c.axes[0].size_test.p,
            c.axes[3].size_test.p);
    }
}

// Checkpoints of one run share its offset (seed, data order), so with no size effect at all a
// test that permutes checkpoints mistakes run offsets for a size effect; permuting whole runs
// keeps its false-positive rate near its level, and still finds a real effect.
TEST(Collapse, PermutingWholeRunsKeepsTheLevelWhenRunsCarryOffsets) {
    auto runs = testing::synthetic_runs(4, 3);
    int false_by_run = 0, false_by_checkpoint = 0, found = 0;
    const int seeds = 20;
    for (int seed = 0; seed < seeds; ++seed) {
        for (double effect : {0.0, 0.1}) {
            std::vector<Point> pts;
            testing::synthetic_task(
                pts, runs, 14, "t", "acc", 0.25, [](double L) { return 0.25 + 0.2 * (5.6 - L); }, 0,
                0.005, 100 + static_cast<uint64_t>(seed));
            Rng rng(7 + static_cast<uint64_t>(seed));
            std::map<std::string, double> offset;
            std::map<std::string, int32_t> id;
            CollapseInput in;
            for (auto &p : pts) {
                if (!offset.count(p.run)) {
                    offset[p.run] = 0.02 * rng.normal();
                    id[p.run] = static_cast<int32_t>(id.size());
                }
                p.value += offset[p.run] + (p.params == runs.back().params ? effect : 0.0);
                in.loss.push_back(p.loss), in.value.push_back(p.value);
                in.params.push_back(p.params), in.tokens.push_back(p.tokens);
                in.tokens_seen.push_back(p.tokens_seen), in.run.push_back(id[p.run]);
            }
            CollapseOptions o;
            o.permutations = 199;
            o.seed = static_cast<uint64_t>(seed) + 1;
            const PermutationTest by_run = collapse_analyze(in, o).axes[0].size_test;
            EXPECT_EQ(by_run.unit, "run");
            if (effect > 0) {
                found += by_run.p < 0.05;
                continue;
            }
            false_by_run += by_run.p < 0.05;
            in.run.clear();
            const PermutationTest by_point = collapse_analyze(in, o).axes[0].size_test;
            EXPECT_EQ(by_point.unit, "checkpoint");
            false_by_checkpoint += by_point.p < 0.05;
        }
    }
    std::printf(
        "p < 0.05 without a size effect: %d of %d permuting runs, %d permuting "
        "checkpoints; with one: %d of %d\n",
        false_by_run, seeds, false_by_checkpoint, found, seeds);
    EXPECT_LE(false_by_run, 3);
    EXPECT_GE(false_by_checkpoint, 8);
    EXPECT_GE(found, 12);
}

TEST(Analysis, CliWritesAnalysisAndPrintsTheSummary) {
    testing::TempDir tmp("analyze_cli");
    ASSERT_TRUE(points_write(tmp / "points.csv", planted_points()).is_ok());
    auto r =
        testing::cli_run("analyze --points " + (tmp / "points.csv") + " --out " + (tmp / "an") +
                             " --bootstrap 50 --permutations 99 --tasks '^(emergent|flat)_task$'",
                         tmp);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("emergent_task/acc"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("never_above_chance"), std::string::npos) << r.out;
    EXPECT_TRUE(std::filesystem::exists(tmp / "an/analysis.json"));
    auto p = testing::cli_run(
        "predict --analysis " + (tmp / "an/analysis.json") + " --params 3e8 --tokens 3e10", tmp);
    ASSERT_EQ(p.code, 0) << p.err;
    EXPECT_NE(p.out.find("predicted loss"), std::string::npos) << p.out;
    auto bad = testing::cli_run(
        "predict --analysis " + (tmp / "points.csv") + " --params 3e8 --tokens 3e10", tmp);
    EXPECT_NE(bad.code, 0);
    EXPECT_EQ(testing::line_count(bad.err), 1) << bad.err;
}

}  // namespace
}  // namespace em
