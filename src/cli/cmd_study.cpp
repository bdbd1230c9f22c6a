// `emergence study`: the whole experiment from one config (default: configs/quick.toml), and its
// `plan`, `status` and `collect` companions.
#include <cstdio>

#include "cli/command.h"
#include "study/config.h"
#include "study/runner.h"

namespace em::cli {
namespace {

struct StudyArgs {
    std::string config = std::string(EM_SOURCE_DIR) + "/configs/quick.toml";
    std::string dir;
    std::string out;
    int threads = 0;
};

StudyConfig load(const StudyArgs &a) {
    StudyConfig c = check(study_config_load(a.config));
    if (a.threads > 0) c.threads = a.threads;
    return c;
}

std::string dir_of(const StudyArgs &a, const StudyConfig &c) {
    return a.dir.empty() ? "studies/" + c.name : a.dir;
}

void setup(CLI::App &root) {
    auto args = std::make_shared<StudyArgs>();
    auto *cmd = root.add_subcommand("study",
                                    "Run a whole study: corpus, tokenizer, every run of the size x "
                                    "budget grid, every checkpoint "
                                    "evaluated, points table, analysis and report. Resumable: "
                                    "rerun the same command to continue.");
    cmd->add_option("config", args->config, "study config (TOML; default: configs/quick.toml)")
        ->check(CLI::ExistingFile);
    cmd->add_option("--dir", args->dir, "study directory (default: studies/<name>)");
    cmd->add_option("--threads", args->threads, "threads (default: the config's, else all CPUs)");
    cmd->fallthrough();

    auto *plan = cmd->add_subcommand(
        "plan",
        "List the runs with their parameters, tokens, FLOPs and the time they will take here");
    plan->callback([args] {
        StudyConfig c = load(*args);
        std::printf("%s", check(study_plan(c, dir_of(*args, c))).c_str());
    });
    auto *status = cmd->add_subcommand("status", "Show what the study's ledger records as done");
    status->callback([args] {
        StudyConfig c = load(*args);
        std::printf("%s", check(study_status(dir_of(*args, c))).c_str());
    });
    auto *collect = cmd->add_subcommand("collect",
                                        "Assemble points.csv from the study's run directories "
                                        "(also ones trained on other machines)");
    collect->add_option("--out", args->out, "points file (default: <dir>/points.csv)");
    collect->callback([args] {
        StudyConfig c = load(*args);
        std::string dir = dir_of(*args, c);
        std::string out = args->out.empty() ? dir + "/points.csv" : args->out;
        check(study_collect(dir, out));
        std::printf("wrote %s\n", out.c_str());
    });
    cmd->callback([cmd, args] {
        if (!cmd->get_subcommands().empty()) return;
        StudyConfig c = load(*args);
        check(study_run(c, dir_of(*args, c)));
    });
}

CommandRegistrar reg("study", setup);

}  // namespace
}  // namespace em::cli
