// Studies on a real one-node Slurm (tests/slurm/slurm_up.sh, started by CTest's fixture): the
// micro study submitted with `study submit` ends with the points table of a plain local run, also
// when an array task is cancelled in the middle of its run and the study is submitted again. And a
// data-parallel run started by `srun --mpi=pmix -n 2` gives the bytes of one process.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "common/fileio.h"
#include "study/layout.h"
#include "study/record.h"
#include "study/submit.h"
#include "tests/common/testing.h"
#include "tests/study/micro.h"
#include "tests/train/fixtures.h"
#include "tests/train/same_run.h"
#include "train/checkpoint.h"

namespace em {
namespace {

using testing::temp_dir;

// Runs a shell command against the test cluster: (exit status, stdout and stderr).
std::pair<int, std::string> sh(const std::string &cmd) {
    setenv("SLURM_CONF", EM_SLURM_STATE "/slurm.conf", 1);
    FILE *p = popen((cmd + " 2>&1").c_str(), "r");
    std::string out;
    char buf[512];
    while (fgets(buf, sizeof buf, p)) out += buf;
    const int rc = pclose(p);
    return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, out};
}

std::string emergence(const std::string &dir, const std::string &sub,
                      const std::string &tail = "") {
    return std::string(EM_BINARY) + " study " + sub + " " + dir + "/study.toml --dir " + dir +
           "/out" + tail;
}

// The micro study's points table from a plain local `emergence study`, computed once.
const std::string &reference_points() {
    static const std::string points = [] {
        const std::string dir = temp_dir("slurm_ref");
        write_micro_inputs(dir);
        auto [rc, out] = sh(emergence(dir, ""));
        EXPECT_EQ(rc, 0) << out;
        auto points = file_read(dir + "/out/points.csv");
        return points.is_ok() ? *points : std::string();
    }();
    return points;
}

// Waits (at most 300 s) until Slurm no longer lists any of the submission's jobs.
void wait_for(const SlurmSubmission &s) {
    std::string ids;
    for (const auto *id : {&s.prepare, &s.array, &s.finish})
        if (!id->empty()) ids += (ids.empty() ? "" : ",") + *id;
    for (int i = 0; i < 1500; ++i) {
        auto [rc, out] = sh("squeue -h -o %i -j " + ids);
        if (rc == 0 && out.empty()) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ADD_FAILURE() << "jobs " << ids << " still queued after 300 s";
}

SlurmSubmission last_submission(const std::string &dir) {
    auto subs = slurm_submissions_read(StudyPaths{dir + "/out"});
    EXPECT_TRUE(subs.is_ok() && !subs->empty());
    return subs.is_ok() && !subs->empty() ? subs->back() : SlurmSubmission{};
}

TEST(Slurm, SubmittedStudyEndsWithTheLocalPointsTable) {
    const std::string &expect = reference_points();
    ASSERT_FALSE(expect.empty());
    const std::string dir = temp_dir("slurm_submit");
    write_micro_inputs(dir);
    auto [rc, out] = sh(emergence(dir, "submit", " --max-parallel 2 --cpus-per-task 1"));
    ASSERT_EQ(rc, 0) << out;
    SlurmSubmission s = last_submission(dir);
    EXPECT_FALSE(s.prepare.empty());
    EXPECT_FALSE(s.array.empty());
    EXPECT_EQ(s.runs.size(), 4u);
    wait_for(s);
    auto got = file_read(dir + "/out/points.csv");
    ASSERT_TRUE(got.is_ok()) << sh("cat " + dir + "/out/slurm/logs/*").second;
    EXPECT_TRUE(*got == expect) << "points table through Slurm differs from the local run's";

    auto [src, status] = sh(emergence(dir, "status"));
    EXPECT_EQ(src, 0) << status;
    EXPECT_NE(status.find("runs: 4 done, 0 running, 0 pending, 0 failed"), std::string::npos)
        << status;

    // Every run done: submitting again submits the finish job alone, which writes the same table.
    std::tie(rc, out) = sh(emergence(dir, "submit"));
    ASSERT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("every run is done"), std::string::npos) << out;
    s = last_submission(dir);
    EXPECT_TRUE(s.prepare.empty());
    EXPECT_TRUE(s.array.empty());
    EXPECT_TRUE(s.runs.empty());
    wait_for(s);
    auto again = file_read(dir + "/out/points.csv");
    EXPECT_TRUE(again.is_ok() && *again == expect);
}

TEST(Slurm, CancelledTaskResumesWhenSubmittedAgain) {
    const std::string &expect = reference_points();
    ASSERT_FALSE(expect.empty());
    const std::string dir = temp_dir("slurm_cancel");
    write_micro_inputs(dir);
    // One run at a time, so that the one being trained is the one cancelled.
    auto [rc, out] = sh(emergence(dir, "submit", " --max-parallel 1 --cpus-per-task 1"));
    ASSERT_EQ(rc, 0) << out;
    SlurmSubmission s = last_submission(dir);
    ASSERT_EQ(s.runs.size(), 4u);

    // The array runs the longest run first; cancel it once it has a checkpoint but before it has
    // trained every step.
    const StudyPaths p{dir + "/out"};
    const size_t victim = 0;
    const std::string run = s.runs[victim];
    bool cancelled = false;
    for (int i = 0; i < 30000 && !cancelled; ++i) {
        auto rec = run_record_read(p, run);
        if (rec.is_ok() && *rec && (*rec)->status == "training" && (*rec)->steps_done > 0 &&
            (*rec)->steps_done < (*rec)->steps_total) {
            auto [crc, cout] = sh("scancel " + s.array + "_" + std::to_string(victim));
            ASSERT_EQ(crc, 0) << cout;
            cancelled = true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE(cancelled) << "run " << run << " was never seen mid-training";
    wait_for(s);
    EXPECT_FALSE(file_exists(p.points())) << "a points table although a run did not finish";
    auto [lrc, log] = sh("cat " + p.dir + "/slurm/logs/finish-" + s.finish + ".out");
    EXPECT_NE(log.find("did not finish: " + run), std::string::npos) << log;
    auto [src, status] = sh(emergence(dir, "status"));
    EXPECT_NE(status.find("runs: 3 done, 0 running, 0 pending, 1 failed"), std::string::npos)
        << status;
    const auto before = checkpoint_list(p.run(run));
    EXPECT_FALSE(before.empty());

    // Again: the prepared stages and the finished runs are not submitted; the cancelled run
    // resumes from its checkpoint and the table is the local run's, byte for byte.
    std::tie(rc, out) = sh(emergence(dir, "submit"));
    ASSERT_EQ(rc, 0) << out;
    s = last_submission(dir);
    EXPECT_TRUE(s.prepare.empty());
    ASSERT_EQ(s.runs, std::vector<std::string>{run});
    wait_for(s);
    auto got = file_read(p.points());
    ASSERT_TRUE(got.is_ok()) << sh("cat " + p.dir + "/slurm/logs/*").second;
    EXPECT_TRUE(*got == expect) << "points table after a cancel differs from the local run's";
}

#ifdef EM_TEST_HAVE_MPI
// Slurm starts the ranks itself (PMIx), as on a cluster: the same bytes as one process.
TEST(Slurm, SrunTwoRanksGiveTheBytesOfOneProcess) {
    testing::TempDir dir("slurm_srun");
    testing::write_bigram_shards(dir.path + "/shards", 64, 2);
    const std::string cfg = testing::small_config(dir.path, "batch_size = 4\ngrad_accum = 4\n");
    const std::string train = std::string(EM_BINARY) + " train --config " + cfg + " --threads 1";
    auto [rc1, out1] = sh(train);
    ASSERT_EQ(rc1, 0) << out1;
    std::filesystem::rename(dir.path + "/run", dir.path + "/one");
    // Open MPI between the ranks over loopback TCP, as the mpirun tests do. In a sanitizer build
    // the ranks run without leak checking, as the MPI tests do (tests/CMakeLists.txt): Open MPI
    // leaks from plugins it has unloaded by exit, where LeakSanitizer cannot suppress them.
    auto [rc2, out2] =
        sh("ASAN_OPTIONS=\"${ASAN_OPTIONS:-}:detect_leaks=0\" "
           "OMPI_MCA_btl=self,tcp OMPI_MCA_btl_tcp_if_include=lo "
           "OMPI_MCA_oob_tcp_if_include=lo srun --mpi=pmix -n 2 -t 5 " +
           train);
    ASSERT_EQ(rc2, 0) << out2;
    EXPECT_NE(out2.find("2 processes"), std::string::npos) << out2;
    testing::expect_same_run(dir.path + "/one", dir.path + "/run");
}
#endif

}  // namespace
}  // namespace em
