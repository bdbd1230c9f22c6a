// The mark of a complete evaluation: `done.json` in a checkpoint's evaluation directory, written
// after every results file, naming the tasks, the document limit and the scoring rules it was
// scored under. No marker: the directory may be partial and is evaluated again.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "eval/task.h"
#include "study/config.h"
#include "study/layout.h"

namespace em {

// The file that marks an evaluation directory complete.
std::string study_eval_done_marker(const std::string &eval_dir);

// A checkpoint's evaluation marker (done.json), null when there is none; one that cannot be read
// or parsed is a JSON null (and so current, as below).
std::optional<nlohmann::json> eval_marker(const std::string &marker);

// Whether a marker is current: unless the config now asks for other tasks or another limit, or
// the checkpoint was scored under other scoring rules (a marker from before these were recorded
// counts as current).
bool eval_current(const nlohmann::json &done, const StudyConfig &cfg,
                  const std::vector<Task> &tasks);

// Whether checkpoint `step` of `run` has a current evaluation.
bool eval_done(const StudyPaths &p, const StudyConfig &cfg, const StudyRun &run, int64_t step,
               const std::vector<Task> &tasks);

// Whether every planned checkpoint of `r` has a marker (current or not).
bool eval_run_complete(const StudyPaths &p, const StudyRun &r);

// Marks `eval_dir` complete: the run, step, seconds taken, tasks, limit and scoring rules.
Status eval_mark(const std::string &eval_dir, const std::string &run, int64_t step, double seconds,
                 const std::vector<Task> &tasks, int64_t limit);

// Removes an evaluation: the marker first, so a process killed meanwhile never leaves the
// directory looking complete.
Status eval_unmark(const std::string &eval_dir);

// The results files a marked evaluation holds: each task its marker lists (every results file of
// the directory when it predates that record), sorted. A marker that is not JSON, or that records
// other scoring rules than this build's, is an error naming it and the fix.
Result<std::vector<std::string>> eval_results_files(const std::string &eval_dir);

}  // namespace em
