// A training run's configuration: one struct of defaults, overridden by the keys of a TOML file
// ([data], [model], [train], [checkpoint] tables). An unknown key or a wrong type is an error
// naming the file, line and key. docs/config.md lists every key.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "model/config.h"
#include "optim/adamw.h"
#include "optim/schedule.h"

namespace em {

struct TrainConfig {
    std::string out_dir = "runs/run";
    uint64_t seed = 1;       // initialization; the data order uses data_seed
    uint64_t data_seed = 1;  // window order, shared by every run of a study
    int64_t threads = 0;     // 0: all online CPUs (or EMERGENCE_THREADS)

    std::vector<std::string> train_shards;  // files, or directories holding train_*.bin
    std::vector<std::string> val_shards;    // files, or directories holding val_*.bin

    ModelConfig model;

    int64_t batch_size = 16;
    int64_t seq_len = 256;
    int64_t grad_accum = 1;
    int64_t tokens = 0;  // token budget; steps = ceil(tokens / tokens_per_step)
    double lr = 3e-3;
    double min_lr_ratio = 0.1;
    double warmup_fraction = 0.02;  // of the run's steps
    std::string schedule = "cosine";
    double decay_fraction = 0.2;
    std::string decay_shape = "linear";  // wsd: linear | sqrt
    // A branch: a fresh run starts from another run's checkpoint (its weights, optimizer state,
    // step and data position) at branch_step instead of from initialization, and trains on to
    // its own budget with its own schedule (for a cool-down branched off a warmup-stable trunk).
    std::string branch_from;  // the other run's directory; empty: not a branch
    int64_t branch_step = 0;
    AdamWConfig adamw;
    double grad_clip = 1.0;  // 0 disables clipping

    int64_t log_every = 10;    // steps between progress lines
    int64_t val_every = 0;     // steps between validation losses (0: only at checkpoints)
    int64_t val_windows = 32;  // fixed held-out windows (each seq_len tokens)

    std::vector<int64_t> checkpoint_steps;  // explicit steps
    int64_t checkpoint_log =
        0;  // log-spaced early steps: this many between step 1 and checkpoint_every (or the end)
    int64_t checkpoint_every = 0;  // a regular interval (0: none)
    // Optimizer-state files kept: the latest this many (0: all). Weights are always kept.
    int64_t checkpoint_keep_state = 2;
    // Steps whose optimizer state is kept whatever keep_state says (where branches start).
    std::vector<int64_t> checkpoint_keep_state_steps;
    // The last step is always checkpointed.

    int64_t tokens_per_step() const { return batch_size * seq_len * grad_accum; }
    int64_t total_steps() const {
        int64_t tps = tokens_per_step();
        return tps > 0 ? (tokens + tps - 1) / tps : 0;
    }
    // The steps this run trains itself: all, or for a branch those after its branch point.
    int64_t steps_to_train() const {
        return total_steps() - (branch_from.empty() ? 0 : branch_step);
    }
    Schedule lr_schedule() const;
    // The checkpoints this run writes: sorted step numbers (1-based: after step k updates); for a
    // branch only those after its branch point.
    std::vector<int64_t> checkpoint_plan() const;
};

Result<TrainConfig> train_config_load(const std::string &path);

class TomlReader;
// Reads the keys of a [train] table (batch_size, seq_len, lr, schedule, AdamW, validation, ...)
// into c; shared by run configs and study configs.
void train_keys_read(TomlReader &r, TrainConfig &c);
Status train_config_validate(const TrainConfig &c);
nlohmann::json train_config_to_json(const TrainConfig &c);
// The config as a run config file that train_config_load reads back to the same values (so a run
// planned in memory can be started as `emergence train --config`, e.g. under mpirun).
std::string train_config_to_toml(const TrainConfig &c);

// Expands files and directories into the sorted list of shard files with the given prefix.
Result<std::vector<std::string>> shard_paths_expand(const std::vector<std::string> &entries,
                                                    const std::string &prefix);

}  // namespace em
