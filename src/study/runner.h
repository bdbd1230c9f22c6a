// Running a study: corpus, tokenizer and shards once, then every run (trained, resumable) and
// every checkpoint evaluated, then the points table, the analysis and the report. Each stage
// skips what its files show done, so a rerun after a crash or kill continues where it stopped.
#pragma once

#include <string>

#include "common/status.h"
#include "study/config.h"
#include "study/select.h"

namespace em {

// Runs (or continues) the study in `dir`: every run, or the runs `sel` picks. Holds the
// directory's lock throughout. The points table, analysis and report are written only when every
// run of the grid is trained and evaluated (a selection's runner stops after its own runs).
// `--shard` needs a prepared study, so that every machine uses one tokenizer. With `prepare_only`
// it builds what every run shares (tasks, corpus, tokenizer, shards) and stops: the directory to
// copy to each machine when the grid is split.
Status study_run(const StudyConfig &cfg, const std::string &dir, const StudySelection &sel = {},
                 bool prepare_only = false);
Status study_prepare(const StudyConfig &cfg, const std::string &dir);

}  // namespace em
