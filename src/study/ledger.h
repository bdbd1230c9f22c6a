// The study ledger: one SQLite database per study (DIR/ledger.sqlite) indexing stages, runs,
// checkpoints and evaluations with their status and timings, for queries by hand. It is an index
// rebuilt from the study's records (study/record.h) by the one process that holds the study-wide
// lock (`emergence study`, `study finish`), never written by the runners of single runs: many
// hosts sharing a study over a network filesystem cannot rely on SQLite's locking. Deleting it
// loses nothing. Not thread-safe; one per process.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "study/layout.h"

struct sqlite3;

namespace em {

class Ledger {
  public:
    Ledger() = default;
    ~Ledger();
    Ledger(const Ledger &) = delete;
    Ledger &operator=(const Ledger &) = delete;

    Status open(const std::string &path);
    // Empties every table (before a rebuild).
    Status clear();

    // Set a stage's or run's status and add `seconds` (the wall time this process spent on it) to
    // its total.
    Status stage_set(const std::string &stage, const std::string &status, double seconds);
    Status run_set(const std::string &run, int64_t params, int64_t tokens, int64_t steps_done,
                   int64_t steps_total, const std::string &status, double seconds);
    Status checkpoint_set(const std::string &run, int64_t step, int64_t tokens_seen,
                          double val_loss);
    Status eval_set(const std::string &run, int64_t step, const std::string &status,
                    double seconds);

    struct RunRow {
        std::string name, status;
        int64_t params = 0, tokens = 0, steps_done = 0, steps_total = 0;
        double seconds = 0;
        int64_t checkpoints = 0, evaluated = 0;
        double val_loss = -1;  // at the latest checkpoint recorded; -1: none yet
    };
    struct StageRow {
        std::string name, status;
        double seconds = 0;
    };
    Result<std::vector<StageRow>> stages();
    Result<std::vector<RunRow>> runs();

    // Runs SQL statements (no results); an error names the ledger.
    Status exec(const std::string &sql);

  private:
    sqlite3 *db_ = nullptr;
    std::string path_;
};

// The runs a ledger from before the per-run records holds, by name; empty when there is no ledger
// or it cannot be read. A study started by an older build keeps its recorded time this way.
std::map<std::string, Ledger::RunRow> ledger_runs_before_records(const StudyPaths &p);

// Rebuilds DIR/ledger.sqlite from the stage records and the records of `runs` (those without a
// record are left out), written to a temporary file and renamed over the old one.
Status ledger_rebuild(const StudyPaths &p, const std::vector<std::string> &runs);

}  // namespace em
