// `study status`: a study's state read from its files (stages.json, each run's record,
// checkpoints and evaluation markers) and, where squeue or sacct exist, Slurm's state of the jobs
// `study submit` recorded.
#pragma once

#include <string>

#include "common/status.h"
#include "study/config.h"

namespace em {

// One run's state: "done" (every planned checkpoint evaluated), "running" (its lock held here, or
// its Slurm task running), "pending" (not started, or its task queued), "failed" (started, then
// stopped: killed, cancelled, out of time or an error; it resumes when run again).
std::string study_run_state(bool complete, bool locked, const std::string &record_status,
                            const std::string &slurm_state);

// Stages, then per run: steps, checkpoints, evaluations, validation loss, time, state and Slurm
// job. Returns text.
Result<std::string> study_status(const StudyConfig &cfg, const std::string &dir);

}  // namespace em
