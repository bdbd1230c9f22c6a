// The tasks a study evaluates; see tasks.h.
#include "study/tasks.h"

#include <algorithm>
#include <string>

namespace em {
namespace {

std::vector<std::string> task_sources(const StudyConfig &c, const StudyPaths &p) {
    if (study_uses_builtin_tasks(c)) return {p.tasks()};
    return c.tasks;
}

}  // namespace

bool study_uses_builtin_tasks(const StudyConfig &c) {
    return c.tasks.size() == 1 && c.tasks[0] == "builtin";
}

Result<std::vector<Task>> study_tasks_load(const StudyConfig &c, const StudyPaths &p) {
    EM_ASSIGN_OR_RETURN(std::vector<Task> all, tasks_load(task_sources(c, p)));
    for (const auto &t : all)
        if (t.spec.name == "done")
            return Status::error(t.spec.spec_path +
                                 ": a task named 'done' would overwrite the mark of a complete "
                                 "evaluation (done.json); give the task another name");
    if (c.task_names.empty()) return all;
    std::vector<Task> out;
    for (const auto &name : c.task_names) {
        auto it = std::find_if(all.begin(), all.end(),
                               [&](const Task &t) { return t.spec.name == name; });
        if (it == all.end())
            return Status::error(c.path + " [tasks]: names lists '" + name +
                                 "', which is not in the suite");
        out.push_back(*it);
    }
    return out;
}

int64_t study_tasks_eval_tokens(const std::vector<Task> &tasks, int64_t limit) {
    // Four bytes per token is the default corpus's rate; good enough for an ETA.
    int64_t bytes = 0;
    for (const auto &t : tasks) {
        int64_t n = limit > 0 ? std::min<int64_t>(limit, static_cast<int64_t>(t.docs.size()))
                              : static_cast<int64_t>(t.docs.size());
        int64_t per_doc = 0;
        for (const auto &inst : t.instances) {
            per_doc += static_cast<int64_t>(inst.context.size() + inst.target.size());
            for (const auto &ch : inst.choices) per_doc += static_cast<int64_t>(ch.size());
        }
        if (!t.instances.empty()) bytes += n * per_doc / static_cast<int64_t>(t.instances.size());
    }
    return bytes / 4;
}

}  // namespace em
