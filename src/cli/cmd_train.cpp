// `emergence train`: one training run from a TOML config.
#include <cstdio>

#include "cli/command.h"
#include "model/config.h"
#include "train/config.h"
#include "train/trainer.h"

namespace em::cli {
namespace {

struct TrainArgs {
    std::string config;
    bool resume = false;
    int threads = 0;
};

void train_main(const TrainArgs &a) {
    TrainConfig cfg = check(train_config_load(a.config));
    if (a.threads > 0) cfg.threads = a.threads;
    ParamCounts pc = model_param_counts(cfg.model);
    std::printf("run %s: %lld non-embedding parameters (%lld total), %lld steps of %lld tokens\n",
                cfg.out_dir.c_str(), static_cast<long long>(pc.non_embedding),
                static_cast<long long>(pc.total), static_cast<long long>(cfg.total_steps()),
                static_cast<long long>(cfg.tokens_per_step()));
    TrainOptions opts;
    opts.resume = a.resume;
    check(train_run(cfg, opts));
}

void setup(CLI::App &root) {
    auto *cmd = root.add_subcommand("train",
                                    "Train one model from a run config (TOML); see docs/config.md");
    auto args = std::make_shared<TrainArgs>();
    cmd->add_option("--config,-c", args->config, "run config (TOML)")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_flag("--resume", args->resume, "continue from the run's latest checkpoint");
    cmd->add_option("--threads", args->threads, "threads (default: the config's, else all CPUs)");
    cmd->callback([args] { train_main(*args); });
}

CommandRegistrar reg("train", setup);

}  // namespace
}  // namespace em::cli
