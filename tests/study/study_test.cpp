// The study runner end to end on a micro study (user corpus, user task, two tiny sizes x two
// budgets): it produces a points table, and a study killed with SIGKILL at three random moments
// and rerun each time ends with a points table identical to an uninterrupted run's.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <thread>

#include "common/fileio.h"
#include "common/rng.h"
#include "study/builtin_tasks.h"
#include "study/config.h"
#include "study/runner.h"
#include "tests/train/fixtures.h"

namespace em {
namespace {

using testing::make_temp_dir;

// A small English-like corpus: sentences from a tiny grammar about invented countries and their
// capitals (the fact the task asks for), so even micro models learn something in seconds.
void write_micro_inputs(const std::string &dir) {
    const char *countries[] = {"Arvel", "Brisk", "Calden", "Dorn",
                               "Evra",  "Fenn",  "Galt",   "Hollin"};
    const char *capitals[] = {"Tamsin", "Oruk", "Pell", "Quist", "Ravel", "Sorn", "Tull", "Ubar"};
    const char *verbs[] = {"visited", "praised", "left", "remembered", "described"};
    std::filesystem::create_directories(dir + "/texts");
    Rng rng(5);
    for (int f = 0; f < 40; ++f) {
        std::ofstream out(dir + "/texts/doc" + std::to_string(f) + ".txt");
        for (int s = 0; s < 60; ++s) {
            int c = static_cast<int>(rng.below(8));
            out << "The traveller " << verbs[rng.below(5)] << " " << countries[c]
                << ". The capital of " << countries[c] << " is " << capitals[c] << ".\n";
        }
    }
    std::filesystem::create_directories(dir + "/tasks");
    std::ofstream(dir + "/tasks/capitals.toml")
        << "output_type = \"multiple_choice\"\ndocs = \"capitals.jsonl\"\n"
           "doc_to_text = \"The capital of {{country}} is\"\n"
           "doc_to_target = \"{{answer}}\"\ndoc_to_choice = \"{{choices}}\"\n";
    std::ofstream docs(dir + "/tasks/capitals.jsonl");
    for (int c = 0; c < 8; ++c) {
        docs << "{\"country\": \"" << countries[c] << "\", \"choices\": [\"" << capitals[c]
             << "\", \"" << capitals[(c + 3) % 8] << "\"], \"answer\": 0}\n";
    }
    std::ofstream(dir + "/study.toml")
        << "name = \"micro\"\nseed = 2\nthreads = 2\n"
           "[corpus]\nsources = [\"texts\"]\nskills = false\nval_fraction = 0.1\n"
           "[tokenizer]\nvocab_size = 400\n"
           "[tasks]\nsuite = [\"tasks\"]\nlimit = 0\n"
           "[train]\nbatch_size = 8\nseq_len = 32\nlr = 0.01\nval_windows = 8\n"
           "budgets = [12800, 25600]\n"
           "[checkpoint]\nlog = 1\nevery_fraction = 0.5\n"
           "[[size]]\nname = \"a\"\nd_model = 32\nn_layers = 1\nn_heads = 2\n"
           "[[size]]\nname = \"b\"\nd_model = 48\nn_layers = 2\nn_heads = 3\n";
}

pid_t spawn_study(const std::string &dir) {
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = ::open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(devnull, 2);
        std::string cfg = dir + "/study.toml", out = dir + "/out";
        execl(EM_BINARY, EM_BINARY, "study", cfg.c_str(), "--dir", out.c_str(), (char *)nullptr);
        _exit(127);
    }
    return pid;
}

int wait_exit(pid_t pid) {
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

TEST(Study, MicroStudyConfigPlansTheGrid) {
    std::string dir = make_temp_dir("study_cfg");
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
    const std::string dir = make_temp_dir("emergence_study_plan");
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
    std::printf("eval tokens per checkpoint: %lld estimated, %lld from the built suite\n",
                static_cast<long long>(before), static_cast<long long>(after));
    ASSERT_GT(after, 0);
    EXPECT_NEAR(static_cast<double>(before) / static_cast<double>(after), 1.0, 0.25);
    std::filesystem::remove_all(dir);
}

TEST(Study, ConfigMistakesAreNamed) {
    std::string dir = make_temp_dir("study_bad");
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
    std::string no_budget = text;
    no_budget.replace(no_budget.find("budgets = [12800, 25600]"), 24, "");
    expect_error(no_budget, "no token budgets");
}

TEST(Study, KilledThreeTimesEndsWithTheSamePointsTable) {
    std::string ref = make_temp_dir("study_ref");
    write_micro_inputs(ref);
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(wait_exit(spawn_study(ref)), 0);
    const double total_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    auto expect = file_read(ref + "/out/points.csv");
    ASSERT_TRUE(expect.is_ok()) << expect.status().message();
    EXPECT_GT(std::count(expect->begin(), expect->end(), '\n'), 12);
    EXPECT_TRUE(file_exists(ref + "/out/report.html"));

    std::string dir = make_temp_dir("study_kill");
    write_micro_inputs(dir);
    std::mt19937_64 rng(std::random_device{}());
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
}

TEST(Study, SecondRunnerIsRefusedWhileTheFirstHoldsTheLock) {
    std::string dir = make_temp_dir("study_lock");
    write_micro_inputs(dir);
    pid_t first = spawn_study(dir);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    std::string cmd = std::string(EM_BINARY) + " study " + dir + "/study.toml --dir " + dir +
                      "/out 2>&1 >/dev/null";
    FILE *p = popen(cmd.c_str(), "r");
    std::string out;
    char buf[512];
    while (fgets(buf, sizeof buf, p)) out += buf;
    int rc = WEXITSTATUS(pclose(p));
    kill(first, SIGKILL);
    wait_exit(first);
    EXPECT_EQ(rc, 1);
    EXPECT_NE(out.find("another emergence study is running"), std::string::npos) << out;
}

}  // namespace
}  // namespace em
