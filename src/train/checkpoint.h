// Checkpoints: ckpt/step_XXXXXXXX.safetensors holds the weights (Hugging Face LLaMA names, the
// model config and step in the metadata) so PyTorch tools can read them;
// ckpt/state_XXXXXXXX.safetensors holds what resuming needs (AdamW moments, update count, data
// cursor, tokens seen). The state is written first and the weights last, each atomically, so a step
// counts as checkpointed only when its weights file exists.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/model.h"
#include "optim/adamw.h"

namespace em {

struct TrainState {
    int64_t step = 0;  // updates done
    int64_t tokens_seen = 0;
    uint64_t cursor = 0;  // windows drawn by the loader
    AdamWState adam;
};

std::string checkpoint_weights_path(const std::string &run_dir, int64_t step);
std::string checkpoint_state_path(const std::string &run_dir, int64_t step);

// Saves both files. `config_json` is the resolved run config, stored in the weights' metadata.
Status checkpoint_save(const std::string &run_dir, const Model &model, const TrainState &state,
                       const std::string &config_json, double val_loss);

// Steps that have a weights file, ascending.
std::vector<int64_t> checkpoint_list(const std::string &run_dir);

// Deletes the optimizer-state files of all but the `keep` latest checkpoints (0: keeps all). Only
// a state file with a complete weights file of a later step is ever removed, and never one of
// keep_steps (where branches start).
Status checkpoint_prune_state(const std::string &run_dir, int64_t keep,
                              const std::vector<int64_t> &keep_steps = {});

// Restores weights and state of `step`; the file's model config must equal the model's.
Status checkpoint_load(const std::string &run_dir, int64_t step, Model &model, TrainState &state);

// Loads a weights file on its own (for evaluation): the model is built from its metadata.
Result<std::unique_ptr<Model>> model_load(const std::string &weights_path);

// Writes the model's weights as safetensors (used by checkpoint_save and by tests).
Status model_save(const std::string &path, const Model &model,
                  const std::map<std::string, std::string> &extra_metadata);

}  // namespace em
