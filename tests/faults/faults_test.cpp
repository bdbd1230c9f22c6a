// Injected faults at every write site of a study (training: checkpoint weights, optimizer state,
// metrics log; evaluation: results, samples, done marker; the runner: points table, analysis,
// report): each gives one clear error naming the file, leaves no file that looks complete but is
// not, and a rerun ends with the same points table and analysis as an uninterrupted run.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "analysis/points.h"
#include "common/fileio.h"
#include "eval/results.h"
#include "model/safetensors.h"
#include "study/config.h"
#include "study/eval_marker.h"
#include "study/runner.h"
#include "tests/common/testing.h"
#include "tests/study/micro.h"
#include "train/checkpoint.h"

namespace em {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

Status study_in(const std::string &dir) {
    auto cfg = study_config_load(dir + "/study.toml");
    if (!cfg.is_ok()) return cfg.status();
    return study_run(*cfg, dir + "/out");
}

// What an uninterrupted run writes, computed once for every case.
struct Reference {
    std::string points, analysis;
};
const Reference &reference() {
    static const Reference ref = [] {
        Reference r;
        TempDir tmp("faults_ref");
        write_micro_inputs(tmp.path);
        Status s = study_in(tmp.path);
        EXPECT_TRUE(s.is_ok()) << s.message();
        r.points = testing::read_file(tmp / "out/points.csv");
        r.analysis = testing::read_file(tmp / "out/analysis/analysis.json");
        return r;
    }();
    return ref;
}

// Nothing under `out` looks complete without being so: no temporary file is left, every
// checkpoint's weights and state load, every evaluation marked done has readable results, and a
// points table that exists reads.
void expect_nothing_half_written(const std::string &out) {
    for (const auto &e : fs::recursive_directory_iterator(out)) {
        const std::string p = e.path().string(), name = e.path().filename().string();
        EXPECT_FALSE(p.size() > 4 && p.compare(p.size() - 4, 4, ".tmp") == 0) << p;
        if (name.rfind("step_", 0) == 0 && e.path().extension() == ".safetensors") {
            auto f = safetensors_read(p);
            EXPECT_TRUE(f.is_ok()) << f.status().message();
        }
        if (name.rfind("state_", 0) == 0) {
            auto f = safetensors_read(p);
            EXPECT_TRUE(f.is_ok()) << f.status().message();
        }
        if (name == "done.json") {
            auto files = eval_results_files(e.path().parent_path().string());
            ASSERT_TRUE(files.is_ok()) << files.status().message();
            for (const auto &r : *files) {
                auto rf = results_read(r, "rerun");
                EXPECT_TRUE(rf.is_ok()) << rf.status().message();
            }
        }
    }
    if (file_exists(out + "/points.csv")) {
        auto pts = points_read(out + "/points.csv");
        EXPECT_TRUE(pts.is_ok()) << pts.status().message();
    }
}

struct Site {
    const char *name;
    IoFault fault;
    const char *in_message;  // part of the path the error must name
};

void expect_fault_survived(const Site &site) {
    const Reference &ref = reference();
    ASSERT_FALSE(ref.points.empty());
    TempDir tmp(std::string("faults_") + site.name);
    write_micro_inputs(tmp.path);
    {
        IoFaultScope scope(site.fault);
        Status s = study_in(tmp.path);
        ASSERT_FALSE(s.is_ok()) << site.name << ": the run ended without meeting the fault";
        EXPECT_EQ(io_fault_fired(), 1) << site.name;
        EXPECT_NE(s.message().find(site.in_message), std::string::npos) << s.message();
        EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
        std::printf("%s: %s\n", site.name, s.message().c_str());
    }
    expect_nothing_half_written(tmp / "out");
    Status again = study_in(tmp.path);
    ASSERT_TRUE(again.is_ok()) << site.name << ": " << again.message();
    EXPECT_EQ(testing::read_file(tmp / "out/points.csv"), ref.points) << site.name;
    EXPECT_EQ(testing::read_file(tmp / "out/analysis/analysis.json"), ref.analysis) << site.name;
    const std::string report = testing::read_file(tmp / "out/report.html");
    EXPECT_NE(report.find("</html>"), std::string::npos) << site.name;
}

// Training: the weights and state of a checkpoint, and the metrics log.
TEST(Faults, TrainingWriteSites) {
    const Site sites[] = {
        {"weights_short", {IoOp::write, "*/ckpt/step_*", 2, 1, ENOSPC, true}, "ckpt/step_"},
        {"weights_rename", {IoOp::rename, "*/ckpt/step_*", 3, 1, EIO, false}, "ckpt/step_"},
        {"state_fsync", {IoOp::fsync, "*/ckpt/state_*", 1, 1, EIO, false}, "ckpt/state_"},
        {"state_full", {IoOp::write, "*/ckpt/state_*", 4, 1, ENOSPC, false}, "ckpt/state_"},
        {"metrics_short", {IoOp::write, "*/metrics.jsonl", 30, 1, ENOSPC, true}, "metrics.jsonl"},
        {"metrics_open", {IoOp::open, "*/metrics.jsonl", 7, 1, EMFILE, false}, "metrics.jsonl"},
    };
    for (const Site &s : sites) expect_fault_survived(s);
}

// Evaluation: a task's results and samples, and the done marker of a checkpoint.
TEST(Faults, EvaluationWriteSites) {
    const Site sites[] = {
        {"results_full", {IoOp::write, "*/capitals.json", 2, 1, ENOSPC, true}, "capitals.json"},
        {"samples_rename",
         {IoOp::rename, "*/samples_capitals.jsonl", 3, 1, EIO, false},
         "samples_capitals.jsonl"},
        {"done_fsync", {IoOp::fsync, "*/done.json", 2, 1, EIO, false}, "done.json"},
    };
    for (const Site &s : sites) expect_fault_survived(s);
}

// The runner's own outputs: the points table, the analysis and the report.
TEST(Faults, StudyOutputWriteSites) {
    const Site sites[] = {
        {"points_short", {IoOp::write, "*/out/points.csv", 1, 1, ENOSPC, true}, "points.csv"},
        {"analysis_rename", {IoOp::rename, "*/analysis.json", 1, 1, EIO, false}, "analysis.json"},
        {"report_full", {IoOp::write, "*/report.html", 1, 1, ENOSPC, false}, "report.html"},
    };
    for (const Site &s : sites) expect_fault_survived(s);
}

}  // namespace
}  // namespace em
