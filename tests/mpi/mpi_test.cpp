// Data-parallel training under `mpirun -np 2` on loopback: two ranks give the same bytes as one
// process (overlapped and blocking exchange alike), a job killed with SIGKILL resumes
// bit-identically on any number of processes, and a failing or killed rank ends the job with one
// line and no hang. In a build without MPI: the message mpirun's environment gets instead.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "common/fileio.h"
#include "common/rng.h"
#include "model/safetensors.h"
#include "tests/train/fixtures.h"
#include "tests/train/same_run.h"
#include "train/checkpoint.h"

namespace em {
namespace {

using testing::expect_same_run;
using testing::metrics;
using testing::small_config;
using testing::temp_dir;
using testing::tensors;
using testing::write_bigram_shards;

constexpr int kTimedOut = -1000;
// (Helpers marked [[maybe_unused]] serve only the tests of a build with MPI.)

// Starts argv in its own process group with stdout and stderr into `log` (or /dev/null).
pid_t spawn(const std::vector<std::string> &argv, const std::string &log = "",
            const std::vector<std::string> &env = {}) {
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        int fd = log.empty() ? ::open("/dev/null", O_WRONLY)
                             : ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        for (const auto &e : env) putenv(const_cast<char *>(e.c_str()));
        std::vector<char *> a;
        for (const auto &s : argv) a.push_back(const_cast<char *>(s.c_str()));
        a.push_back(nullptr);
        execvp(a[0], a.data());
        _exit(127);
    }
    return pid;
}

// Exit code, -signal, or kTimedOut after killing the process group that ran past `seconds`.
int wait_for(pid_t pid, int seconds = 120) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            return kTimedOut;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

// mpirun on this machine only, over loopback TCP, as root in a container.
[[maybe_unused]] std::vector<std::string> mpirun(int np) {
    return {"mpirun",
            "--allow-run-as-root",
            "--oversubscribe",
            "--bind-to",
            "none",
            "-np",
            std::to_string(np),
            "--mca",
            "btl",
            "self,tcp",
            "--mca",
            "btl_tcp_if_include",
            "lo",
            "--mca",
            "oob_tcp_if_include",
            "lo"};
}

std::vector<std::string> train(const std::string &config, bool resume,
                               const std::vector<std::string> &extra = {}) {
    std::vector<std::string> a = {EM_BINARY, "train", "--config", config, "--threads", "1"};
    if (resume) a.push_back("--resume");
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
}

[[maybe_unused]] std::vector<std::string> concat(std::vector<std::string> a,
                                                 const std::vector<std::string> &b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// The processes whose parent is `parent` (for mpirun: its ranks), by /proc.
std::vector<pid_t> children_of(pid_t parent) {
    std::vector<pid_t> out;
    for (const auto &e : std::filesystem::directory_iterator("/proc")) {
        std::ifstream stat(e.path() / "stat");
        std::string pid_s, comm, state;
        long ppid = 0;
        if (stat >> pid_s >> comm >> state >> ppid && ppid == parent)
            out.push_back(static_cast<pid_t>(std::stol(pid_s)));
    }
    return out;
}

bool running(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string pid_s, comm, state;
    return static_cast<bool>(stat >> pid_s >> comm >> state) && state != "Z";
}

// SIGKILL to mpirun (or a lone process), then to the ranks it started, each by its id; returns
// once none of them runs.
[[maybe_unused]] int kill_job(pid_t pid) {
    std::vector<pid_t> ranks = children_of(pid);
    kill(pid, SIGKILL);
    for (pid_t r : ranks) kill(r, SIGKILL);
    int rc = wait_for(pid);
    for (pid_t r : ranks)
        while (running(r)) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return rc;
}

[[maybe_unused]] bool mpirun_available() {
    return std::system("command -v mpirun >/dev/null 2>&1") == 0;
}

// Four micro-batches of 4 windows a step: two per rank, so both the local tree and the exchange
// between ranks take part.
const char *kSplit = "batch_size = 4\ngrad_accum = 4\n";

#ifdef EM_TEST_HAVE_MPI

class Mpi : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!mpirun_available()) GTEST_SKIP() << "mpirun not found (scripts/install-deps.sh)";
    }
};

