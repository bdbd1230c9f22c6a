// The study ledger: one SQLite database per study (DIR/ledger.sqlite) indexing stages, runs,
// checkpoints and evaluations with their status and timings. Files on disk are the truth: the
// runner records an item only after its files are complete, and rebuilds entries from the files
// when they disagree, so deleting the ledger loses nothing. Not thread-safe; one per process.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

struct sqlite3;

namespace em {

class Ledger {
  public:
    Ledger() = default;
    ~Ledger();
    Ledger(const Ledger &) = delete;
    Ledger &operator=(const Ledger &) = delete;

    Status open(const std::string &path);

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

  private:
    Status exec(const std::string &sql);
    sqlite3 *db_ = nullptr;
    std::string path_;
};

// An exclusive lock on a study directory (flock on DIR/.lock, released when the process ends,
// even by SIGKILL). A second runner gets an error naming the holder's pid.
class StudyLock {
  public:
    StudyLock() = default;
    ~StudyLock();
    StudyLock(const StudyLock &) = delete;
    StudyLock &operator=(const StudyLock &) = delete;
    Status acquire(const std::string &dir);

  private:
    int fd_ = -1;
};

}  // namespace em
