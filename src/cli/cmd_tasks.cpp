// `emergence tasks`: `check` validates task files; `build` generates the built-in evaluation
// suite (and the skills documents that teach its synthetic parts) from the installed sources.
#include <chrono>
#include <cstdio>

#include "cli/command.h"
#include "eval/task.h"
#include "tasks/suite.h"

namespace em::cli {
namespace {

void check_main(const std::vector<std::string> &paths) {
    std::vector<Task> tasks = check(tasks_load(paths));
    for (const auto &t : tasks)
        std::printf("%-28s %-22s %7zu documents  %s\n", t.spec.name.c_str(),
                    output_type_name(t.spec.output_type), t.instances.size(),
                    t.spec.spec_path.c_str());
}

struct BuildArgs {
    std::string out;
    uint64_t seed = 1234;
    int64_t items = 1000;
    double skills_mb = 48;
};

void build_main(const BuildArgs &a) {
    auto t0 = std::chrono::steady_clock::now();
    SuiteOptions opt;
    opt.seed = a.seed;
    opt.items = a.items;
    opt.skills_bytes = static_cast<int64_t>(a.skills_mb * 1e6);
    opt.verbose = true;
    nlohmann::json m = check(suite_build(a.out, opt));
    for (const auto &t : m["tasks"])
        std::printf("%-20s %6lld items\n", t["task"].get<std::string>().c_str(),
                    static_cast<long long>(t["items"].get<int64_t>()));
    std::printf("skills.jsonl: %.1f MB (%.0f%% of the training mix with %.1f MB of natural text)\n",
                m["skills"]["bytes"].get<double>() / 1e6, 100 * m["synthetic_share"].get<double>(),
                m["natural_training_bytes"].get<double>() / 1e6);
    std::printf(
        "suite in %s (%.1f s); mix the skills into training with `emergence corpus build "
        "--extra %s/skills.jsonl`\n",
        a.out.c_str(), std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
        a.out.c_str());
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
    auto args = std::make_shared<BuildArgs>();
    auto *build = cmd->add_subcommand("build",
                                      "Generate the built-in suite from the installed "
                                      "sources, with skills.jsonl for training");
    build->add_option("--out", args->out, "output folder")->required();
    build->add_option("--seed", args->seed, "seed of every random choice (default 1234)");
    build->add_option("--items", args->items,
                      "documents per task where the source allows "
                      "(default 1000)");
    build->add_option("--skills-mb", args->skills_mb,
                      "size of skills.jsonl in MB (default 48: ~44% of the default training mix)");
    build->callback([args] { build_main(*args); });
}

CommandRegistrar reg("tasks", setup);

}  // namespace
}  // namespace em::cli
