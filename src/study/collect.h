// The points table of a study, assembled from its run directories.
#pragma once

#include <string>

#include "common/status.h"
#include "study/config.h"

namespace em {

// Assembles the points table from the run directories of the config's grid (`dir/runs/<run>/`,
// each with its config, checkpoints and evals/), including runs trained on other machines, and
// writes it to `out`. Every evaluated checkpoint counts, so a study still running gives a partial
// table; directories of runs the config does not plan are named on stderr and left out.
Status study_collect(const StudyConfig &cfg, const std::string &dir, const std::string &out);

}  // namespace em
