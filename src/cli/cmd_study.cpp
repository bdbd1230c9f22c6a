// `emergence study`: the whole experiment from one config (default: configs/quick.toml), or a
// selection of its runs (--runs, --shard), and its `plan`, `prepare`, `status`, `collect`,
// `submit` (Slurm) and `finish` companions.
#include <cstdio>
#include <filesystem>

#include "cli/command.h"
#include "study/collect.h"
#include "study/config.h"
#include "study/plan.h"
#include "study/runner.h"
#include "study/select.h"
#include "study/status.h"
#include "study/submit.h"

namespace em::cli {
namespace {

struct StudyArgs {
    std::string config = std::string(EM_SOURCE_DIR) + "/configs/quick.toml";
    std::string dir;
    std::string out;
    std::string runs, shard;
    int threads = 0;
    bool no_outputs = false;
    SubmitOptions submit;
};

StudyConfig load(const StudyArgs &a) {
    StudyConfig c = check(study_config_load(a.config));
    if (a.threads > 0) c.threads = a.threads;
    return c;
}

StudySelection selection(const StudyArgs &a) {
    return check(study_selection_parse(a.runs, a.shard));
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
    cmd->add_option("--runs", args->runs,
                    "only these runs: comma-separated names or globs, e.g. 'n50k-*,n100k-2M'");
    cmd->add_option("--shard", args->shard,
                    "K/N: the K-th of N machines' share of the runs, dealt so that each machine's "
                    "planned work is about equal (needs `study prepare` first)");
    cmd->add_flag("--no-outputs", args->no_outputs,
                  "with --runs or --shard: train and evaluate only; leave the points table, "
                  "analysis and report to `study finish` (what Slurm's array tasks run)");
    cmd->fallthrough();

    auto *plan = cmd->add_subcommand(
        "plan",
        "List the runs with their parameters, tokens, FLOPs and the time they will take here");
    plan->callback([args] {
        StudyConfig c = load(*args);
        std::printf("%s", check(study_plan(c, dir_of(*args, c), selection(*args))).c_str());
    });
    auto *prepare = cmd->add_subcommand(
        "prepare",
        "Build what every run shares (tasks, corpus, tokenizer, shards) and stop: the directory "
        "to copy to each machine before running the study there with --shard");
    prepare->callback([args] {
        StudyConfig c = load(*args);
        check(study_prepare(c, dir_of(*args, c)));
    });
    auto *status = cmd->add_subcommand(
        "status",
        "Show each run's state (pending, running, done, failed) from the study's files, "
        "with its Slurm job where squeue or sacct exist");
    status->callback([args] {
        StudyConfig c = load(*args);
        std::printf("%s", check(study_status(c, dir_of(*args, c))).c_str());
    });
    auto *finish = cmd->add_subcommand(
        "finish",
        "Points table, analysis and report of a study whose runs ran elsewhere (the "
        "last Slurm job); fails naming the runs that did not finish");
    finish->callback([args] {
        StudyConfig c = load(*args);
        check(study_finish(c, dir_of(*args, c)));
    });
    auto *submit = cmd->add_subcommand(
        "submit",
        "Run the study on a Slurm cluster: write job scripts into <dir>/slurm/ and submit them "
        "(prepare; one array task per run not done, afterok; finish, afterany). Submitting "
        "again resubmits only what is unfinished");
    SubmitOptions &so = args->submit;
    submit->add_option("--partition", so.partition, "Slurm partition");
    submit->add_option("--account", so.account, "Slurm account");
    submit->add_option("--time", so.time,
                       "time limit per job (Slurm's format, e.g. 4:00:00); a run cut off by it "
                       "resumes from its last checkpoint when submitted again");
    submit
        ->add_option("--cpus-per-task", so.cpus_per_task,
                     "CPUs per job, also the threads each job trains with")
        ->check(CLI::PositiveNumber);
    submit->add_option("--mem", so.mem, "memory per job (Slurm's format, e.g. 8G)");
    submit
        ->add_option("--max-parallel", so.max_parallel,
                     "at most this many runs at once (the array's % throttle)")
        ->check(CLI::PositiveNumber);
    submit->add_option("--sbatch-arg", so.sbatch_args,
                       "one more #SBATCH option for every job, e.g. --sbatch-arg=--qos=long "
                       "(repeatable)");
    submit->add_flag("--dry-run", so.dry_run, "print the job scripts; write and submit nothing");
    submit->callback([args] {
        StudyConfig c = load(*args);
        SubmitOptions o = args->submit;
        std::error_code ec;
        o.binary = std::filesystem::read_symlink("/proc/self/exe", ec).string();
        o.config = std::filesystem::absolute(args->config).lexically_normal().string();
        if (args->threads > 0 && o.cpus_per_task == 0) o.cpus_per_task = args->threads;
        const std::string dir =
            std::filesystem::absolute(dir_of(*args, c)).lexically_normal().string();
        std::printf("%s", check(study_submit(c, dir, o)).c_str());
    });
    auto *collect = cmd->add_subcommand("collect",
                                        "Assemble points.csv from the study's run directories "
                                        "(also ones trained on other machines)");
    collect->add_option("--out", args->out, "points file (default: <dir>/points.csv)");
    collect->callback([args] {
        StudyConfig c = load(*args);
        std::string dir = dir_of(*args, c);
        std::string out = args->out.empty() ? dir + "/points.csv" : args->out;
        check(study_collect(c, dir, out));
        std::printf("wrote %s\n", out.c_str());
    });
    cmd->callback([cmd, args] {
        if (!cmd->get_subcommands().empty()) return;
        StudyConfig c = load(*args);
        check(study_run(c, dir_of(*args, c), selection(*args), false, !args->no_outputs));
    });
}

CommandRegistrar reg("study", setup);

}  // namespace
}  // namespace em::cli
