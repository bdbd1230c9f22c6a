// Exact resumption: a run killed with SIGKILL and resumed ends with weights bit-identical to an
// uninterrupted run; damaged checkpoints and bad configs give one clear error line and exit 1.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "common/fileio.h"
#include "model/safetensors.h"
#include "tests/train/fixtures.h"
#include "train/checkpoint.h"
#include "train/config.h"
#include "train/trainer.h"

namespace em {
namespace {

using testing::small_config;
using testing::temp_dir;
using testing::write_bigram_shards;

pid_t spawn_train(const std::string &config, bool resume) {
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = ::open("/dev/null", O_WRONLY);
        dup2(devnull, 2);
        if (resume)
            execl(EM_BINARY, EM_BINARY, "train", "--config", config.c_str(), "--resume",
                  (char *)nullptr);
        else
            execl(EM_BINARY, EM_BINARY, "train", "--config", config.c_str(), (char *)nullptr);
        _exit(127);
    }
    return pid;
}

int wait_exit(pid_t pid) {
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

// The tensors of the run's last checkpoint (the metadata names the run's own paths).
std::map<std::string, std::vector<float>> final_weights(const std::string &run) {
    std::map<std::string, std::vector<float>> out;
    auto steps = checkpoint_list(run);
    if (steps.empty()) return out;
    auto f = safetensors_read(checkpoint_weights_path(run, steps.back()));
    for (auto &[name, e] : f->tensors) out[name] = e.data;
    return out;
}

TEST(Resume, KilledRunResumesBitIdentically) {
    const int64_t steps = 400, tokens = 16 * 32 * steps;
    std::string ref = temp_dir("resume_ref");
    write_bigram_shards(ref + "/shards", 64, 2);
    ASSERT_EQ(wait_exit(spawn_train(small_config(ref, "", tokens), false)), 0);
    auto expect = final_weights(ref + "/run");
    ASSERT_FALSE(expect.empty());

    std::string dir = temp_dir("resume_kill");
    write_bigram_shards(dir + "/shards", 64, 2);
    std::string cfg = small_config(dir, "", tokens);
    int kills = 0;
    // Kill at three moments past the 10th, 100th and 250th step, plus a random delay so the kill
    // lands anywhere in a step or a checkpoint write.
    std::random_device rd;
    for (int64_t kill_after : {10, 100, 250}) {
        pid_t pid = spawn_train(cfg, kills > 0);
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
        while (std::chrono::steady_clock::now() < deadline) {
            auto steps = checkpoint_list(dir + "/run");
            if (!steps.empty() && steps.back() >= kill_after) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        // Let it run on past the checkpoint so the kill lands mid-step or mid-write.
        std::this_thread::sleep_for(std::chrono::microseconds(rd() % 30000));
        kill(pid, SIGKILL);
        EXPECT_EQ(wait_exit(pid), -SIGKILL) << "the run ended before it could be killed";
        ++kills;
    }
    ASSERT_EQ(wait_exit(spawn_train(cfg, true)), 0);
    EXPECT_EQ(checkpoint_list(dir + "/run").back(), steps);
    EXPECT_TRUE(final_weights(dir + "/run") == expect)
        << "resumed weights differ from the uninterrupted run";
    // The metrics log holds each step exactly once.
    std::ifstream in(dir + "/run/metrics.jsonl");
    std::string line;
    int64_t expect_step = 1;
    while (std::getline(in, line))
        EXPECT_EQ(nlohmann::json::parse(line)["step"].get<int64_t>(), expect_step++);
    EXPECT_EQ(expect_step, steps + 1);
    // Every weights file stays; optimizer state only for the two latest (checkpoint.keep_state).
    const auto have = checkpoint_list(dir + "/run");
    ASSERT_GE(have.size(), 3u);
    for (size_t i = 0; i < have.size(); ++i)
        EXPECT_EQ(file_exists(checkpoint_state_path(dir + "/run", have[i])), i + 2 >= have.size())
            << "step " << have[i];
}

std::string run_cli(const std::string &args, int *rc) {
    std::string cmd = std::string(EM_BINARY) + " " + args + " 2>&1 >/dev/null";
    FILE *p = popen(cmd.c_str(), "r");
    std::string out;
    char buf[512];
    while (fgets(buf, sizeof buf, p)) out += buf;
    int st = pclose(p);
    *rc = WEXITSTATUS(st);
    return out;
}

TEST(Resume, DamagedCheckpointsGiveOneClearError) {
    std::string dir = temp_dir("damaged");
    write_bigram_shards(dir + "/shards", 64, 2);
    std::string cfg = small_config(dir);
    ASSERT_EQ(wait_exit(spawn_train(cfg, false)), 0);
    std::string last = checkpoint_weights_path(dir + "/run", 40);
    std::string good = file_read(last).value();

    // A flipped byte in the tensor data.
    std::string bad = good;
    bad[bad.size() - 7] ^= 0x5a;
    ASSERT_TRUE(file_write_atomic(last, bad).is_ok());
    int rc;
    std::string out = run_cli("train --config " + cfg + " --resume", &rc);
    EXPECT_EQ(rc, 1);
    EXPECT_NE(out.find("checksum mismatch"), std::string::npos) << out;
    EXPECT_NE(out.find(last), std::string::npos) << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;

    // A truncated file.
    ASSERT_TRUE(file_write_atomic(last, good.substr(0, good.size() / 2)).is_ok());
    out = run_cli("train --config " + cfg + " --resume", &rc);
    EXPECT_EQ(rc, 1);
    EXPECT_NE(out.find("truncated"), std::string::npos) << out;

    // Removing the damaged checkpoint resumes from the one before it.
    std::filesystem::remove(last);
    out = run_cli("train --config " + cfg + " --resume", &rc);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_TRUE(file_read(last).value() == good) << "re-trained step 40 differs from the original";
}

TEST(Resume, ConfigMistakesExitNonZeroWithOneLine) {
    std::string dir = temp_dir("cli_cfg");
    write_bigram_shards(dir + "/shards", 64, 2);
    std::string cfg = small_config(dir, "warmup = 3\n");
    int rc;
    std::string out = run_cli("train --config " + cfg, &rc);
    EXPECT_EQ(rc, 1);
    EXPECT_EQ(out.rfind("emergence: error: ", 0), 0u) << out;
    EXPECT_NE(out.find("unknown key 'warmup'"), std::string::npos) << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
    EXPECT_FALSE(std::filesystem::exists(dir + "/run"))
        << "a failed start must not leave a run directory";
}

}  // namespace
}  // namespace em
