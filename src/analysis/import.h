// Imports of external results into the points table: lm-evaluation-harness results files (one
// per checkpoint; v0.3 layout {"results": {task: {"acc": ..}}} and the current "acc,none" layout)
// and wide CSV logs (one row per checkpoint, one column per task metric, e.g. the OLMo ladder).
// Run name, size, step and budget come from a path pattern such as
// 'pythia-{run}/{size}_step{step}.json' or from options. Usage: docs/points.md.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "analysis/points.h"
#include "common/status.h"

namespace em {

struct ImportOptions {
    std::string dir;                 // walk this directory for files matching `pattern`
    std::vector<std::string> files;  // or take these files (matched against the pattern's tail)
    std::string pattern;             // {run} {size} {step} {xc} {tokens} fields, * and ? wildcards
    std::vector<std::string>
        params;              // "N" for every run, or "KEY=N" with KEY the {size} or run name
    std::string params_csv;  // columns run,params or size,params
    std::vector<std::string> tokens;     // "D" for every run, or "KEY=D"
    double tokens_per_param = 20;        // budget = {xc} x this x params
    double tokens_per_step = 0;          // tokens_seen = step x this (when no column gives it)
    std::string run;                     // run name when the pattern has no {run}
    std::string loss_csv;                // run,step,loss
    std::vector<std::string> baselines;  // "TASK=V" or "TASK:METRIC=V" (TASK a regular expression)
    std::vector<std::string>
        choices;                // "TASK=K": K-way multiple choice (TASK a regular expression)
    std::string baselines_csv;  // task,metric,baseline (metric "*" = every metric)
    std::string task_filter;    // regular expression on task names; empty = all
    std::vector<std::string> aggregate;  // "NAME=REGEX": n-weighted mean of matching tasks
    bool drop_aggregated = false;        // keep only the aggregate of matched tasks
};

struct LmEvalOptions {
    std::string loss_from;      // "TASK:METRIC" whose value (log of perplexities) is the loss
    bool n_from_stderr = true;  // n = p(1-p)/stderr^2 + 1 for 0/1 metrics without a sample count
};

struct CsvImportOptions {
    std::map<std::string, std::string>
        map;  // field (loss, step, tokens_seen, run, params, tokens) -> column
    std::vector<std::string>
        task_columns;  // regexes; group 1 = task, group 2 (or the rest) = metric
};

struct ImportResult {
    std::vector<Point> points;
    std::vector<std::string> warnings;  // one line each (unknown baselines, skipped rows)
    int64_t files = 0;
};

Result<ImportResult> import_lm_eval(const ImportOptions &opt, const LmEvalOptions &lm);
Result<ImportResult> import_wide_csv(const ImportOptions &opt, const CsvImportOptions &csv);

// A path pattern compiled to a regular expression with named fields.
struct PathPattern {
    std::string source;
    std::vector<std::string> fields;  // capture group i+1 holds fields[i]
    std::string regex;
};
Result<PathPattern> path_pattern_compile(const std::string &pattern);
// Matches a '/'-separated path (whole, or its tail after a '/'); fills `fields`.
bool path_pattern_match(const PathPattern &p, const std::string &path,
                        std::map<std::string, std::string> &fields);

}  // namespace em
