// `study submit --dry-run` against the script layout of docs/cluster.md, the locks that let array
// tasks share a study directory (a --runs runner takes its run's lock, not the study's), and the
// time an older build's ledger holds carried into the per-run records.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "common/fileio.h"
#include "study/ledger.h"
#include "study/record.h"
#include "tests/common/testing.h"
#include "tests/study/micro.h"

namespace em {
namespace {

using testing::temp_dir;

std::pair<int, std::string> run(const std::string &args) {
    FILE *p = popen((std::string(EM_BINARY) + " " + args + " 2>&1").c_str(), "r");
    std::string out;
    char buf[512];
    while (fgets(buf, sizeof buf, p)) out += buf;
    const int rc = pclose(p);
    return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, out};
}

// The text of one script in the dry run's output: from its "# ---- PATH" line to the next.
std::string script(const std::string &out, const std::string &path) {
    const size_t at = out.find("# ---- " + path + "\n");
    if (at == std::string::npos) return "";
    const size_t from = out.find('\n', at) + 1;
    return out.substr(from, out.find("# ---- ", from) - from);
}

void expect_has(const std::string &text, const std::string &what) {
    EXPECT_NE(text.find(what), std::string::npos) << "no \"" << what << "\" in:\n" << text;
}

TEST(StudySubmit, DryRunPrintsTheDocumentedScriptsAndSubmitsNothing) {
    const std::string dir = temp_dir("submit_dry");
    write_micro_inputs(dir);
    const std::string out_dir = dir + "/out", cfg = dir + "/study.toml";
    auto [rc, out] = run("study submit " + cfg + " --dir " + out_dir +
                         " --dry-run --partition short --account lab --time 1:00:00 "
                         "--cpus-per-task 2 --mem 2G --max-parallel 3 --sbatch-arg=--qos=low");
    ASSERT_EQ(rc, 0) << out;
    EXPECT_FALSE(file_exists(out_dir)) << "a dry run wrote into the study directory";

    const std::string bin = EM_BINARY, sl = out_dir + "/slurm/";
    for (const char *name : {"prepare", "runs", "finish"}) {
        const std::string s = script(out, sl + name + ".sh");
        ASSERT_FALSE(s.empty()) << name << " missing from:\n" << out;
        EXPECT_EQ(s.rfind("#!/bin/bash\n# Study micro: ", 0), 0u) << s;
        expect_has(s, std::string("#SBATCH --job-name=micro-") + name + "\n");
        expect_has(s, "#SBATCH --output=" + sl + "logs/" +
                          (std::string(name) == "runs" ? "run-%A_%a" : std::string(name) + "-%j") +
                          ".out\n");
        expect_has(s,
                   "#SBATCH --partition=short\n#SBATCH --account=lab\n#SBATCH "
                   "--time=1:00:00\n#SBATCH --cpus-per-task=2\n#SBATCH --mem=2G\n#SBATCH "
                   "--qos=low\nset -eu\n");
        expect_has(s, "exec '" + bin + "' study");
        expect_has(s, "'" + cfg + "' --dir '" + out_dir + "' --threads 2");
    }
    // Longest first: the larger size's longer budget, ..., the smaller size's shorter one.
    const std::string runs = script(out, sl + "runs.sh");
    expect_has(runs, "#SBATCH --array=0-3%3\n");
    expect_has(runs,
               "runs=(\n  b-25.6k\n  b-12.8k\n  a-25.6k\n  a-12.8k\n)\n"
               "run=${runs[$SLURM_ARRAY_TASK_ID]}\n");
    expect_has(runs, "--runs \"$run\" --no-outputs\n");
    expect_has(script(out, sl + "prepare.sh"), "' study prepare '");
    expect_has(script(out, sl + "finish.sh"), "' study finish '");
    expect_has(out,
               "RUNS=$(sbatch --parsable --kill-on-invalid-dep=yes "
               "--dependency=afterok:$PREPARE " +
                   sl + "runs.sh)\n");
    expect_has(out, "sbatch --parsable --dependency=afterany:$RUNS " + sl + "finish.sh\n");

    // Prepared: no prepare job, the array depends on nothing.
    ASSERT_EQ(run("study prepare " + cfg + " --dir " + out_dir).first, 0);
    std::tie(rc, out) = run("study submit " + cfg + " --dir " + out_dir + " --dry-run");
    ASSERT_EQ(rc, 0) << out;
    EXPECT_TRUE(script(out, sl + "prepare.sh").empty()) << out;
    expect_has(out, "RUNS=$(sbatch --parsable " + sl + "runs.sh)\n");

    // One run done: the array holds the other three.
    ASSERT_EQ(run("study " + cfg + " --dir " + out_dir + " --runs a-12.8k --no-outputs").first, 0);
    std::tie(rc, out) = run("study submit " + cfg + " --dir " + out_dir + " --dry-run");
    expect_has(out, "#SBATCH --array=0-2\nset -eu\n");
    expect_has(out, "runs=(\n  b-25.6k\n  b-12.8k\n  a-25.6k\n)\n");

    // Every run done: the finish job alone.
    ASSERT_EQ(run("study " + cfg + " --dir " + out_dir).first, 0);
    std::tie(rc, out) = run("study submit " + cfg + " --dir " + out_dir + " --dry-run");
    EXPECT_TRUE(script(out, sl + "runs.sh").empty()) << out;
    expect_has(out, "# ---- would submit:\nsbatch --parsable " + sl + "finish.sh\n");
}

TEST(StudySubmit, RunnersOfOneRunTakeItsLockNotTheStudys) {
    const std::string dir = temp_dir("submit_locks");
    write_micro_inputs(dir);
    const std::string out_dir = dir + "/out", cfg = dir + "/study.toml";
    ASSERT_EQ(run("study prepare " + cfg + " --dir " + out_dir).first, 0);
    {
        // Another process holds the study-wide lock: a runner of one run goes on regardless.
        FileLock study;
        ASSERT_TRUE(study.acquire(out_dir + "/.lock", "study").is_ok());
        auto [rc, out] = run("study " + cfg + " --dir " + out_dir + " --runs a-12.8k --no-outputs");
        EXPECT_EQ(rc, 0) << out;
    }
    {
        // Another process holds the run's lock: a second runner of that run is refused.
        ASSERT_TRUE(dir_create(out_dir + "/runs/b-12.8k").is_ok());
        FileLock held;
        ASSERT_TRUE(held.acquire(out_dir + "/runs/b-12.8k/.lock", "run").is_ok());
        EXPECT_TRUE(file_lock_held(out_dir + "/runs/b-12.8k/.lock"));
        auto [rc, out] = run("study " + cfg + " --dir " + out_dir + " --runs b-12.8k --no-outputs");
        EXPECT_EQ(rc, 1) << out;
        expect_has(out, "runs/b-12.8k: another emergence process is training or evaluating");
    }
    EXPECT_FALSE(file_lock_held(out_dir + "/runs/b-12.8k/.lock"));
    // The finish job names what is missing and writes no points table.
    auto [rc, out] = run("study finish " + cfg + " --dir " + out_dir);
    EXPECT_EQ(rc, 1) << out;
    expect_has(out, "3 of 4 runs did not finish: a-25.6k (not started); b-12.8k (not started)");
    EXPECT_FALSE(file_exists(out_dir + "/points.csv"));
    auto rec = run_record_read(StudyPaths{out_dir}, "a-12.8k");
    ASSERT_TRUE(rec.is_ok() && *rec);
    EXPECT_EQ((*rec)->status, "done");
    EXPECT_EQ((*rec)->evaluated.size(), 3u);
}

}  // namespace
}  // namespace em

