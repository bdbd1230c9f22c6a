// Running a study on a Slurm cluster: `study submit` writes three job scripts into DIR/slurm/ and
// submits them with dependencies (prepare; an array of the runs not yet done, afterok; finish,
// afterany), and records the job ids there for `study status`. The layout is in docs/cluster.md.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "study/config.h"
#include "study/layout.h"

namespace em {

// Scheduler options; empty or zero: left to the cluster's defaults.
struct SubmitOptions {
    std::string partition, account, time, mem;
    int64_t cpus_per_task = 0;             // also the threads each job runs with
    int64_t max_parallel = 0;              // at most this many array tasks at once (the array's %)
    std::vector<std::string> sbatch_args;  // more #SBATCH lines, e.g. "--qos=long"
    bool dry_run = false;                  // print the scripts, write and submit nothing
    std::string binary;                    // the emergence binary the jobs run (absolute)
    std::string config;                    // the study config (made absolute)
};

// One job script: its file name under DIR/slurm/ and its text.
struct JobScript {
    std::string name, text;
};

// What a submission is made of: the scripts (prepare only when the shared stages are not done;
// the array only when some run is not done; finish always) and the runs of the array, longest
// (study_run_work) first, since Slurm starts array tasks in index order.
struct SubmitPlan {
    std::vector<JobScript> scripts;
    std::vector<std::string> runs;
    bool prepare = false;
};
Result<SubmitPlan> study_submit_plan(const StudyConfig &cfg, const std::string &dir,
                                     const SubmitOptions &o);

// Writes the scripts and submits them with `sbatch --parsable`; returns what it did, as text. With
// o.dry_run, returns the scripts and the sbatch commands instead.
Result<std::string> study_submit(const StudyConfig &cfg, const std::string &dir,
                                 const SubmitOptions &o);

// One submission as DIR/slurm/jobs.json records it: job ids (empty: not submitted) and the runs
// of the array, task i running runs[i].
struct SlurmSubmission {
    std::string submitted, prepare, array, finish;
    std::vector<std::string> runs;
};
Result<std::vector<SlurmSubmission>> slurm_submissions_read(const StudyPaths &p);

// The state Slurm reports for each of `ids` ("123", or "123_4" for an array task): squeue's for
// jobs still queued or running, then sacct's for the rest where accounting is kept. Jobs neither
// knows are left out; so is everything when neither command exists.
std::map<std::string, std::string> slurm_job_states(const std::vector<std::string> &ids);

}  // namespace em
