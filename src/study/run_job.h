// What a study runner holds while it works (Ctx) and one run as it works on it (RunJob), shared by
// the runner (runner.cpp) and the training of a run (run_train.cpp). Internal to study/.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "study/config.h"
#include "study/layout.h"
#include "study/progress.h"
#include "study/record.h"
#include "study/stages.h"

namespace em {

// What a runner holds while it works on a study directory.
struct Ctx {
    const StudyConfig &cfg;
    StudyPaths p;
    Progress progress;
    Budget budget;

    Status stage(const std::string &name, bool done, const std::function<Status()> &work) {
        return study_stage(p, progress, name, done, work);
    }
};

// One run of the selection as this runner works on it.
struct RunJob {
    const StudyRun &r;
    std::string label;          // "[i/n] name"
    double train_s = 0;         // estimated seconds to train it, and
    double eval_s = 0;          // to evaluate one of its checkpoints
    std::vector<int64_t> have;  // checkpoints on disk when the runner came to it
    Stopwatch wall;             // the run's wall time goes to its record in laps
    RunRecord rec;              // runs/<run>/record.json, which only this process writes

    const TrainConfig &t() const { return r.train; }
    double tokens() const { return static_cast<double>(t().total_steps() * t().tokens_per_step()); }
    // Where this run's own training starts (a branch's branch point; 0 otherwise), and the share
    // of its own training done once `step` is reached.
    int64_t first_step() const { return t().total_steps() - t().steps_to_train(); }
    double trained_share(int64_t step) const {
        return static_cast<double>(std::clamp(step, first_step(), t().total_steps()) -
                                   first_step()) /
               static_cast<double>(t().steps_to_train());
    }
    Status record_set(const StudyPaths &p, int64_t steps_done, const std::string &status,
                      double seconds) {
        rec.name = r.name;
        rec.params = r.params;
        rec.tokens = t().tokens;
        rec.steps_done = steps_done;
        rec.steps_total = t().total_steps();
        rec.status = status;
        rec.seconds += seconds;
        rec.host = this_host();
        rec.job = this_slurm_job();
        return run_record_write(p, rec);
    }
};

// Trains the run (in this process, or through the config's [parallel] launcher), resuming from
// its last checkpoint, unless every step is done; each checkpoint goes to the run's record.
Status run_train(Ctx &x, RunJob &job);

}  // namespace em
