// `emergence analyze`: points.csv -> DIR/analysis.json (thresholds, collapse, scaling law).
#include <fmt/format.h>

#include <memory>

#include "analysis/analysis.h"
#include "cli/command.h"
#include "common/parallel.h"

namespace em::cli {
namespace {

struct Opts {
    std::string points, out;
    AnalysisOptions a;
    int threads = 0;
};

void setup(CLI::App &root) {
    auto *cmd =
        root.add_subcommand("analyze", "Analyse a points table: thresholds, collapse, scaling law");
    auto o = std::make_shared<Opts>();
    cmd->add_option("--points", o->points, "points.csv (from a study or `emergence import`)")
        ->required();
    cmd->add_option("--out", o->out, "directory for analysis.json")->required();
    cmd->add_option("--window-frac", o->a.window_frac,
                    "keep checkpoints with tokens_seen >= this share of their run's tokens")
        ->capture_default_str();
    cmd->add_option("--loss-min", o->a.loss_min, "keep checkpoints with loss >= this");
    cmd->add_option("--loss-max", o->a.loss_max, "keep checkpoints with loss <= this");
    cmd->add_option("--tasks", o->a.task_filter, "regular expression: analyse only matching tasks");
    cmd->add_option("--bootstrap", o->a.threshold.bootstrap, "resamples for eta's interval")
        ->capture_default_str();
    cmd->add_option_function<std::string>(
           "--bootstrap-unit",
           [o](const std::string &u) { o->a.threshold.bootstrap_runs = u == "run"; },
           "what eta's bootstrap resamples: checkpoint (default) or run (whole runs: wider, "
           "honest intervals when checkpoints of a run are correlated)")
        ->check(CLI::IsMember({"checkpoint", "run"}));
    cmd->add_option("--alpha", o->a.threshold.alpha,
                    "significance level of the tests behind a verdict")
        ->capture_default_str();
    cmd->add_option("--min-span-frac", o->a.threshold.min_span_frac,
                    "emergent: share of the loss span that must lie above eta")
        ->capture_default_str();
    cmd->add_option("--min-points-frac", o->a.threshold.min_points_frac,
                    "emergent: share of the points that must lie above eta")
        ->capture_default_str();
    cmd->add_option("--min-gain", o->a.threshold.min_gain,
                    "practical minimum: a rise whose fitted gain at the lowest loss is below "
                    "this (in the metric's units) is marginal")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    cmd->add_flag("!--no-stability", o->a.threshold.stability,
                  "skip the leave-one-run-out refits (faster; no fragility marks)");
    cmd->add_option("--permutations", o->a.collapse.permutations,
                    "permutations of the size-effect test")
        ->capture_default_str();
    cmd->add_option("--extrapolation-frac", o->a.extrapolation.fit_frac,
                    "fit the extrapolation on this upper share of the loss range")
        ->capture_default_str();
    cmd->add_flag("--law-all-points", o->a.law_all_points,
                  "fit the scaling law on every window checkpoint instead of final losses");
    cmd->add_option(
        "--target-tokens", o->a.target_tokens,
        "token budget D at which eta is turned into a model size (default: largest budget)");
    cmd->add_option("--tokens-per-param", o->a.tokens_per_param,
                    "also give the size that reaches eta with D = this x N tokens")
        ->capture_default_str();
    cmd->add_option("--seed", o->a.seed, "seed of the bootstrap and permutations")
        ->capture_default_str();
    cmd->add_option("--threads", o->threads, "threads (default: EMERGENCE_THREADS or all cores)");
    cmd->callback([o] {
        parallel_set_threads(o->threads > 0 ? o->threads : parallel_default_threads());
        check(analysis_write(o->points, o->out, o->a));
        auto a = check(analysis_read(o->out + "/analysis.json"));
        fmt::print("{}wrote {}/analysis.json\n", analysis_summary_format(a), o->out);
    });
}

CommandRegistrar reg("analyze", setup);

}  // namespace
}  // namespace em::cli
