// `emergence tasks`: `check` validates task files; `build` generates the built-in evaluation
// suite (and the skills documents that teach its synthetic parts) from the installed sources.
#include <cstdio>

#include "cli/command.h"
#include "eval/task.h"

namespace em::cli {
namespace {

void check_main(const std::vector<std::string> &paths) {
    std::vector<Task> tasks = check(tasks_load(paths));
    for (const auto &t : tasks)
        std::printf("%-28s %-22s %7zu documents  %s\n", t.spec.name.c_str(),
                    output_type_name(t.spec.output_type), t.instances.size(),
                    t.spec.spec_path.c_str());
}

void setup(CLI::App &root) {
    auto *cmd = root.add_subcommand("tasks",
                                    "Evaluation tasks: check task files, build the "
                                    "built-in suite (docs/tasks.md)");
    cmd->require_subcommand(1);
    auto paths = std::make_shared<std::vector<std::string>>();
    auto *chk = cmd->add_subcommand("check",
                                    "Load task specs or suite folders and report every "
                                    "problem with its file and line");
    chk->add_option("paths", *paths, "task spec files (*.toml) or folders")->required();
    chk->callback([paths] { check_main(*paths); });
}

CommandRegistrar reg("tasks", setup);

}  // namespace
}  // namespace em::cli
