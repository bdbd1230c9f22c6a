// The study runner end to end on a micro study (user corpus, user task, two tiny sizes x two
// budgets): it produces a points table, and a study killed with SIGKILL at three random moments
// and rerun each time ends with a points table identical to an uninterrupted run's.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "common/fileio.h"
#include "common/rng.h"
#include "eval/eval.h"
#include "eval/task.h"
#include "study/collect.h"
#include "study/config.h"
#include "study/ledger.h"
#include "study/plan.h"
#include "study/runner.h"
#include "study/select.h"
#include "study/status.h"
#include "tasks/builtin_tasks.h"
#include "tasks/suite.h"
#include "tests/study/micro.h"
#include "tests/train/fixtures.h"

namespace em {
namespace {

using testing::temp_dir;

pid_t spawn_study(const std::string &dir, const char *arg1 = nullptr, const char *arg2 = nullptr) {
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = ::open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(devnull, 2);
        std::string cfg = dir + "/study.toml", out = dir + "/out";
        execl(EM_BINARY, EM_BINARY, "study", cfg.c_str(), "--dir", out.c_str(), arg1, arg2,
              (char *)nullptr);
        _exit(127);
    }
    return pid;
}

// Runs the study to its end with what it prints on stderr captured: (exit status, output).
std::pair<int, std::string> run_study_captured(const std::string &dir) {
    return testing::run_captured(std::string(EM_BINARY) + " study " + dir + "/study.toml --dir " +
                                 dir + "/out 2>&1 >/dev/null");
}

int wait_exit(pid_t pid) {
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

TEST(Study, MicroStudyConfigPlansTheGrid) {
    std::string dir = temp_dir("study_cfg");
    write_micro_inputs(dir);
    auto c = study_config_load(dir + "/study.toml");
    ASSERT_TRUE(c.is_ok()) << c.status().message();
    auto runs = study_plan_runs(*c, dir + "/out", 200);
    ASSERT_EQ(runs.size(), 4u);
    EXPECT_EQ(runs[0].name, "a-12.8k");
    EXPECT_EQ(runs[3].name, "b-25.6k");
    EXPECT_EQ(runs[3].train.total_steps(), 100);
    // One log-spaced step (round(50^(1/2)) = 7), then every half of the run.
    EXPECT_EQ(runs[3].train.checkpoint_plan(), (std::vector<int64_t>{7, 50, 100}));
    // A regular step just short of the last one is dropped rather than evaluated twice.
    TrainConfig t = runs[3].train;
    t.tokens = 101 * t.tokens_per_step();
    EXPECT_EQ(t.checkpoint_plan(), (std::vector<int64_t>{7, 50, 101}));
    // Every run reads the same data in the same order.
    EXPECT_EQ(runs[0].train.data_seed, runs[3].train.data_seed);
}

// The shipped configs: paper-small has six distinct sizes spanning at least 30x in non-embedding
// parameters, each within 20% of its target, and at least four budgets per size.
TEST(Study, PaperSmallSizesAreDistinctAndSpanThirtyTimes) {
    auto c = study_config_load(EM_SOURCE_DIR "/configs/paper-small.toml");
    ASSERT_TRUE(c.is_ok()) << c.status().message();
    ASSERT_GE(c->sizes.size(), 6u);
    std::vector<int64_t> n;
    for (const auto &s : c->sizes) {
        n.push_back(model_param_counts(s.model).non_embedding);
        EXPECT_NEAR(static_cast<double>(n.back()) / static_cast<double>(s.target_params), 1.0, 0.2)
            << s.name;
        EXPECT_GE(s.budgets.size(), 4u) << s.name;
        if (n.size() > 1) {
            EXPECT_GT(n.back(), n[n.size() - 2]) << s.name;
        }
    }
    EXPECT_GE(static_cast<double>(n.back()) / static_cast<double>(n.front()), 30.0);
}

// `study plan` prices evaluation before the built-in suite exists from the suite's mean document
// size; that constant must stay within 25% of what the freshly built suite gives.
TEST(Study, PlanPricesTheBuiltinSuiteBeforeItIsBuilt) {
    const std::string dir = temp_dir("emergence_study_plan");
    std::ofstream(dir + "/study.toml")
        << "[tasks]\nsuite = [\"builtin\"]\nitems = 300\nlimit = 100\n"
           "[train]\nbudgets = [100000]\n"
           "[[size]]\nname = \"a\"\nd_model = 32\nn_layers = 1\n"
           "n_heads = 2\n";
    auto c = study_config_load(dir + "/study.toml");
    ASSERT_TRUE(c.is_ok()) << c.status().message();
    const int64_t before = study_eval_tokens_estimate(*c, dir);
    BuiltinTasksOptions bo;
    bo.items = 300;
    bo.skills_bytes = 16'000'000;
    ASSERT_TRUE(builtin_tasks_build(dir + "/tasks", bo).is_ok());
    const int64_t after = study_eval_tokens_estimate(*c, dir);
    // The names a config's [tasks] names is checked against are the built suite's.
    auto built = tasks_load({dir + "/tasks"});
    ASSERT_TRUE(built.is_ok()) << built.status().message();
    std::vector<std::string> names, listed = suite_task_names();
    for (const auto &t : *built) names.push_back(t.spec.name);
    std::sort(names.begin(), names.end());
    std::sort(listed.begin(), listed.end());
    EXPECT_EQ(names, listed);
    std::printf("eval tokens per checkpoint: %lld estimated, %lld from the built suite\n",
                static_cast<long long>(before), static_cast<long long>(after));
    ASSERT_GT(after, 0);
    EXPECT_NEAR(static_cast<double>(before) / static_cast<double>(after), 1.0, 0.25);
    std::filesystem::remove_all(dir);
}

TEST(Study, ConfigMistakesAreNamed) {
    std::string dir = temp_dir("study_bad");
    write_micro_inputs(dir);
    std::string text = file_read(dir + "/study.toml").value();
    auto expect_error = [&](const std::string &t, const std::string &want) {
        ASSERT_TRUE(file_write_atomic(dir + "/bad.toml", t).is_ok());
        auto c = study_config_load(dir + "/bad.toml");
        ASSERT_FALSE(c.is_ok());
        EXPECT_NE(c.status().message().find(want), std::string::npos) << c.status().message();
    };
    expect_error(text + "[extra]\n", "unknown key 'extra'");
    expect_error(text + "[[size]]\nname = \"a\"\nd_model = 32\nn_layers = 1\nn_heads = 2\n",
                 "used twice");
    expect_error(text + "[[size]]\nname = \"c\"\nd_model = 30\nn_layers = 1\nn_heads = 4\n",
                 "not divisible");
    expect_error(text +
                     "[[size]]\nname = \"c\"\nparams = 400000\n[[size]]\nname = \"d\"\n"
                     "params = 410000\n",
                 "has the same shape as size 'c'");
    expect_error(text + "[analysis]\nbootstrap_unit = \"runs\"\n", "use \"checkpoint\" or \"run\"");
    expect_error(text + "[analysis]\nbootstraps = 10\n", "unknown key 'bootstraps'");
    {
        ASSERT_TRUE(
            file_write_atomic(dir + "/ok.toml",
                              text + "[analysis]\nbootstrap_unit = \"run\"\nbootstrap = 50\n")
                .is_ok());
        auto c = study_config_load(dir + "/ok.toml");
        ASSERT_TRUE(c.is_ok()) << c.status().message();
        EXPECT_TRUE(c->analysis.threshold.bootstrap_runs);
        EXPECT_EQ(c->analysis.threshold.bootstrap, 50);
    }
    auto with = [&](const std::string &from, const std::string &to) {
        std::string t = text;
        const size_t at = t.find(from);
        EXPECT_NE(at, std::string::npos) << from;
        return at == std::string::npos ? t : t.replace(at, from.size(), to);
    };
    expect_error(text + "[tokenizer_extra]\n", "docs/study.md lists the keys");
    expect_error(with("budgets = [12800, 25600]", "budgets = [12800, 12800]"),
                 "would both be named 'a-12.8k'");
    expect_error(text + "[[size]]\nname = \"c/d\"\nd_model = 64\nn_layers = 1\nn_heads = 2\n",
                 "must use only letters, digits");
    expect_error(text + "[[size]]\nname = \"c\"\nparams = 400000\nd_model = 64\n",
                 "gives both params and d_model");
    expect_error(text +
                     "[[size]]\nname = \"c\"\nd_model = 64\nn_layers = 1\nn_heads = 2\n"
                     "aspect = 32\n",
                 "add params or remove them");
    expect_error(text +
                     "[[size]]\nname = \"c\"\nd_model = 64\nn_layers = 1\nn_heads = 2\n"
                     "lr = -1\n",
                 "lr must be > 0");
    expect_error(with("[train]\n", "[train]\nlog_every = 5\n"), "'log_every' does not apply");
    expect_error(with("[train]\n", "[train]\nlr_rule = \"sqrt\"\n"),
                 "use \"constant\" or \"inverse_width\"");
    expect_error(with("[train]\n", "[train]\nlr_rule = \"inverse_width\"\n"),
                 "needs lr_rule_width");
    expect_error(with("[train]\n", "[train]\nlr_rule_width = 64\n"), "applies only with");
    expect_error(with("every_fraction = 0.5", "every_fraction = 0.5\nevery_tokens = 6400"),
                 "not both");
    expect_error(with("suite = [\"tasks\"]", "suite = [\"builtin\", \"tasks\"]"),
                 "mixes \"builtin\" with task paths");
    expect_error(with("skills = false", "skills = true"), "skills = true mixes in");
    expect_error(with("suite = [\"tasks\"]", "suite = [\"builtin\"]\nnames = [\"arith_add4\"]"),
                 "'arith_add4', which is not a built-in task");
    {
        // The width rule, and a checkpoint interval in tokens.
        std::string t =
            with("[train]\n", "[train]\nlr_rule = \"inverse_width\"\nlr_rule_width = 32\n");
        t.replace(t.find("every_fraction = 0.5"), 20, "every_tokens = 6400");
        ASSERT_TRUE(file_write_atomic(dir + "/ok.toml", t).is_ok());
        auto c = study_config_load(dir + "/ok.toml");
        ASSERT_TRUE(c.is_ok()) << c.status().message();
        auto runs = study_plan_runs(*c, dir, 400);
        ASSERT_EQ(runs.size(), 4u);
        EXPECT_DOUBLE_EQ(runs[0].train.lr, 0.01);            // size a: d_model 32
        EXPECT_DOUBLE_EQ(runs[2].train.lr, 0.01 * 32 / 48);  // size b: d_model 48
        EXPECT_EQ(runs[0].train.checkpoint_every, 25);       // 6400 tokens of 8 x 32
        EXPECT_EQ(runs[3].train.checkpoint_every, 25);
    }
    {
        // A task named 'done' would overwrite an evaluation's mark; found before any work.
        std::filesystem::copy(dir + "/tasks/capitals.toml", dir + "/tasks/done.toml");
        auto c = study_config_load(dir + "/study.toml");
        ASSERT_TRUE(c.is_ok());
        Status s = study_run(*c, dir + "/out_done");
        EXPECT_NE(s.message().find("done.toml: a task named 'done'"), std::string::npos)
            << s.message();
        EXPECT_FALSE(file_exists(dir + "/out_done/corpus/manifest.json"));
        std::filesystem::remove(dir + "/tasks/done.toml");
    }
    std::string no_budget = text;
    no_budget.replace(no_budget.find("budgets = [12800, 25600]"), 24, "");
    expect_error(no_budget, "no token budgets");
}

TEST(Study, KilledThreeTimesEndsWithTheSamePointsTable) {
    std::string ref = temp_dir("study_ref");
    write_micro_inputs(ref);
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(wait_exit(spawn_study(ref)), 0);
    const double total_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    auto expect = file_read(ref + "/out/points.csv");
    ASSERT_TRUE(expect.is_ok()) << expect.status().message();
    EXPECT_GT(std::count(expect->begin(), expect->end(), '\n'), 12);
    EXPECT_TRUE(file_exists(ref + "/out/report.html"));

    std::string dir = temp_dir("study_kill");
    write_micro_inputs(dir);
    const uint64_t seed = std::random_device{}();
    std::printf("kill moments seeded with %llu\n", static_cast<unsigned long long>(seed));
    std::mt19937_64 rng(seed);
    for (int k = 0; k < 3; ++k) {
        pid_t pid = spawn_study(dir);
        // A random moment within the first 80% of what an uninterrupted study takes.
        std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(
            std::uniform_real_distribution<double>(0.05, 0.8)(rng) * total_ms * 1000)));
        kill(pid, SIGKILL);
        wait_exit(pid);
    }
    ASSERT_EQ(wait_exit(spawn_study(dir)), 0);
    auto got = file_read(dir + "/out/points.csv");
    ASSERT_TRUE(got.is_ok()) << got.status().message();
    EXPECT_TRUE(*got == *expect) << "points table after kills differs from the uninterrupted run's";

