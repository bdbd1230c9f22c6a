// Running a study: corpus, tokenizer and shards once, then every run (trained, resumable) and
// every checkpoint evaluated, then the points table, the analysis and the report. Each stage
// skips what its files show done, so a rerun after a crash or kill continues where it stopped.
#pragma once

#include <string>

#include "common/status.h"
#include "study/config.h"
#include "study/select.h"

namespace em {

// Runs (or continues) the study in `dir`: every run, or the runs `sel` picks. The whole grid's
// runner holds the study-wide lock (DIR/.lock) throughout; a selection's runner takes it only to
// build missing shared stages and to write the outputs, and otherwise holds only the locks of its
// own runs (runs/<run>/.lock), so runners of different runs share the directory. The points
// table, analysis and report are written only when every run of the grid is trained and
// evaluated, and by a selection's runner only with `outputs` (an array task leaves them to the
// job that runs `study finish`). `--shard` needs a prepared study, so that every machine uses one
// tokenizer. With `prepare_only` it builds what every run shares (tasks, corpus, tokenizer,
// shards) and stops: the directory to copy to each machine when the grid is split.
Status study_run(const StudyConfig &cfg, const std::string &dir, const StudySelection &sel = {},
                 bool prepare_only = false, bool outputs = true);
Status study_prepare(const StudyConfig &cfg, const std::string &dir);

// The end of a study whose runs ran elsewhere (Slurm's array): under the study-wide lock, the
// points table, analysis and report when every run of the grid is complete, and the ledger
// rebuilt. A run not complete is an error naming each such run, its state and the fix; then no
// points table is written.
Status study_finish(const StudyConfig &cfg, const std::string &dir);

// The points table, the analysis and the report of a complete study, and the ledger rebuilt from
// the records. The caller holds the study-wide lock.
Status study_outputs_write(const StudyConfig &cfg, const std::string &dir);

}  // namespace em
