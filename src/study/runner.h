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
    // Which tokenizer a run was started with (its hash), written when the run starts.
    std::string run_tokenizer(const std::string &run) const {
        return dir + "/runs/" + run + "/tokenizer.json";
    }
    std::string points() const { return dir + "/points.csv"; }
    std::string analysis() const { return dir + "/analysis"; }
    std::string report() const { return dir + "/report.html"; }
    std::string ledger() const { return dir + "/ledger.sqlite"; }
};

// Which runs of the grid one runner takes on: the runs whose names match any of `patterns` (shell
// globs such as "n1600k-*"; none: every run), then, when `count` > 1, shard `index` of `count`
// (1-based): the runs dealt out to `count` machines so that their planned work (training FLOPs
// plus evaluation FLOPs) is as even as possible. The deal depends on the config and the task files
// only, so every machine computes the same one.
struct StudySelection {
    std::vector<std::string> patterns;
    int64_t index = 1, count = 1;
    bool all() const { return patterns.empty() && count <= 1; }
};

// A run's planned work in FLOPs: training, plus evaluating each checkpoint (`eval_tokens` read by
// a scorer that runs at about half the batched forward rate, so counted at twice forward FLOPs).
double study_run_work(const StudyRun &r, double eval_tokens);

// Parses `--runs` (comma-separated globs; empty: none) and `--shard` ("K/N"; empty: 1/1).
Result<StudySelection> study_selection_parse(const std::string &runs, const std::string &shard);

// The runs `sel` picks, in plan order; `eval_tokens` is read per checkpoint evaluation (it weighs
// evaluation in the deal). A pattern that matches no run is an error naming the runs there are.
Result<std::vector<StudyRun>> study_select(const std::vector<StudyRun> &runs,
                                           const StudySelection &sel, double eval_tokens);

// Runs (or continues) the study in `dir`: every run, or the runs `sel` picks. Holds the
// directory's lock throughout. The points table, analysis and report are written only when every
// run of the grid is trained and evaluated (a selection's runner stops after its own runs).
// `--shard` needs a prepared study, so that every machine uses one tokenizer. With `prepare_only`
// it builds what every run shares (tasks, corpus, tokenizer, shards) and stops: the directory to
// copy to each machine when the grid is split.
Status study_run(const StudyConfig &cfg, const std::string &dir, const StudySelection &sel = {},
                 bool prepare_only = false);
Status study_prepare(const StudyConfig &cfg, const std::string &dir);

// The plan: runs, parameters, tokens, FLOPs, and the time each stage will take on this machine
// from throughput measured now (a few training and forward steps per model size). Returns text.
// With a selection, only its runs are listed and priced. When other work keeps the cores busy
// the text ends with plan_busy_note's warning.
Result<std::string> study_plan(const StudyConfig &cfg, const std::string &dir,
                               const StudySelection &sel = {});

// The warning `study plan` prints when the machine is busy: the 1-minute load average `load`,
// taken before measuring, exceeds what `cores` leave beside the plan's `threads` by more than half
// a core, so the throughput measured reads low. Empty on a quiet machine.
std::string plan_busy_note(double load, int cores, int threads);

// Tokens read to evaluate one checkpoint: from the task files when they exist, else (the built-in
// suite, not yet built) from the suite's measured mean document size.
int64_t study_eval_tokens_estimate(const StudyConfig &cfg, const std::string &dir);

// What the ledger says: stages, runs, checkpoints and evaluations done. Returns text.
Result<std::string> study_status(const std::string &dir);

// Assembles the points table from the run directories of the config's grid (`dir/runs/<run>/`,
// each with its config, checkpoints and evals/), including runs trained on other machines, and
// writes it to `out`. Every evaluated checkpoint counts, so a study still running gives a partial
// table; directories of runs the config does not plan are named on stderr and left out.
Status study_collect(const StudyConfig &cfg, const std::string &dir, const std::string &out);

// The file that marks an evaluation directory complete.
std::string study_eval_done_marker(const std::string &eval_dir);

}  // namespace em