TEST_F(Mpi, TwoRanksGiveTheBytesOfOneProcess) {
    testing::TempDir dir("mpi_identity");
    write_bigram_shards(dir.path + "/shards", 64, 2);
    std::string cfg = small_config(dir.path, kSplit);
    const std::string run = dir.path + "/run";
    ASSERT_EQ(wait_for(spawn(train(cfg, false))), 0);
    std::filesystem::rename(run, dir.path + "/one");

    std::string log = dir.path + "/mpi.log";
    ASSERT_EQ(wait_for(spawn(concat(mpirun(2), train(cfg, false)), log)), 0)
        << testing::read_file(log);
    expect_same_run(dir.path + "/one", run);
    std::filesystem::rename(run, dir.path + "/overlap");

    // The blocking exchange reduces the same numbers in the same order.
    ASSERT_EQ(wait_for(spawn(concat(mpirun(2), train(cfg, false, {"--blocking-reduce"})), log)), 0)
        << testing::read_file(log);
    expect_same_run(dir.path + "/one", run);
}

TEST_F(Mpi, KilledJobResumesBitIdenticallyOnAnyProcessCount) {
    const int64_t steps = 300, tokens = 16 * 32 * steps;
    testing::TempDir ref("mpi_resume_ref");
    write_bigram_shards(ref.path + "/shards", 64, 2);
    ASSERT_EQ(wait_for(spawn(train(small_config(ref.path, kSplit, tokens), false))), 0);

    testing::TempDir dir("mpi_resume");
    write_bigram_shards(dir.path + "/shards", 64, 2);
    std::string cfg = small_config(dir.path, kSplit, tokens);
    const std::string run = dir.path + "/run";
    std::random_device rd;
    // Two processes killed past step 60, one process killed past step 150, then two processes
    // to the end: mpirun itself is killed, then what is left of its job.
    struct Leg {
        int np;
        int64_t kill_after;
    };
    int legs = 0;
    for (Leg leg : {Leg{2, 60}, Leg{1, 150}}) {
        auto cmd = train(cfg, legs > 0);
        pid_t pid = spawn(leg.np > 1 ? concat(mpirun(leg.np), cmd) : cmd);
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
        while (std::chrono::steady_clock::now() < deadline) {
            auto have = checkpoint_list(run);
            if (!have.empty() && have.back() >= leg.kill_after) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        std::this_thread::sleep_for(std::chrono::microseconds(rd() % 20000));
        EXPECT_EQ(kill_job(pid), -SIGKILL) << "the run ended before it could be killed";
        ++legs;
    }
    std::string log = dir.path + "/mpi.log";
    ASSERT_EQ(wait_for(spawn(concat(mpirun(2), train(cfg, true)), log)), 0)
        << testing::read_file(log);
    ASSERT_EQ(checkpoint_list(run).back(), steps);
    EXPECT_TRUE(tensors(checkpoint_weights_path(run, steps)) ==
                tensors(checkpoint_weights_path(ref.path + "/run", steps)))
        << "resumed weights differ from the uninterrupted run";
    auto got = metrics(run), want = metrics(ref.path + "/run");
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], want[i]) << "metrics line " << i + 1;
}

// Lines of the job's output that emergence wrote (mpirun adds its own report of the exit).
std::vector<std::string> our_lines(const std::string &log) {
    std::vector<std::string> out;
    std::istringstream in(testing::read_file(log));
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("emergence:", 0) == 0) out.push_back(line);
    return out;
}

