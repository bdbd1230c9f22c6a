// A study's state as text, from its files (and Slurm's view of its jobs); see status.h.
#include "study/status.h"

#include <algorithm>
#include <cstdio>

#include "common/fileio.h"
#include "study/eval_marker.h"
#include "study/layout.h"
#include "study/ledger.h"
#include "study/progress.h"
#include "study/record.h"
#include "study/submit.h"
#include "train/checkpoint.h"

namespace em {

std::string study_run_state(bool complete, bool locked, const std::string &record_status,
                            const std::string &slurm_state) {
    if (complete) return "done";
    if (locked || slurm_state == "RUNNING" || slurm_state == "COMPLETING") return "running";
    if (slurm_state == "PENDING" || slurm_state == "CONFIGURING" || slurm_state == "REQUEUED")
        return "pending";
    // A record left mid-run by a process that is gone was stopped (killed, cancelled, out of
    // time): resumable, but not going on by itself.
    if (!record_status.empty()) return "failed";
    return "pending";
}

Result<std::string> study_status(const StudyConfig &cfg, const std::string &dir) {
    StudyPaths p{dir};
    if (!file_exists(dir + "/runs") && !file_exists(dir + "/stages.json"))
        return Status::error(dir +
                             ": no study here (no runs/, no stages.json); start one with "
                             "`emergence study` or `emergence study submit`");
    EM_ASSIGN_OR_RETURN(auto stages, stage_records_read(p));
    EM_ASSIGN_OR_RETURN(auto subs, slurm_submissions_read(p));
    // Each run's latest array task, and what Slurm says of it.
    std::map<std::string, std::string> task_of;
    std::vector<std::string> ids;
    for (const auto &s : subs) {
        for (size_t i = 0; i < s.runs.size(); ++i)  // a task's runs are comma-separated
            for (size_t at = 0; at <= s.runs[i].size();) {
                const size_t comma = std::min(s.runs[i].find(',', at), s.runs[i].size());
                task_of[s.runs[i].substr(at, comma - at)] = s.array + "_" + std::to_string(i);
                at = comma + 1;
            }
        for (const auto *id : {&s.prepare, &s.array, &s.finish})
            if (!id->empty()) ids.push_back(*id);
    }
    const auto slurm = slurm_job_states(ids);

    std::string out = "stages:\n";
    double stage_s = 0, run_s = 0;
    for (const auto &s : stages) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "  %-10s %-8s %s\n", s.name.c_str(), s.status.c_str(),
                      fmt_duration(s.seconds).c_str());
        out += buf;
        stage_s += s.seconds;
    }
    const std::vector<StudyRun> runs = study_plan_runs(cfg, dir, cfg.vocab_size);
    // The name column fits the longest name (replicate seeds and branches lengthen them).
    int name_width = 14;
    for (const auto &r : runs) name_width = std::max(name_width, static_cast<int>(r.name.size()));
    char head[200];
    std::snprintf(head, sizeof head,
                  "runs:\n  %-*s  params      tokens   steps        checkpoints evaluated  "
                  "val loss       time  state     slurm\n",
                  name_width, "run");
    out += head;
    std::map<std::string, int> counts;
    // A study started by an older build has its runs' history in the ledger only.
    const auto old = ledger_runs_before_records(p);
    for (const auto &r : runs) {
        EM_ASSIGN_OR_RETURN(auto rec, run_record_read(p, r.name));
        RunRecord rr;
        int64_t evaluated = 0;
        if (rec) {
            rr = *rec;
            evaluated = static_cast<int64_t>(rr.evaluated.size());
        } else if (auto o = old.find(r.name); o != old.end()) {
            rr.status = o->second.status;
            rr.steps_done = o->second.steps_done;
            rr.seconds = o->second.seconds;
            rr.checkpoints[rr.steps_done] = {0, o->second.val_loss};
            evaluated = o->second.evaluated;
        }
        const bool complete = eval_run_complete(p, r);
        const bool locked = file_lock_held(p.run(r.name) + "/.lock");
        std::string job = "-", job_state;
        if (auto t = task_of.find(r.name); t != task_of.end()) {
            job = t->second;
            if (auto s = slurm.find(job); s != slurm.end()) job_state = s->second;
            job += job_state.empty() ? "" : " " + job_state;
        }
        const std::string state = study_run_state(complete, locked, rr.status, job_state);
        ++counts[state];
        const int64_t ckpts = static_cast<int64_t>(checkpoint_list(p.run(r.name)).size());
        // Rounded as the points table and the README give it (2.86599 reads 2.866, not 2.865).
        char loss_s[32] = "-";
        if (!rr.checkpoints.empty())
            std::snprintf(loss_s, sizeof loss_s, "%.3f", rr.checkpoints.rbegin()->second.val_loss);
        char buf[260];
        std::snprintf(buf, sizeof buf,
                      "  %-*s %9lld %11lld %6lld/%-6lld %11lld %9lld  %8s  %9s  %-8s  %s\n",
                      name_width, r.name.c_str(), static_cast<long long>(r.params),
                      static_cast<long long>(r.train.tokens), static_cast<long long>(rr.steps_done),
                      static_cast<long long>(r.train.total_steps()), static_cast<long long>(ckpts),
                      static_cast<long long>(evaluated), loss_s, fmt_duration(rr.seconds).c_str(),
                      state.c_str(), job.c_str());
        out += buf;
        if (state == "failed" && !rr.error.empty()) out += "    error: " + rr.error + "\n";
        run_s += rr.seconds;
    }
    out += "runs: ";
    for (const char *s : {"done", "running", "pending", "failed"})
        out += std::to_string(counts[s]) + " " + s + (std::string(s) == "failed" ? "\n" : ", ");
    if (!subs.empty()) {
        const SlurmSubmission &s = subs.back();
        auto state = [&](const std::string &id) {
            if (id.empty()) return std::string("-");
            auto it = slurm.find(id);
            return id + (it == slurm.end() ? "" : " " + it->second);
        };
        out += "slurm (submitted " + s.submitted + "): prepare " + state(s.prepare) + ", runs " +
               (s.array.empty() ? "-" : s.array) + ", finish " + state(s.finish) + "\n";
    }
    out += "time: " + fmt_duration(stage_s + run_s) + " (stages " + fmt_duration(stage_s) +
           ", runs " + fmt_duration(run_s) +
           "), wall time of the work kept; work an interruption cut off is not counted\n";
    if (file_exists(p.report())) out += "report: " + p.report() + "\n";
    return out;
}

}  // namespace em
