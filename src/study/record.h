// The records a study keeps of its work, in files that only one process writes: each run's
// `runs/<run>/record.json` (written by the process training and evaluating that run, under the
// run's own lock) and the study's `stages.json` (written under the study-wide lock). Array tasks
// on many hosts share a study directory on a network filesystem, so nothing here is written by two
// hosts at once and nothing depends on locking across hosts; `ledger.sqlite` is rebuilt from
// these files by the process that collects the study.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "study/layout.h"

namespace em {

// What a run's own process records of it. Seconds add up over every process that worked on it.
struct RunRecord {
    std::string name;
    std::string status;  // "training", "evaluating", "done" or "failed"
    int64_t params = 0, tokens = 0, steps_done = 0, steps_total = 0;
    double seconds = 0;
    struct Checkpoint {
        int64_t tokens_seen = 0;
        double val_loss = -1;
    };
    std::map<int64_t, Checkpoint> checkpoints;  // by step
    std::map<int64_t, double> evaluated;        // step -> seconds its evaluation took
    std::string host, job;                      // who wrote it last (job: Slurm's, else empty)
    std::string error;                          // with "failed": the error it stopped with
};

std::string run_record_path(const StudyPaths &p, const std::string &run);

// The run's record; none when the run was never started. A record that cannot be parsed is an
// error naming the file and the fix (delete it: it is rebuilt as the run continues).
Result<std::optional<RunRecord>> run_record_read(const StudyPaths &p, const std::string &run);
// Writes the record atomically (a reader sees the old or the new one, never a mix).
Status run_record_write(const StudyPaths &p, const RunRecord &r);

// The shared stages (tasks, corpus, tokenizer, tokenize, collect, analyze, report), in the order
// they first ran.
struct StageRecord {
    std::string name, status;
    double seconds = 0;
};
Result<std::vector<StageRecord>> stage_records_read(const StudyPaths &p);
// Sets a stage's status and adds `seconds` to its total; rewrites stages.json atomically.
Status stage_record_set(const StudyPaths &p, const std::string &name, const std::string &status,
                        double seconds);

// An exclusive lock held through a file (flock on `path`, released when the process ends, even by
// SIGKILL). A second holder gets `what` ("DIR: another emergence study is running on this
// directory") with the holder's pid. The study-wide lock
// is DIR/.lock; a run's is runs/<run>/.lock, so runners of different runs never wait on each other.
class FileLock {
  public:
    FileLock() = default;
    ~FileLock();
    FileLock(const FileLock &) = delete;
    FileLock &operator=(const FileLock &) = delete;
    Status acquire(const std::string &path, const std::string &what);

  private:
    int fd_ = -1;
};

// Whether some process holds the lock at `path` now (false when there is no such file). Only
// meaningful on the host that holds it or on a filesystem whose locks span hosts.
bool file_lock_held(const std::string &path);

// This host's name and the Slurm job this process runs in ("1234_5" for an array task; empty
// outside Slurm).
std::string this_host();
std::string this_slurm_job();

}  // namespace em