TEST_F(Mpi, FailingRankEndsTheJobWithOneLine) {
    testing::TempDir dir("mpi_fail");
    write_bigram_shards(dir.path + "/r0/shards", 64, 2);
    write_bigram_shards(dir.path + "/r1/shards", 64, 2);
    // Rank 1 sees a damaged shard: its own config names its own copy of the data.
    const std::string bad = dir.path + "/r1/shards/train_001.bin";
    std::string bytes = testing::read_file(bad);
    testing::write_file(bad, bytes.substr(0, bytes.size() / 2 + 3));
    small_config(dir.path + "/r0", kSplit);
    small_config(dir.path + "/r1", kSplit);
    std::string log = dir.path + "/mpi.log";
    std::string cmd = std::string(EM_BINARY) + " train --threads 1 --config " + dir.path +
                      "/r$OMPI_COMM_WORLD_RANK/run.toml";
    int rc = wait_for(spawn(concat(mpirun(2), {"sh", "-c", "exec " + cmd}), log), 60);
    ASSERT_NE(rc, kTimedOut) << "the job hung";
    EXPECT_NE(rc, 0);
    auto lines = our_lines(log);
    ASSERT_EQ(lines.size(), 1u) << testing::read_file(log);
    EXPECT_NE(lines[0].find("rank 1: "), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find(bad), std::string::npos) << lines[0];
    EXPECT_FALSE(std::filesystem::exists(dir.path + "/r0/run/ckpt")) << "rank 0 trained on";
}

// Rank 0 alone writes; when a write fails the other ranks stop too instead of waiting for it.
TEST_F(Mpi, FailedWriteOnRankZeroEndsTheJobWithOneLine) {
    testing::TempDir dir("mpi_write");
    write_bigram_shards(dir.path + "/shards", 64, 2);
    std::string cfg = small_config(dir.path, kSplit);
    testing::write_file(dir.path + "/run/ckpt", "a file where the checkpoint folder goes");
    std::string log = dir.path + "/mpi.log";
    int rc = wait_for(spawn(concat(mpirun(2), train(cfg, false)), log), 60);
    ASSERT_NE(rc, kTimedOut) << "the job hung";
    EXPECT_NE(rc, 0);
    auto lines = our_lines(log);
    ASSERT_EQ(lines.size(), 1u) << testing::read_file(log);
    EXPECT_NE(lines[0].find("rank 0: "), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("/run/ckpt"), std::string::npos) << lines[0];
}

TEST_F(Mpi, GradAccumThatCannotBeSharedIsRefusedOnce) {
    testing::TempDir dir("mpi_split");
    write_bigram_shards(dir.path + "/shards", 64, 2);
    std::string cfg = small_config(dir.path, "batch_size = 4\ngrad_accum = 3\n");
    std::string log = dir.path + "/mpi.log";
    int rc = wait_for(spawn(concat(mpirun(2), train(cfg, false)), log), 60);
    ASSERT_NE(rc, kTimedOut) << "the job hung";
    EXPECT_NE(rc, 0);
    auto lines = our_lines(log);
    ASSERT_EQ(lines.size(), 1u) << testing::read_file(log);
    EXPECT_NE(lines[0].find("train.grad_accum = 3 cannot be shared by 2 processes"),
              std::string::npos)
        << lines[0];
}

// A rank that dies outright (the OOM killer, a lost machine) takes the job down: no hang.
TEST_F(Mpi, KilledRankEndsTheJob) {
    testing::TempDir dir("mpi_rank_kill");
    write_bigram_shards(dir.path + "/shards", 64, 2);
    std::string cfg = small_config(dir.path, kSplit, 16 * 32 * 4000);
    pid_t pid = spawn(concat(mpirun(2), train(cfg, false)));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline &&
           checkpoint_list(dir.path + "/run").empty())
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    // The ranks are mpirun's children; kill the last of them.
    std::vector<pid_t> ranks = children_of(pid);
    ASSERT_EQ(ranks.size(), 2u) << "ranks under mpirun";
    kill(ranks.back(), SIGKILL);
    int rc = wait_for(pid, 60);
    ASSERT_NE(rc, kTimedOut) << "the job hung after a rank died";
    EXPECT_NE(rc, 0);
}

