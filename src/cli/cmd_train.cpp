// `emergence train`: one training run from a TOML config, in one process or, started by mpirun or
// srun, on several (docs/parallel.md).
#include <cstdio>
#include <cstdlib>

#include "cli/command.h"
#include "common/parallel.h"
#include "model/config.h"
#include "train/config.h"
#include "train/dist.h"
#include "train/trainer.h"

namespace em::cli {
namespace {

struct TrainArgs {
    std::string config;
    bool resume = false;
    bool blocking_reduce = false;
    int threads = 0;
};

// Ends MPI on every path out of the command.
struct DistScope {
    ~DistScope() { dist_finalize(); }
};

Status train_main_status(const TrainArgs &a) {
    Result<TrainConfig> loaded = train_config_load(a.config);
    EM_TRY(dist_agree(loaded.status()));
    TrainConfig cfg = std::move(loaded).value();
    if (a.threads > 0) cfg.threads = a.threads;
    if (dist_rank() == 0) {
        ParamCounts pc = model_param_counts(cfg.model);
        std::printf("run %s: %lld non-embedding parameters (%lld total), %lld steps of %lld tokens",
                    cfg.out_dir.c_str(), static_cast<long long>(pc.non_embedding),
                    static_cast<long long>(pc.total), static_cast<long long>(cfg.total_steps()),
                    static_cast<long long>(cfg.tokens_per_step()));
        if (dist_size() > 1 && cfg.grad_accum % dist_size() == 0)
            std::printf(", %d processes x %lld micro-batches%s", dist_size(),
                        static_cast<long long>(cfg.grad_accum / dist_size()),
                        a.blocking_reduce ? ", blocking gradient exchange" : "");
        std::printf("\n");
        std::fflush(stdout);
    }
    TrainOptions opts;
    opts.resume = a.resume;
    opts.overlap = !a.blocking_reduce;
    return train_run(cfg, opts);
}

void train_main(const TrainArgs &a) {
    // Only rank 0 speaks for the job; the other ranks end quietly with the same exit code.
    const bool quiet = dist_launcher_rank() != 0;
    Status s = dist_init(nullptr, nullptr);
    if (s.is_ok()) {
        DistScope scope;
        s = train_main_status(a);
    } else {
        dist_finalize();
    }
    if (s.is_ok()) return;
    if (quiet) {
        std::fflush(stdout);
        std::exit(1);
    }
    throw CommandError(s.message());
}

void setup(CLI::App &root) {
    auto *cmd = root.add_subcommand("train",
                                    "Train one model from a run config (TOML); see docs/config.md");
    auto args = std::make_shared<TrainArgs>();
    cmd->add_option("--config,-c", args->config, "run config (TOML)")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_flag("--resume", args->resume, "continue from the run's latest checkpoint");
    cmd->add_option("--threads", args->threads,
                    "threads per process (default: the config's, else the CPUs shared by the "
                    "processes on this machine)");
    cmd->add_flag("--blocking-reduce", args->blocking_reduce,
                  "with several processes, exchange gradients after the backward pass instead "
                  "of overlapping it (same results; for measuring)");
    cmd->callback([args] { train_main(*args); });
}

CommandRegistrar reg("train", setup);

}  // namespace
}  // namespace em::cli
