// The tasks a study evaluates: the built-in suite, built into its tasks/ directory, or the
// config's task files; narrowed to the config's [tasks] names.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "eval/task.h"
#include "study/config.h"
#include "study/layout.h"

namespace em {

// The study evaluates the built-in suite (built into its tasks/ directory), not user task files.
bool study_uses_builtin_tasks(const StudyConfig &c);

// The tasks, in the order [tasks] names them (else the suite's). A name not in the suite, or a
// task named "done" (the name of an evaluation's completion marker), is an error.
Result<std::vector<Task>> study_tasks_load(const StudyConfig &c, const StudyPaths &p);

// Tokens read to evaluate one checkpoint on `tasks` with at most `limit` documents each (0: all),
// at the default corpus's four bytes per token.
int64_t study_tasks_eval_tokens(const std::vector<Task> &tasks, int64_t limit);

}  // namespace em