// A tiny study (the capitals of invented countries) whose runs train under `[parallel] launcher`
// gives the points table of the same study trained in its own process.
void write_micro_study(const std::string &dir, const std::string &launcher) {
    const char *countries[] = {"Arvel", "Brisk", "Calden", "Dorn"};
    const char *capitals[] = {"Tamsin", "Oruk", "Pell", "Quist"};
    Rng rng(5);
    for (int f = 0; f < 20; ++f) {
        std::string text;
        for (int s = 0; s < 40; ++s) {
            int c = static_cast<int>(rng.below(4));
            text += std::string("The traveller visited ") + countries[c] + ". The capital of " +
                    countries[c] + " is " + capitals[c] + ".\n";
        }
        testing::write_file(dir + "/texts/doc" + std::to_string(f) + ".txt", text);
    }
    testing::write_file(dir + "/tasks/capitals.toml",
                        "output_type = \"multiple_choice\"\ndocs = \"capitals.jsonl\"\n"
                        "doc_to_text = \"The capital of {{country}} is\"\n"
                        "doc_to_target = \"{{answer}}\"\ndoc_to_choice = \"{{choices}}\"\n");
    std::string docs;
    for (int c = 0; c < 4; ++c)
        docs += std::string("{\"country\": \"") + countries[c] + "\", \"choices\": [\"" +
                capitals[c] + "\", \"" + capitals[(c + 1) % 4] + "\"], \"answer\": 0}\n";
    testing::write_file(dir + "/tasks/capitals.jsonl", docs);
    std::string cfg =
        "name = \"micro\"\nseed = 2\nthreads = 1\n"
        "[corpus]\nsources = [\"texts\"]\nskills = false\nval_fraction = 0.1\n"
        "[tokenizer]\nvocab_size = 300\n"
        "[tasks]\nsuite = [\"tasks\"]\nlimit = 0\n"
        "[train]\nbatch_size = 4\ngrad_accum = 2\nseq_len = 32\nlr = 0.01\nval_windows = 8\n"
        "budgets = [12800]\n"
        "[checkpoint]\nlog = 1\nevery_fraction = 0.5\n"
        "[[size]]\nname = \"a\"\nd_model = 32\nn_layers = 1\nn_heads = 2\n";
    if (!launcher.empty()) cfg += "[parallel]\nlauncher = \"" + launcher + "\"\n";
    testing::write_file(dir + "/study.toml", cfg);
}

TEST_F(Mpi, StudyLaunchesItsRunsOnSeveralProcesses) {
    std::string launcher;
    for (const auto &a : mpirun(2)) launcher += (launcher.empty() ? "" : " ") + a;
    testing::TempDir one("mpi_study_one"), two("mpi_study_two");
    write_micro_study(one.path, "");
    write_micro_study(two.path, launcher);
    for (const std::string &d : {one.path, two.path}) {
        std::string log = d + "/study.log";
        ASSERT_EQ(
            wait_for(spawn({EM_BINARY, "study", d + "/study.toml", "--dir", d + "/out"}, log)), 0)
            << testing::read_file(log);
    }
    int launched = 0;  // each run's config, written for the launcher
    for (const auto &e : std::filesystem::directory_iterator(two.path + "/out/runs"))
        launched += file_exists((e.path() / "run.toml").string());
    EXPECT_EQ(launched, 1);
    const std::string log = testing::read_file(two.path + "/study.log");
    EXPECT_NE(log.find("2 processes x 1 micro-batches"), std::string::npos) << log;
    std::string points = testing::read_file(one.path + "/out/points.csv");
    EXPECT_GT(std::count(points.begin(), points.end(), '\n'), 2);
    EXPECT_EQ(testing::read_file(two.path + "/out/points.csv"), points);
}

#else

TEST(Mpi, BinaryWithoutMpiSaysSoUnderMpirun) {
    testing::TempDir dir("mpi_none");
    write_bigram_shards(dir.path + "/shards", 64, 2);
    std::string cfg = small_config(dir.path, kSplit);
    std::string log = dir.path + "/out.log";
    int rc = wait_for(spawn(train(cfg, false), log, {"OMPI_COMM_WORLD_SIZE=2"}), 60);
    EXPECT_EQ(rc, 1);
    std::string out = testing::read_file(log);
    EXPECT_NE(out.find("built without MPI"), std::string::npos) << out;
    EXPECT_FALSE(std::filesystem::exists(dir.path + "/run")) << "it trained anyway";
}

#endif

}  // namespace
}  // namespace em
