// Crash points: the micro study killed with SIGKILL at 20 seeded random moments, rerun after each
// kill, ends with a points table byte-identical to an uninterrupted run's. Long (label "long").
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>

#include "common/fileio.h"
#include "tests/common/testing.h"
#include "tests/study/micro.h"

namespace em {
namespace {

using testing::TempDir;

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

TEST(Crash, LongKilledAtTwentyMomentsEndsWithTheSamePointsTable) {
    if (!std::getenv("EM_LONG_TESTS")) GTEST_SKIP() << "long: ctest -L long";
    TempDir ref("crash_ref");
    write_micro_inputs(ref.path);
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(wait_exit(spawn_study(ref.path)), 0);
    const double total_us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    auto expect = file_read(ref / "out/points.csv");
    ASSERT_TRUE(expect.is_ok()) << expect.status().message();

    TempDir dir("crash_kill");
    write_micro_inputs(dir.path);
    const char *env_seed = std::getenv("EM_CRASH_SEED");
    const uint64_t seed = env_seed ? std::strtoull(env_seed, nullptr, 10) : std::random_device{}();
    std::printf("kill moments seeded with %llu (EM_CRASH_SEED repeats them)\n",
                static_cast<unsigned long long>(seed));
    std::mt19937_64 rng(seed);
    // Each run starts where the killed one left off, so the moments are shares of a whole run:
    // early ones land in the shared stages, later ones in training, evaluation and the outputs.
    // A study that ends before its kill has its points table checked and is started afresh, so
    // that all 20 kills land in a running study whatever the machine's speed.
    int killed = 0, finished = 0;
    for (int tries = 0; killed < 20 && tries < 80; ++tries) {
        const double share = std::uniform_real_distribution<double>(0.0, 0.6)(rng);
        pid_t pid = spawn_study(dir.path);
        std::this_thread::sleep_for(
            std::chrono::microseconds(static_cast<int64_t>(share * total_us)));
        kill(pid, SIGKILL);
        const int rc = wait_exit(pid);
        ASSERT_TRUE(rc == -SIGKILL || rc == 0) << "try " << tries << ": exit " << rc;
        if (rc == -SIGKILL) {
            ++killed;
            continue;
        }
        ++finished;
        auto got = file_read(dir / "out/points.csv");
        ASSERT_TRUE(got.is_ok()) << got.status().message();
        EXPECT_EQ(*got, *expect) << "seed " << seed << ", after " << killed << " kills";
        std::filesystem::remove_all(dir / "out");
    }
    std::printf(
        "20 kills wanted: %d landed in a running study; %d studies ended between kills "
        "(each checked, then started afresh)\n",
        killed, finished);
    EXPECT_EQ(killed, 20);
    ASSERT_EQ(wait_exit(spawn_study(dir.path)), 0);
    auto got = file_read(dir / "out/points.csv");
    ASSERT_TRUE(got.is_ok()) << got.status().message();
    EXPECT_EQ(*got, *expect) << "seed " << seed;
}

}  // namespace
}  // namespace em