    // The ledger shows every run done, with its final validation loss and the wall time the
    // runners spent on it.
    auto cfg = study_config_load(dir + "/study.toml");
    ASSERT_TRUE(cfg.is_ok());
    auto status = study_status(*cfg, dir + "/out");
    ASSERT_TRUE(status.is_ok()) << status.status().message();
    EXPECT_EQ(status->find("training"), std::string::npos) << *status;
    EXPECT_NE(status->find("\ntime: "), std::string::npos) << *status;
    Ledger ledger;
    ASSERT_TRUE(ledger.open(dir + "/out/ledger.sqlite").is_ok());
    auto runs = ledger.runs();
    ASSERT_TRUE(runs.is_ok());
    ASSERT_EQ(runs->size(), 4u);
    for (const auto &r : *runs) {
        EXPECT_GT(r.seconds, 0) << r.name;
        EXPECT_GT(r.val_loss, 0) << r.name;
        // The status line gives the final loss rounded to three places, as the points table.
        const size_t at = status->find("\n  " + r.name + " ");
        ASSERT_NE(at, std::string::npos) << *status;
        const std::string line = status->substr(at + 1, status->find('\n', at + 1) - at - 1);
        char want[32];
        std::snprintf(want, sizeof want, " %.3f ", r.val_loss);
        EXPECT_NE(line.find(want), std::string::npos) << line << " lacks" << want;
    }
}

