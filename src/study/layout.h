// Where a study keeps its files (docs/study.md) and the record of which tokenizer each run was
// started with.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace em {

struct StudyPaths {
    std::string dir;
    std::string tasks() const { return dir + "/tasks"; }
    std::string corpus() const { return dir + "/corpus"; }
    std::string tokenizer() const { return dir + "/tokenizer.model"; }
    std::string shards() const { return dir + "/shards"; }
    std::string run(const std::string &run) const { return dir + "/runs/" + run; }
    std::string evals(const std::string &run, int64_t step) const;
    // Which tokenizer a run was started with (its hash), written when the run starts.
    std::string run_tokenizer(const std::string &run) const {
        return dir + "/runs/" + run + "/tokenizer.json";
    }
    std::string points() const { return dir + "/points.csv"; }
    std::string analysis() const { return dir + "/analysis"; }
    std::string report() const { return dir + "/report.html"; }
    std::string ledger() const { return dir + "/ledger.sqlite"; }
};

// Records that `run` starts with the tokenizer whose hash is `hash`.
Status study_run_tokenizer_write(const StudyPaths &p, const std::string &run,
                                 const std::string &hash);

// A run belongs to one tokenizer: the one it was started with, recorded in its directory. A run
// brought in from a machine that built its own tokenizer is refused rather than mixed in (runs
// from before this record have none and are taken as they are).
Status study_run_tokenizer_check(const StudyPaths &p, const std::string &run,
                                 const std::string &hash);

}  // namespace em
