// Evaluating a model on tasks: requests built from each task's documents, scored, turned into
// lm-eval's metrics with standard errors and random-guess baselines, and written as lm-eval
// results files (<task>.json) and per-document samples (samples_<task>.jsonl).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "data/tokenizer.h"
#include "eval/scorer.h"
#include "eval/task.h"
#include "model/model.h"

namespace em {

struct EvalOptions {
    int64_t limit = 0;  // score the first `limit` documents of each task (0: all)
    ScoreOptions score;
    bool keep_samples = true;  // fill TaskResult::samples
};

struct MetricResult {
    std::string name;
    double value = 0, std_err = 0;  // std_err NaN: undefined
    double baseline = 0;            // the random-guess value; NaN: none defined
    bool higher_is_better = true;
};

struct TaskResult {
    std::string task;
    TaskSpec spec;
    int64_t n_docs = 0;       // documents in the task
    int64_t n_evaluated = 0;  // documents scored (after --limit)
    std::vector<MetricResult> metrics;
    std::vector<nlohmann::json> samples;  // one lm-eval sample record per scored document
    double seconds = 0;

    const MetricResult *metric(const std::string &name) const;
};

// The version of the scoring rules. Raised by any change that alters a score some task file
// yields, so that a study scores its checkpoints again rather than mixing old and new rules.
// Every results file records it (config.scoring).
inline constexpr int kScoringVersion = 2;

// Scores one task. Threads: the pool's (parallel_set_threads).
Result<TaskResult> eval_task(const Model &model, const Tokenizer &tok, const Task &task,
                             const EvalOptions &opt);
// Scores every task in order.
Result<std::vector<TaskResult>> eval_checkpoint(const Model &model, const Tokenizer &tok,
                                                const std::vector<Task> &tasks,
                                                const EvalOptions &opt);

// exact_match of one generation, as lm-eval's: the generation after the task's filter equals the
// target exactly (the filter never touches the target).
bool generation_matches(GenFilter filter, const std::string &generation, const std::string &target);

// lm-eval's results document for one task; `config` becomes its "config" entry (model, files,
// options).
nlohmann::json eval_results_json(const TaskResult &r, const nlohmann::json &config);
// Writes out_dir/<task>.json and out_dir/samples_<task>.jsonl for each result, atomically.
Status eval_write(const std::string &out_dir, const std::vector<TaskResult> &results,
                  const nlohmann::json &config);
// A compact table: task, metric, value ± stderr, chance, n.
std::string eval_table(const std::vector<TaskResult> &results);

// Rescores an lm-eval `samples_<task>.jsonl` with this model, using each record's exact prompt
// strings ("arguments"): log-likelihood records (one or several (context, continuation) pairs),
// rolling records (one text) and generation records (context, generation arguments). The task
// name is taken from the file name. Several records of one doc_id (several filters) count once:
// a generation is compared with the target unfiltered (lm-eval's filters, such as a regex that
// extracts an answer, are not reapplied).
Result<TaskResult> eval_lm_eval_samples(const Model &model, const Tokenizer &tok,
                                        const std::string &samples_path, const EvalOptions &opt);

}  // namespace em