// A config that asks for other tasks or another limit evaluates the checkpoints again; the points
// table holds only the runs the config plans.
TEST(Study, ChangedEvaluationIsRedoneAndStrayRunsAreLeftOut) {
    std::string dir = temp_dir("study_change");
    write_micro_inputs(dir);
    ASSERT_EQ(wait_exit(spawn_study(dir)), 0);
    auto before = file_read(dir + "/out/points.csv");
    ASSERT_TRUE(before.is_ok());
    EXPECT_NE(before->find(",8,"), std::string::npos) << "all 8 documents scored";
    // A stray run directory (an earlier config's run) next to the planned ones.
    std::filesystem::copy(dir + "/out/runs/a-12.8k", dir + "/out/runs/z-old",
                          std::filesystem::copy_options::recursive);
    std::string text = file_read(dir + "/study.toml").value();
    text.replace(text.find("limit = 0"), 9, "limit = 5");
    ASSERT_TRUE(file_write_atomic(dir + "/study.toml", text).is_ok());
    ASSERT_EQ(wait_exit(spawn_study(dir)), 0);
    auto after = file_read(dir + "/out/points.csv");
    ASSERT_TRUE(after.is_ok());
    EXPECT_EQ(after->find(",8,"), std::string::npos) << *after;
    EXPECT_NE(after->find(",5,"), std::string::npos) << *after;
    EXPECT_EQ(after->find("z-old"), std::string::npos);
    EXPECT_EQ(std::count(after->begin(), after->end(), '\n'),
              std::count(before->begin(), before->end(), '\n'));

    // A checkpoint scored under older scoring rules (an earlier build) is refused by collect and
    // scored again by the next study run.
    auto cfg = study_config_load(dir + "/study.toml");
    ASSERT_TRUE(cfg.is_ok());
    std::string marker;
    for (const auto &e : std::filesystem::directory_iterator(dir + "/out/runs/a-12.8k/evals"))
        marker = e.path().string() + "/done.json";
    auto done = nlohmann::json::parse(file_read(marker).value());
    EXPECT_EQ(done.value("scoring", 0), kScoringVersion);
    done["scoring"] = kScoringVersion - 1;
    ASSERT_TRUE(file_write_atomic(marker, done.dump()).is_ok());
    Status old = study_collect(*cfg, dir + "/out", dir + "/points3.csv");
    ASSERT_FALSE(old.is_ok());
    EXPECT_NE(old.message().find(marker + ": scored under scoring rules"), std::string::npos)
        << old.message();
    // The rerun scores that one checkpoint; its progress counts the rest as done from the start.
    auto [rc, log] = run_study_captured(dir);
    ASSERT_EQ(rc, 0) << log;
    const size_t at = log.find("| evaluating ");
    ASSERT_NE(at, std::string::npos) << log;
    EXPECT_EQ(log.find("| evaluating ", at + 1), std::string::npos) << log;
    const size_t pct = log.rfind("study ", at);
    ASSERT_NE(pct, std::string::npos) << log;
    EXPECT_GE(std::stoi(log.substr(pct + 6)), 80) << log;
    done = nlohmann::json::parse(file_read(marker).value());
    EXPECT_EQ(done.value("scoring", 0), kScoringVersion);
    EXPECT_EQ(file_read(dir + "/out/points.csv").value(), *after);

    // A run trained with another tokenizer (brought in from a machine that built its own) is
    // refused, not mixed in.
    ASSERT_TRUE(file_exists(dir + "/out/runs/b-25.6k/tokenizer.json"));
    ASSERT_TRUE(file_write_atomic(dir + "/out/runs/b-25.6k/tokenizer.json",
                                  "{\"tokenizer_fnv1a64\": \"0123456789abcdef\"}\n")
                    .is_ok());
    Status s = study_collect(*cfg, dir + "/out", dir + "/points2.csv");
    ASSERT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("b-25.6k: trained with another tokenizer"), std::string::npos)
        << s.message();
    EXPECT_FALSE(file_exists(dir + "/points2.csv"));
}

