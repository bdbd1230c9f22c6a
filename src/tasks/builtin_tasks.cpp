// The built-in task suite as a study stage; see builtin_tasks.h.
#include "tasks/builtin_tasks.h"

#include "common/fileio.h"
#include "tasks/suite.h"

namespace em {

bool builtin_tasks_done(const std::string &dir) {
    // suite_build writes manifest.json last (atomically), after every task and skills.jsonl.
    return file_exists(dir + "/manifest.json");
}

Status builtin_tasks_build(const std::string &dir, const BuiltinTasksOptions &opt) {
    SuiteOptions so;
    so.seed = opt.seed;
    if (opt.items > 0) so.items = opt.items;
    if (opt.skills_bytes > 0) so.skills_bytes = opt.skills_bytes;
    return suite_build(dir, so).status();
}

std::string builtin_tasks_skills_path(const std::string &dir) {
    return dir + "/skills.jsonl";
}

}  // namespace em
