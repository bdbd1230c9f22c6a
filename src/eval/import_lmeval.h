// Importing lm-evaluation-harness results into the points table: one results file per checkpoint
// (v0.3 layout {"results": {task: {"acc": ..}}} and the current "acc,none" layout), read by the
// results reader, with run, size and step from a path pattern such as
// 'pythia-{run}/{size}_step{step}.json'. Usage: docs/points.md.
#pragma once

#include <string>

#include "analysis/import.h"
#include "common/status.h"

namespace em {

struct LmEvalOptions {
    std::string loss_from;      // "TASK:METRIC" whose value (log of perplexities) is the loss
    bool n_from_stderr = true;  // n = p(1-p)/stderr^2 + 1 for 0/1 metrics without a sample count
};

// Every numeric metric of every task in the files `opt` names, at the loss --loss-csv or
// --loss-from gives each checkpoint; the first malformed file or missing value is the error.
Result<ImportResult> import_lm_eval(const ImportOptions &opt, const LmEvalOptions &lm);

}  // namespace em
