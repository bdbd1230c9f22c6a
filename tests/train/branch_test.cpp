// Branches (train.branch_from): a run that starts from another run's checkpoint continues that
// run's weights, optimizer state and data exactly; killed and resumed it ends bit-identically; a
// missing start or a different recipe is one clear error.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <thread>

#include "common/fileio.h"
#include "tests/train/fixtures.h"
#include "tests/train/same_run.h"
#include "train/checkpoint.h"

namespace em {
namespace {

using testing::small_config;
using testing::temp_dir;
using testing::tensors;
using testing::write_bigram_shards;

constexpr int64_t kStepTokens = 16 * 32;  // small_config's batch_size x seq_len

// A run config in dir (small_config's model and data) with `train` and `checkpoint` lines added.
std::string config(const std::string &dir, int64_t steps, const std::string &train,
                   const std::string &checkpoint) {
    write_bigram_shards(dir + "/shards", 64, 2);
    const std::string path = small_config(dir, "schedule = \"wsd\"\n" + train, kStepTokens * steps);
    std::ofstream(path, std::ios::app) << checkpoint;  // [checkpoint] is the file's last table
    return path;
}

int run(const std::string &cfg, bool resume = false, std::string *err = nullptr) {
    auto [rc, out] = testing::run_captured(std::string(EM_BINARY) + " train --config " + cfg +
                                           (resume ? " --resume" : "") + " 2>&1 >/dev/null");
    if (err) *err = out;
    return rc;
}

// A trunk of 100 steps (decaying over its last 20) that keeps its optimizer state at steps 40 and
// 41.
std::string trunk(const std::string &dir) {
    const std::string cfg = config(dir, 100, "", "steps = [40, 41]\nkeep_state_steps = [40, 41]\n");
    EXPECT_EQ(run(cfg), 0);
    return dir + "/run";
}

TEST(Branch, FirstStepContinuesTheTrunkExactly) {
    const std::string from = trunk(temp_dir("branch_trunk"));
    ASSERT_TRUE(file_exists(checkpoint_state_path(from, 40))) << "keep_state_steps kept it";
    // 50 steps decaying over the last 10: the decay starts at update 40, where its rate is still
    // the trunk's, so update 41 is the trunk's own.
    const std::string dir = temp_dir("branch_first");
    const std::string cfg =
        config(dir, 50, "branch_from = \"" + from + "\"\nbranch_step = 40\n", "steps = [41]\n");
    ASSERT_EQ(run(cfg), 0);
    const std::string branch = dir + "/run";
    EXPECT_TRUE(tensors(checkpoint_weights_path(branch, 41)) ==
                tensors(checkpoint_weights_path(from, 41)))
        << "the branch's first update differs from the trunk's";
    EXPECT_TRUE(tensors(checkpoint_state_path(branch, 41)) ==
                tensors(checkpoint_state_path(from, 41)))
        << "the branch's optimizer state after its first update differs from the trunk's";
    // Its log starts after the branch point and its checkpoints are its own.
    auto lines = testing::metrics(branch);
    ASSERT_EQ(lines.size(), 10u);
    EXPECT_EQ(lines.front()["step"], 41);
    EXPECT_EQ(checkpoint_list(branch).front(), 41);
    EXPECT_EQ(checkpoint_list(branch).back(), 50);
}

TEST(Branch, KilledBranchResumesBitIdentically) {
    const std::string from = trunk(temp_dir("branch_kill_trunk"));
    const std::string lines = "branch_from = \"" + from +
                              "\"\nbranch_step = 40\ndecay_fraction = 0.5\n"
                              "decay_shape = \"sqrt\"\n";
    const std::string ref = temp_dir("branch_kill_ref");
    ASSERT_EQ(run(config(ref, 80, lines, "")), 0);
    const auto expect = tensors(checkpoint_weights_path(ref + "/run", 80));
    ASSERT_FALSE(expect.empty());

    const std::string dir = temp_dir("branch_kill");
    const std::string cfg = config(dir, 80, lines, "");
    std::random_device rd;
    bool started = false;
    // Before the branch's first checkpoint (it starts again from the trunk), then after two.
    for (int64_t kill_after : {0, 60}) {
        pid_t pid = fork();
        if (pid == 0) {
            freopen("/dev/null", "w", stderr);
            execl(EM_BINARY, EM_BINARY, "train", "--config", cfg.c_str(), "--resume",
                  (char *)nullptr);
            _exit(127);
        }
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
        while (std::chrono::steady_clock::now() < deadline) {
            auto steps = checkpoint_list(dir + "/run");
            if (kill_after == 0 ? file_exists(dir + "/run/config.json")
                                : !steps.empty() && steps.back() >= kill_after)
                break;
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        std::this_thread::sleep_for(std::chrono::microseconds(rd() % 20000));
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        started = true;
    }
    ASSERT_TRUE(started);
    ASSERT_EQ(run(cfg, true), 0);
    EXPECT_TRUE(tensors(checkpoint_weights_path(dir + "/run", 80)) == expect)
        << "the resumed branch differs from the uninterrupted one";
    testing::expect_same_run(ref + "/run", dir + "/run");
}

TEST(Branch, MissingStartOrOtherRecipeIsOneClearError) {
    const std::string from = trunk(temp_dir("branch_err_trunk"));
    std::string err;
    // No optimizer state kept at step 30.
    EXPECT_EQ(run(config(temp_dir("branch_err_step"), 50,
                         "branch_from = \"" + from + "\"\nbranch_step = 30\n", "")),
              1);
    run(config(temp_dir("branch_err_step2"), 50,
               "branch_from = \"" + from + "\"\nbranch_step = 30\n", ""),
        false, &err);
    EXPECT_NE(err.find("has no checkpoint with optimizer state there"), std::string::npos) << err;
    // Another learning rate than the trunk's.
    EXPECT_EQ(run(config(temp_dir("branch_err_lr"), 50,
                         "branch_from = \"" + from + "\"\nbranch_step = 40\nlr = 0.02\n", ""),
                  false, &err),
              1);
    EXPECT_NE(err.find("must share train.lr"), std::string::npos) << err;
    // A branch point past the branch's own end.
    EXPECT_EQ(run(config(temp_dir("branch_err_end"), 30,
                         "branch_from = \"" + from + "\"\nbranch_step = 40\n", ""),
                  false, &err),
              1);
    EXPECT_NE(err.find("train.branch_step 40 must lie in [1, 29]"), std::string::npos) << err;
}

}  // namespace
}  // namespace em