// `study plan` warns when other work keeps the cores busy, and only then.
TEST(Study, PlanWarnsWhenTheMachineIsBusy) {
    EXPECT_EQ(plan_busy_note(0.1, 2, 2), "");
    EXPECT_EQ(plan_busy_note(1.2, 4, 2), "");  // two cores left free: the plan is not slowed
    EXPECT_EQ(plan_busy_note(1.4, 2, 1), "");
    const std::string busy = plan_busy_note(2.24, 2, 2);
    EXPECT_NE(busy.find("busy (load average 2.24 on 2 cores"), std::string::npos) << busy;
    EXPECT_NE(plan_busy_note(3.0, 4, 2), "");
    EXPECT_NE(plan_busy_note(0.9, 1, 1).find("on 1 core before"), std::string::npos);
}

// --shard K/N deals the grid out to N machines: every run to exactly one shard, the shards'
// planned work about even; --runs picks by glob; mistakes are named.
TEST(Study, ShardsPartitionTheGridEvenly) {
    auto c = study_config_load(EM_SOURCE_DIR "/configs/paper-small.toml");
    ASSERT_TRUE(c.is_ok()) << c.status().message();
    const auto grid = study_plan_runs(*c, "unused", 8192);
    for (int64_t n : {2, 3, 4, 7}) {
        std::map<std::string, int> dealt;
        std::vector<double> loads;
        for (int64_t k = 1; k <= n; ++k) {
            auto sel = study_selection_parse("", std::to_string(k) + "/" + std::to_string(n));
            ASSERT_TRUE(sel.is_ok()) << sel.status().message();
            auto runs = study_select(grid, *sel, 250000);
            ASSERT_TRUE(runs.is_ok()) << runs.status().message();
            double work = 0;
            for (const auto &r : *runs) {
                ++dealt[r.name];
                work += study_run_work(r, 250000);
            }
            loads.push_back(work);
        }
        EXPECT_EQ(dealt.size(), grid.size()) << n << " shards";
        for (const auto &[name, times] : dealt) EXPECT_EQ(times, 1) << name;
        const auto [lo, hi] = std::minmax_element(loads.begin(), loads.end());
        double total = 0, largest = 0;
        for (const auto &r : grid) {
            total += study_run_work(r, 250000);
            largest = std::max(largest, study_run_work(r, 250000));
        }
        // Up to four shards balance within 15%. Beyond that the largest run (n1600k-24M, a
        // quarter of the grid's work) is a shard by itself and sets the longest one.
        if (n <= 4) {
            EXPECT_LT(*hi / *lo, 1.15) << n << " shards";
        }
        EXPECT_LE(*hi, std::max(largest, 4.0 / 3.0 * total / static_cast<double>(n)));
    }
    auto sel = study_selection_parse("n1600k-*,n50k-2M", "");
    ASSERT_TRUE(sel.is_ok());
    auto runs = study_select(grid, *sel, 250000);
    ASSERT_TRUE(runs.is_ok());
    ASSERT_EQ(runs->size(), 5u);
    EXPECT_EQ((*runs)[0].name, "n50k-2M");  // plan order
    EXPECT_EQ((*runs)[4].name, "n1600k-24M");

    auto msg = [](const Status &s) { return s.message(); };
    EXPECT_NE(msg(study_selection_parse("", "3").status()).find("expected K/N"), std::string::npos);
    EXPECT_NE(msg(study_selection_parse("", "0/2").status()).find("expected K/N"),
              std::string::npos);
    EXPECT_NE(msg(study_selection_parse("a,,b", "").status()).find("empty pattern"),
              std::string::npos);
    auto none = study_selection_parse("n3200k-*", "");
    ASSERT_TRUE(none.is_ok());
    EXPECT_NE(msg(study_select(grid, *none, 0).status()).find("matches no run; the runs are"),
              std::string::npos);
    auto too_many = study_selection_parse("n50k-*", "5/5");
    ASSERT_TRUE(too_many.is_ok());
    EXPECT_NE(msg(study_select(grid, *too_many, 0).status()).find("use at most 4 shards"),
              std::string::npos);
}

