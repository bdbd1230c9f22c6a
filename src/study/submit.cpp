// Writing and submitting a study's Slurm jobs, and reading back their ids and states; see
// submit.h.
#include "study/submit.h"

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "common/fileio.h"
#include "study/eval_marker.h"
#include "study/plan.h"
#include "study/select.h"
#include "study/stages.h"

namespace em {
namespace {

// A word for the shell, in single quotes.
std::string sh_quote(const std::string &s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// The top of every script: what it does, how it was made, and the scheduler's options.
std::string script_head(const std::string &what, const std::string &job_name,
                        const std::string &log, const SubmitOptions &o, const std::string &extra) {
    std::string s = "#!/bin/bash\n# " + what +
                    "\n# Written by `emergence study submit`, which submits it with the "
                    "dependencies of\n# docs/cluster.md; adapt it (modules, options) and submit "
                    "it again by hand with sbatch.\n";
    s += "#SBATCH --job-name=" + job_name + "\n";
    s += "#SBATCH --output=" + log + "\n";
    if (!extra.empty()) s += extra;
    if (!o.partition.empty()) s += "#SBATCH --partition=" + o.partition + "\n";
    if (!o.account.empty()) s += "#SBATCH --account=" + o.account + "\n";
    if (!o.time.empty()) s += "#SBATCH --time=" + o.time + "\n";
    if (o.cpus_per_task > 0)
        s += "#SBATCH --cpus-per-task=" + std::to_string(o.cpus_per_task) + "\n";
    if (!o.mem.empty()) s += "#SBATCH --mem=" + o.mem + "\n";
    for (const auto &a : o.sbatch_args) s += "#SBATCH " + a + "\n";
    s += "set -eu\n";
    return s;
}

// The emergence command line a job runs: absolute paths, since the job starts on another node in
// another directory.
std::string command(const SubmitOptions &o, const std::string &dir, const std::string &sub,
                    const std::string &tail) {
    std::string c = "exec " + sh_quote(o.binary) + " study" + (sub.empty() ? "" : " " + sub) + " " +
                    sh_quote(o.config) + " --dir " + sh_quote(dir);
    if (o.cpus_per_task > 0) c += " --threads " + std::to_string(o.cpus_per_task);
    return c + tail + "\n";
}

std::string jobs_path(const StudyPaths &p) {
    return p.dir + "/slurm/jobs.json";
}

// Runs `sbatch --parsable ARGS SCRIPT` and returns the job id it prints.
Result<std::string> sbatch(const std::string &args, const std::string &script) {
    const std::string cmd = "sbatch --parsable " + args + " " + sh_quote(script) + " 2>&1";
    FILE *f = popen(cmd.c_str(), "r");
    if (!f) return Status::error(script + ": cannot run sbatch");
    std::string out;
    std::array<char, 512> buf{};
    while (fgets(buf.data(), static_cast<int>(buf.size()), f)) out += buf.data();
    const int rc = pclose(f);
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    // The id is the last line, before ";cluster" on a federation.
    const std::string last =
        out.substr(out.rfind('\n') == std::string::npos ? 0 : out.rfind('\n') + 1);
    const std::string id = last.substr(0, last.find(';'));
    const bool numeric = !id.empty() && id.find_first_not_of("0123456789") == std::string::npos;
    if (rc != 0 || !numeric)
        return Status::error(script + ": sbatch failed" +
                             (WIFEXITED(rc) && WEXITSTATUS(rc) == 127
                                  ? std::string(": sbatch not found; run this on a Slurm login "
                                                "node, or use --dry-run to see the scripts")
                                  : ": " + out));
    return id;
}

std::string now_utc() {
    std::time_t t = std::time(nullptr);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    return buf;
}

// Records a submission in DIR/slurm/jobs.json (appended to the earlier ones).
Status submission_record(const StudyPaths &p, const SlurmSubmission &s) {
    nlohmann::json all = nlohmann::json::array();
    if (file_exists(jobs_path(p))) {
        EM_ASSIGN_OR_RETURN(std::string text, file_read(jobs_path(p)));
        try {
            all = nlohmann::json::parse(text).at("submissions");
        } catch (const std::exception &) {
            all = nlohmann::json::array();  // a damaged record only loses old job ids
        }
    }
    all.push_back({{"submitted", s.submitted},
                   {"prepare", s.prepare},
                   {"array", s.array},
                   {"finish", s.finish},
                   {"runs", s.runs}});
    return file_write_atomic(jobs_path(p), nlohmann::json{{"submissions", all}}.dump(1) + "\n");
}

}  // namespace

Result<SubmitPlan> study_submit_plan(const StudyConfig &cfg, const std::string &dir,
                                     const SubmitOptions &o) {
    if (o.binary.empty() || o.binary[0] != '/' || o.config.empty() || o.config[0] != '/')
        return Status::error("study submit: the binary and config paths must be absolute");
    const StudyPaths p{dir};
    const std::string logs = dir + "/slurm/logs";
    SubmitPlan plan;
    const std::array<bool, 4> ready = study_stages_done(cfg, p);
    plan.prepare = !(ready[0] && ready[1] && ready[2] && ready[3]);
    // Longest first: Slurm starts array tasks in index order, so the longest runs start first
    // and the short ones fill in around them (the greedy deal that `--shard` uses too).
    std::vector<StudyRun> todo;
    for (const auto &r : study_plan_runs(cfg, dir, cfg.vocab_size))
        if (!eval_run_complete(p, r)) todo.push_back(r);
    const double eval_tokens = static_cast<double>(study_eval_tokens_estimate(cfg, dir));
    // A task's unit: a run, or in a branched study a trunk with its branches (comma-separated; the
    // branches need the trunk's checkpoints, so one task trains them in order).
    std::vector<std::string> units;
    std::map<std::string, std::string> names;
    std::map<std::string, double> work;
    for (const auto &r : todo) {
        const std::string u = r.trunk.empty() ? r.name : r.trunk;
        if (!names.count(u)) units.push_back(u);
        names[u] += (names[u].empty() ? "" : ",") + r.name;
        work[u] += study_run_work(r, eval_tokens);
    }
    std::stable_sort(units.begin(), units.end(),
                     [&](const std::string &a, const std::string &b) { return work[a] > work[b]; });
    for (const auto &u : units) plan.runs.push_back(names[u]);

    if (plan.prepare)
        plan.scripts.push_back(
            {"prepare.sh",
             script_head("Study " + cfg.name +
                             ": build what every run shares (tasks, corpus, tokenizer, shards).",
                         cfg.name + "-prepare", logs + "/prepare-%j.out", o, "") +
                 command(o, dir, "prepare", "")});
    if (!plan.runs.empty()) {
        std::string array = "#SBATCH --array=0-" + std::to_string(plan.runs.size() - 1);
        if (o.max_parallel > 0) array += "%" + std::to_string(o.max_parallel);
        std::string body =
            "# One array task per run not done when this was written, longest first; task i runs\n"
            "# runs[i].\n"
            "runs=(\n";
        for (const auto &r : plan.runs) body += "  " + r + "\n";
        body +=
            ")\nrun=${runs[$SLURM_ARRAY_TASK_ID]}\n"
            "# Trains the run, resuming from its last checkpoint, then evaluates every "
            "checkpoint.\n"
            "# It writes only runs/$run/; the points table is the finish job's.\n";
        plan.scripts.push_back(
            {"runs.sh",
             script_head("Study " + cfg.name + ": train and evaluate one run per array task.",
                         cfg.name + "-runs", logs + "/run-%A_%a.out", o, array + "\n") +
                 body + command(o, dir, "", " --runs \"$run\" --no-outputs")});
    }
    plan.scripts.push_back(
        {"finish.sh",
         script_head("Study " + cfg.name +
                         ": once the runs have ended, the points table, analysis and report.\n"
                         "# Fails, naming them, when some runs did not finish.",
                     cfg.name + "-finish", logs + "/finish-%j.out", o, "") +
             command(o, dir, "finish", "")});
    return plan;
}

Result<std::string> study_submit(const StudyConfig &cfg, const std::string &dir,
                                 const SubmitOptions &o) {
    EM_ASSIGN_OR_RETURN(SubmitPlan plan, study_submit_plan(cfg, dir, o));
    const std::string sdir = dir + "/slurm";
    auto script = [&](const std::string &name) { return sdir + "/" + name; };
    // A failed prepare job cancels what depends on it rather than leaving it pending forever.
    const std::string after_prepare = "--kill-on-invalid-dep=yes --dependency=afterok:";
    if (o.dry_run) {
        std::string out;
        for (const auto &s : plan.scripts) out += "# ---- " + script(s.name) + "\n" + s.text;
        out += "# ---- would submit:\n";
        const std::string p_id = plan.prepare ? "$PREPARE" : "";
        if (plan.prepare) out += "PREPARE=$(sbatch --parsable " + script("prepare.sh") + ")\n";
        if (!plan.runs.empty())
            out += "RUNS=$(sbatch --parsable " +
                   (plan.prepare ? after_prepare + "$PREPARE " : std::string()) +
                   script("runs.sh") + ")\n";
        out += "sbatch --parsable " +
               (!plan.runs.empty() ? "--dependency=afterany:$RUNS "
                : plan.prepare     ? after_prepare + "$PREPARE "
                                   : std::string()) +
               script("finish.sh") + "\n";
        return out;
    }
    EM_TRY(dir_create(sdir + "/logs"));
    for (const auto &s : plan.scripts) EM_TRY(file_write_atomic(script(s.name), s.text));
    SlurmSubmission sub;
    sub.submitted = now_utc();
    sub.runs = plan.runs;
    const StudyPaths p{dir};
    Status st = [&]() -> Status {
        if (plan.prepare) {
            EM_ASSIGN_OR_RETURN(sub.prepare, sbatch("", script("prepare.sh")));
        }
        if (!plan.runs.empty()) {
            EM_ASSIGN_OR_RETURN(
                sub.array,
                sbatch(sub.prepare.empty() ? "" : after_prepare + sub.prepare, script("runs.sh")));
        }
        const std::string dep = !sub.array.empty()     ? "--dependency=afterany:" + sub.array
                                : !sub.prepare.empty() ? after_prepare + sub.prepare
                                                       : "";
        EM_ASSIGN_OR_RETURN(sub.finish, sbatch(dep, script("finish.sh")));
        return Status::ok();
    }();
    // What was submitted is recorded even when a later sbatch failed, so it can be found and
    // cancelled.
    EM_TRY(submission_record(p, sub));
    if (!st.is_ok()) {
        std::string done = sub.prepare.empty() ? "" : " prepare " + sub.prepare;
        if (!sub.array.empty()) done += " runs " + sub.array;
        return st.with_context(done.empty() ? ""
                                            : "submitted before it failed:" + done +
                                                  " (scancel them, or let them run)");
    }
    std::string out = "study submit: ";
    if (plan.prepare) out += "prepare job " + sub.prepare + ", ";
    if (!plan.runs.empty())
        out += "array job " + sub.array + " (" + std::to_string(plan.runs.size()) + " runs), ";
    else
        out += "every run is done, ";
    out += "finish job " + sub.finish + "\n  scripts in " + sdir + "/, logs in " + sdir +
           "/logs/; `emergence study status` shows each run\n";
    return out;
}

Result<std::vector<SlurmSubmission>> slurm_submissions_read(const StudyPaths &p) {
    std::vector<SlurmSubmission> out;
    const std::string path = jobs_path(p);
    if (!file_exists(path)) return out;
    EM_ASSIGN_OR_RETURN(std::string text, file_read(path));
    try {
        const nlohmann::json all = nlohmann::json::parse(text);  // outlives the loop below
        for (const auto &j : all.at("submissions"))
            out.push_back({j.at("submitted").get<std::string>(), j.at("prepare").get<std::string>(),
                           j.at("array").get<std::string>(), j.at("finish").get<std::string>(),
                           j.at("runs").get<std::vector<std::string>>()});
    } catch (const std::exception &e) {
        return Status::error(path + ": not a record of submitted jobs (" + e.what() +
                             "); delete it (it only lists job ids for `study status`)");
    }
    return out;
}

namespace {

// Lines "ID STATE" a command prints (stderr dropped; nothing when it is missing or fails).
void read_states(const std::string &cmd, std::map<std::string, std::string> &states) {
    FILE *f = popen((cmd + " 2>/dev/null").c_str(), "r");
    if (!f) return;
    std::array<char, 512> buf{};
    while (fgets(buf.data(), static_cast<int>(buf.size()), f)) {
        std::string line = buf.data();
        const size_t sep = line.find_first_of(" |");
        if (sep == std::string::npos) continue;
        std::string id = line.substr(0, sep), state = line.substr(sep + 1);
        while (!state.empty() &&
               (state.back() == '\n' || state.back() == ' ' || state.back() == '|'))
            state.pop_back();
        state = state.substr(0, state.find(' '));  // "CANCELLED by 0" -> "CANCELLED"
        if (!id.empty() && !state.empty() && !states.count(id)) states[id] = state;
    }
    pclose(f);
}

}  // namespace

std::map<std::string, std::string> slurm_job_states(const std::vector<std::string> &ids) {
    std::map<std::string, std::string> states;
    std::string list;
    for (const auto &id : ids)
        if (!id.empty()) list += (list.empty() ? "" : ",") + id;
    if (list.empty()) return states;
    // squeue first: it knows the jobs still queued or running (-r: one line per array task).
    read_states("squeue -h -r -o '%i %T' -j " + list, states);
    read_states("sacct -n -P -X -o JobID,State -j " + list, states);
    return states;
}

}  // namespace em
