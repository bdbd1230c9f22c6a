// Running a study: corpus, tokenizer and shards once, then every run (trained, resumable) and
// every checkpoint evaluated, then the points table, the analysis and the report. Each stage
// skips what its files show done, so a rerun after a crash or kill continues where it stopped.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "study/config.h"

namespace em {

struct StudyPaths {
    std::string dir;
    std::string tasks() const { return dir + "/tasks"; }
    std::string corpus() const { return dir + "/corpus"; }
    std::string tokenizer() const { return dir + "/tokenizer.model"; }
    std::string shards() const { return dir + "/shards"; }
    std::string evals(const std::string &run, int64_t step) const;
    std::string points() const { return dir + "/points.csv"; }
    std::string analysis() const { return dir + "/analysis"; }
    std::string report() const { return dir + "/report.html"; }
    std::string ledger() const { return dir + "/ledger.sqlite"; }
};

// Runs (or continues) the whole study in `dir`. Holds the directory's lock throughout.
Status study_run(const StudyConfig &cfg, const std::string &dir);

// The plan: runs, parameters, tokens, FLOPs, and the time each stage will take on this machine
// from throughput measured now (a few training and forward steps per model size). Returns text.
Result<std::string> study_plan(const StudyConfig &cfg, const std::string &dir);

// Tokens read to evaluate one checkpoint: from the task files when they exist, else (the built-in
// suite, not yet built) from the suite's measured mean document size.
int64_t study_eval_tokens_estimate(const StudyConfig &cfg, const std::string &dir);

// What the ledger says: stages, runs, checkpoints and evaluations done. Returns text.
Result<std::string> study_status(const std::string &dir);

// Assembles the points table from run directories (`runs_dir/<run>/`, each with its config,
// checkpoints and evals/) — including runs trained on other machines — and writes it to `out`.
Status study_collect(const std::string &dir, const std::string &out);

// The file that marks an evaluation directory complete.
std::string study_eval_done_marker(const std::string &eval_dir);

}  // namespace em