// The grid split over two "machines": prepared once, the directory copied, each shard run in its
// own copy, the runs brought together: the study then writes the same points table as one
// uninterrupted run. A shard's runner writes no points table of its own.
TEST(Study, TwoShardsBroughtTogetherMatchOneRun) {
    namespace fs = std::filesystem;
    std::string ref = temp_dir("study_shard_ref");
    write_micro_inputs(ref);
    ASSERT_EQ(wait_exit(spawn_study(ref)), 0);
    auto expect = file_read(ref + "/out/points.csv");
    ASSERT_TRUE(expect.is_ok()) << expect.status().message();

    std::string a = temp_dir("study_shard_a"), b = temp_dir("study_shard_b");
    write_micro_inputs(a);
    EXPECT_NE(wait_exit(spawn_study(a, "--shard", "1/2")), 0);  // not prepared: refused
    ASSERT_EQ(wait_exit(spawn_study(a, "prepare")), 0);
    fs::remove_all(b);
    fs::copy(a, b, fs::copy_options::recursive);
    ASSERT_EQ(wait_exit(spawn_study(a, "--shard", "1/2")), 0);
    ASSERT_EQ(wait_exit(spawn_study(b, "--shard", "2/2")), 0);
    EXPECT_FALSE(file_exists(a + "/out/points.csv"));
    EXPECT_FALSE(file_exists(b + "/out/points.csv"));
    size_t moved = 0;
    for (const auto &e : fs::directory_iterator(b + "/out/runs"))
        if (!fs::exists(a + "/out/runs/" + e.path().filename().string())) {
            fs::copy(e.path(), a + "/out/runs/" + e.path().filename().string(),
                     fs::copy_options::recursive);
            ++moved;
        }
    size_t have = 0;
    for ([[maybe_unused]] const auto &e : fs::directory_iterator(a + "/out/runs")) ++have;
    EXPECT_GE(moved, 1u);
    EXPECT_EQ(have, 4u);  // every run of the grid, each from one shard
    ASSERT_EQ(wait_exit(spawn_study(a)), 0);
    auto got = file_read(a + "/out/points.csv");
    ASSERT_TRUE(got.is_ok()) << got.status().message();
    EXPECT_TRUE(*got == *expect) << "points table from two shards differs from one run's";
}

TEST(Study, SecondRunnerIsRefusedWhileTheFirstHoldsTheLock) {
    std::string dir = temp_dir("study_lock");
    write_micro_inputs(dir);
    pid_t first = spawn_study(dir);
    // Wait until the first runner holds the lock (its pid in the lock file), at most 30 s.
    for (int i = 0; i < 3000; ++i) {
        auto held = file_read(dir + "/out/.lock");
        if (held.is_ok() && *held == std::to_string(first)) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    auto [rc, out] = run_study_captured(dir);
    kill(first, SIGKILL);
    wait_exit(first);
    EXPECT_EQ(rc, 1);
    EXPECT_NE(out.find("another emergence study is running"), std::string::npos) << out;
}

}  // namespace
}  // namespace em
