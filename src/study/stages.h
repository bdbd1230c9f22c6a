// A study's stages: each named, recorded in stages.json with its status and wall time, and skipped
// when its files show it complete. Run only under the study-wide lock. The shared ones (tasks,
// corpus, tokenizer, shards) are what every run uses, built once.
#pragma once

#include <array>
#include <functional>
#include <string>

#include "common/status.h"
#include "study/config.h"
#include "study/layout.h"
#include "study/progress.h"

namespace em {

// Which of the shared stages (tasks, corpus, tokenizer, shards) are complete.
std::array<bool, 4> study_stages_done(const StudyConfig &c, const StudyPaths &p);

// Runs `work` as stage `name`, unless `done`: stages.json records it running, then done or
// failed; progress shows its start and its duration. A failure names the stage.
Status study_stage(const StudyPaths &p, Progress &progress, const std::string &name, bool done,
                   const std::function<Status()> &work);

// Tasks, corpus, tokenizer and shards, each built unless complete.
Status study_stages_prepare(const StudyConfig &cfg, const StudyPaths &p, Progress &progress);

}  // namespace em