namespace em {
namespace {

// A study started before the per-run records kept its runs' time in ledger.sqlite only: status
// shows it, and the runner carries it into the record it starts.
TEST(StudySubmit, TimeInALedgerFromBeforeRecordsIsKept) {
    const std::string dir = temp_dir("submit_old_ledger");
    write_micro_inputs(dir);
    const std::string out_dir = dir + "/out", cfg = dir + "/study.toml";
    ASSERT_EQ(run("study " + cfg + " --dir " + out_dir).first, 0);
    for (const char *r : {"a-12.8k", "a-25.6k", "b-12.8k", "b-25.6k"})
        std::filesystem::remove(out_dir + "/runs/" + r + "/record.json");
    std::filesystem::remove(out_dir + "/ledger.sqlite");
    {
        Ledger old;
        ASSERT_TRUE(old.open(out_dir + "/ledger.sqlite").is_ok());
        ASSERT_TRUE(old.run_set("a-12.8k", 13408, 12800, 50, 50, "done", 123).is_ok());
    }
    auto [rc, out] = run("study status " + cfg + " --dir " + out_dir);
    ASSERT_EQ(rc, 0) << out;
    expect_has(out, "2m03s  done");
    ASSERT_EQ(run("study " + cfg + " --dir " + out_dir).first, 0);
    auto rec = run_record_read(StudyPaths{out_dir}, "a-12.8k");
    ASSERT_TRUE(rec.is_ok() && *rec);
    EXPECT_GE((*rec)->seconds, 123);
}

}  // namespace
}  // namespace em
