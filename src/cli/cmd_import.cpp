// `emergence import lm-eval|csv`: external results -> points.csv (format: docs/points.md).
#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "analysis/import.h"
#include "cli/command.h"
#include "eval/import_lmeval.h"

namespace em::cli {
namespace {

struct Opts {
    ImportOptions common;
    LmEvalOptions lm;
    CsvImportOptions csv;
    std::vector<std::string> maps;
    bool no_n_from_stderr = false;
    std::string out;
};

void common_options(CLI::App *cmd, Opts &o) {
    cmd->add_option("files", o.common.files, "result files (or use --dir)");
    cmd->add_option("--dir", o.common.dir, "folder walked for files matching --pattern");
    cmd->add_option(
           "--pattern", o.common.pattern,
           "path pattern with fields {run} {size} {step} {xc} {tokens} and * ? wildcards, e.g. "
           "'pythia-{run}/{size}_step{step}.json'")
        ->required();
    cmd->add_option(
        "--params", o.common.params,
        "non-embedding parameters: N for every run, or KEY=N per {size} or run (repeatable)");
    cmd->add_option("--params-csv", o.common.params_csv,
                    "CSV with columns run (or size) and params");
    cmd->add_option("--tokens", o.common.tokens,
                    "token budget: D for every run, or KEY=D (repeatable)");
    cmd->add_option("--tokens-per-param", o.common.tokens_per_param,
                    "budget = {xc} x this x params")
        ->capture_default_str();
    cmd->add_option("--tokens-per-step", o.common.tokens_per_step, "tokens_seen = step x this");
    cmd->add_option("--run", o.common.run, "run name when the pattern has no {run}");
    cmd->add_option(
        "--baseline", o.common.baselines,
        "random-guess value: TASK=V or TASK:METRIC=V, TASK a regular expression (repeatable)");
    cmd->add_option("--choices", o.common.choices,
                    "TASK=K: the task is K-way multiple choice (repeatable)");
    cmd->add_option("--baselines-csv", o.common.baselines_csv,
                    "CSV with columns task, metric (* = any), baseline");
    cmd->add_option("--tasks", o.common.task_filter,
                    "regular expression: keep only matching tasks");
    cmd->add_option(
        "--aggregate", o.common.aggregate,
        "NAME=REGEX: add the n-weighted mean of matching tasks as task NAME (repeatable)");
    cmd->add_flag("--drop-aggregated", o.common.drop_aggregated,
                  "keep only the aggregates of matched tasks");
    cmd->add_option("--out", o.out, "points.csv to write")->required();
}

void finish(const Result<ImportResult> &r, const std::string &out) {
    if (!r.is_ok()) throw CommandError(r.status().message());
    for (const auto &w : r->warnings) std::fprintf(stderr, "emergence: warning: %s\n", w.c_str());
    check(points_write(out, r->points));
    std::set<std::string> runs, tasks;
    for (const auto &p : r->points) runs.insert(p.run), tasks.insert(p.task + "/" + p.metric);
    fmt::print("wrote {}: {} points from {} files ({} runs, {} task metrics)\n", out,
               r->points.size(), r->files, runs.size(), tasks.size());
}

void setup(CLI::App &root) {
    auto *imp = root.add_subcommand("import", "Import external results into a points table");
    imp->require_subcommand(1);

    auto lo = std::make_shared<Opts>();
    auto *lm =
        imp->add_subcommand("lm-eval", "lm-evaluation-harness results files, one per checkpoint");
    common_options(lm, *lo);
    lm->add_option(
        "--loss-from", lo->lm.loss_from,
        "TASK:METRIC whose value is the loss (perplexities are logged), e.g. lambada_openai:ppl");
    lm->add_option("--loss-csv", lo->common.loss_csv, "CSV with columns run, step, loss");
    lm->add_flag("--no-n-from-stderr", lo->no_n_from_stderr,
                 "leave n empty instead of deriving it from a 0/1 metric's stderr");
    lm->callback([lo] {
        lo->lm.n_from_stderr = !lo->no_n_from_stderr;
        finish(import_lm_eval(lo->common, lo->lm), lo->out);
    });

    auto co = std::make_shared<Opts>();
    auto *csv = imp->add_subcommand(
        "csv", "Wide CSV logs: one row per checkpoint, one column per task metric");
    common_options(csv, *co);
    csv->add_option("--map", co->maps,
                    "FIELD=COLUMN for loss, step, tokens_seen (and optionally run, params, "
                    "tokens); repeatable")
        ->required();
    csv->add_option(
           "--task-columns", co->csv.task_columns,
           "regular expression over column names: group 1 = task, group 2 (or the rest) = metric")
        ->required();
    csv->callback([co] {
        for (const auto &m : co->maps) {
            size_t eq = m.find('=');
            if (eq == std::string::npos || eq == 0)
                throw CommandError("--map '" + m +
                                   "': expected FIELD=COLUMN, e.g. --map loss=eval/loss");
            co->csv.map[m.substr(0, eq)] = m.substr(eq + 1);
        }
        finish(import_wide_csv(co->common, co->csv), co->out);
    });
}

CommandRegistrar reg("import", setup);

}  // namespace
}  // namespace em::cli
