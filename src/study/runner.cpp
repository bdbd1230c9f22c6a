// The study runner: the shared stages, then each run trained and its checkpoints evaluated, then
// the points table, analysis and report; see runner.h.
#include "study/runner.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "analysis/analysis.h"
#include "common/csv.h"
#include "common/fileio.h"
#include "common/parallel.h"
#include "data/tokenizer.h"
#include "eval/eval.h"
#include "eval/task.h"
#include "model/safetensors.h"
#include "report/report.h"
#include "study/collect.h"
#include "study/eval_marker.h"
#include "study/layout.h"
#include "study/ledger.h"
#include "study/plan.h"
#include "study/progress.h"
#include "study/record.h"
#include "study/run_job.h"
#include "study/stages.h"
#include "study/tasks.h"
#include "train/checkpoint.h"
#include "train/trainer.h"

namespace em {
namespace {

// The budget: every run's training and evaluations priced; done, what the files already hold.
// This runner adds only the work it does, so the ETA's rate counts no work found done.
void budget_count(Ctx &x, const std::vector<RunJob> &jobs, const std::vector<Task> &tasks) {
    for (const RunJob &j : jobs) {
        const std::vector<int64_t> plan = j.t().checkpoint_plan();
        x.budget.total += j.train_s + static_cast<double>(plan.size()) * j.eval_s;
        if (!j.have.empty()) x.budget.done += j.train_s * j.trained_share(j.have.back());
        for (int64_t step : plan)
            if (eval_done(x.p, x.cfg, j.r, step, tasks)) x.budget.done += j.eval_s;
    }
}

// Evaluates one checkpoint unless a current evaluation is on disk (one for other tasks, another
// limit or other scoring rules is removed and done again), then marks it complete.
Status evaluate_checkpoint(Ctx &x, RunJob &job, int64_t step, const Tokenizer &tok,
                           const std::vector<Task> &tasks) {
    const StudyRun &run = job.r;
    const std::string out = x.p.evals(run.name, step);
    if (auto done = eval_marker(study_eval_done_marker(out))) {
        // The record learns of a current evaluation either way.
        if (eval_current(*done, x.cfg, tasks)) {
            job.rec.evaluated[step] = done->is_object() ? done->value("seconds", 0.0) : 0.0;
            return Status::ok();
        }
        EM_TRY(eval_unmark(out));
    }
    auto t0 = StudyClock::now();
    const std::string weights = checkpoint_weights_path(run.train.out_dir, step);
    EM_ASSIGN_OR_RETURN(auto model, model_load(weights));
    EvalOptions eo;
    eo.limit = x.cfg.eval_limit;
    EM_ASSIGN_OR_RETURN(auto results, eval_checkpoint(*model, tok, tasks, eo));
    nlohmann::json config = {
        {"model", run.name}, {"step", step}, {"checkpoint", weights}, {"limit", x.cfg.eval_limit}};
    EM_TRY(dir_create(out));
    EM_TRY(eval_write(out, results, config));
    EM_TRY(eval_mark(out, run.name, step, seconds_since(t0), tasks, x.cfg.eval_limit));
    job.rec.evaluated[step] = seconds_since(t0);
    return Status::ok();
}

// Records the run's checkpoints, then evaluates every planned one.
Status run_evaluate(Ctx &x, RunJob &job, const Tokenizer &tok, const std::vector<Task> &tasks) {
    const StudyRun &r = job.r;
    const TrainConfig &t = job.t();
    for (int64_t step : checkpoint_list(t.out_dir)) {
        const std::string weights = checkpoint_weights_path(t.out_dir, step);
        auto meta = safetensors_read_metadata(weights);
        if (!meta.is_ok()) continue;  // evaluating it reports what is wrong with it
        auto seen = meta->find("emergence.tokens_seen"), loss = meta->find("emergence.val_loss");
        auto seen_v = seen == meta->end() ? std::nullopt : integer_parse(seen->second);
        auto loss_v = loss == meta->end() ? std::nullopt : number_parse(loss->second);
        if (!seen_v || !loss_v)
            return Status::error(weights +
                                 ": lacks a numeric emergence.tokens_seen or emergence.val_loss; "
                                 "delete it to train that checkpoint again");
        job.rec.checkpoints[step] = {*seen_v, *loss_v};
    }
    EM_TRY(job.record_set(x.p, t.total_steps(), "evaluating", job.wall.lap()));
    for (int64_t step : t.checkpoint_plan()) {
        const bool fresh = !eval_done(x.p, x.cfg, r, step, tasks);
        if (fresh) {
            x.budget.mark_start();  // the clock starts with the first work it does
            x.progress.line("study " + std::to_string(x.budget.percent()) + "% ETA " +
                            x.budget.eta() + " | evaluating " + r.name + " step " +
                            std::to_string(step));
        }
        EM_TRY(evaluate_checkpoint(x, job, step, tok, tasks)
                   .with_context("evaluating " + r.name + " step " + std::to_string(step)));
        if (fresh) x.budget.done += job.eval_s;
        if (fresh) EM_TRY(job.record_set(x.p, t.total_steps(), "evaluating", job.wall.lap()));
    }
    return job.record_set(x.p, t.total_steps(), "done", job.wall.lap());
}

// One run, under its own lock (runners of other runs, on this host or others, never wait on it):
// the tokenizer it starts with recorded (or, resumed, checked), trained, evaluated. A failure is
// recorded in the run's record before it is returned.
Status run_one(Ctx &x, RunJob &job, const Tokenizer &tok, const std::vector<Task> &tasks) {
    EM_TRY(dir_create(job.t().out_dir));
    FileLock lock;
    EM_TRY(lock.acquire(
        job.t().out_dir + "/.lock",
        job.t().out_dir + ": another emergence process is training or evaluating this run"));
    job.have = checkpoint_list(job.t().out_dir);
    EM_ASSIGN_OR_RETURN(auto rec, run_record_read(x.p, job.r.name));
    if (rec) {
        job.rec = *rec;
    } else if (!job.have.empty()) {
        // Started by a build that kept its time in the ledger only: carry that time over.
        auto old = ledger_runs_before_records(x.p);
        if (auto it = old.find(job.r.name); it != old.end()) job.rec.seconds = it->second.seconds;
    }
    job.rec.error.clear();
    Status s = [&]() -> Status {
        if (job.have.empty()) EM_TRY(study_run_tokenizer_write(x.p, job.r.name, tok.fnv1a64()));
        EM_TRY(study_run_tokenizer_check(x.p, job.r.name, tok.fnv1a64()));
        EM_TRY(run_train(x, job));
        return run_evaluate(x, job, tok, tasks);
    }();
    if (!s.is_ok()) {
        job.rec.error = s.message();
        (void)job.record_set(x.p, job.rec.steps_done, "failed", job.wall.lap());
    }
    return s;
}

// The selected runs, each priced from the throughput measured for its size.
std::vector<RunJob> run_jobs(const std::vector<StudyRun> &runs, double eval_tokens) {
    std::map<std::string, Throughput> measured;
    for (const auto &r : runs)
        if (!measured.count(r.size)) measured[r.size] = plan_measure_throughput(r.train);
    std::vector<RunJob> jobs;
    for (size_t i = 0; i < runs.size(); ++i) {
        const StudyRun &r = runs[i];
        jobs.push_back(
            {r,
             "[" + std::to_string(i + 1) + "/" + std::to_string(runs.size()) + "] " + r.name,
             plan_train_seconds(r, measured[r.size]),
             plan_eval_seconds(eval_tokens, measured[r.size]),
             {},
             {},
             {}});
    }
    return jobs;
}

// After a selection's runs: whether every run of the grid is complete here, so that the points,
// analysis and report can be made; when not, says how to bring the runs together.
bool selection_done(Ctx &x, const std::vector<StudyRun> &grid, size_t selected) {
    size_t complete = 0;
    for (const auto &r : grid) complete += eval_run_complete(x.p, r);
    x.progress.done("study: " + std::to_string(selected) + " selected runs trained and " +
                    "evaluated; " + std::to_string(complete) + " of " +
                    std::to_string(grid.size()) + " runs of the grid complete here");
    if (complete == grid.size()) return true;
    std::fprintf(stderr,
                 "study: bring every machine's runs/ together in one study directory and run "
                 "`emergence study` there for the points table, analysis and report\n");
    return false;
}

}  // namespace

// Points, analysis, report; then the ledger rebuilt from the records.
Status study_outputs_write(const StudyConfig &cfg, const std::string &dir) {
    Ctx x{cfg, StudyPaths{dir}, {}, {}};
    const StudyPaths &p = x.p;
    EM_TRY(x.stage("collect", false, [&] { return study_collect(x.cfg, p.dir, p.points()); }));
    EM_TRY(x.stage("analyze", false,
                   [&] { return analysis_write(p.points(), p.analysis(), x.cfg.analysis); }));
    EM_TRY(x.stage("report", false, [&] {
        ReportOptions ro;
        ro.title = "Emergent abilities from the loss perspective: study " + x.cfg.name;
        return report_write_files(p.report(), p.analysis() + "/analysis.json", p.points(), ro);
    }));
    std::vector<std::string> names;
    for (const auto &r : study_plan_runs(cfg, dir, cfg.vocab_size)) names.push_back(r.name);
    EM_TRY(ledger_rebuild(p, names));
    std::fprintf(stderr, "study: done. points: %s  analysis: %s/analysis.json  report: %s\n",
                 p.points().c_str(), p.analysis().c_str(), p.report().c_str());
    return Status::ok();
}

Status study_prepare(const StudyConfig &cfg, const std::string &dir) {
    return study_run(cfg, dir, {}, true);
}

Status study_run(const StudyConfig &cfg, const std::string &dir, const StudySelection &sel,
                 bool prepare_only, bool outputs) {
    EM_TRY(dir_create(dir));
    Ctx x{cfg, StudyPaths{dir}, {}, {}};
    parallel_set_threads(cfg.threads > 0 ? static_cast<int>(cfg.threads)
                                         : parallel_default_threads());
    // User task files exist already: a mistake in them (or in [tasks] names) fails before the
    // corpus and tokenizer are built, not after.
    if (!study_uses_builtin_tasks(cfg)) EM_TRY(study_tasks_load(cfg, x.p).status());
    const std::array<bool, 4> ready = study_stages_done(cfg, x.p);
    const bool prepared = std::count(ready.begin(), ready.end(), true) == 4;
    if (sel.count > 1 && !prepared && !prepare_only)
        return Status::error(
            dir +
            ": --shard needs a prepared study: run `emergence study prepare` once, copy the "
            "directory to every machine, then run each shard there (so that every shard "
            "trains on one corpus with one tokenizer)");
    // The whole grid's runner holds the study-wide lock throughout. A selection's runner (one of
    // many array tasks sharing the directory) takes it only to build missing shared stages or to
    // write the outputs; otherwise it holds only the locks of its own runs.
    const bool whole = sel.all() || prepare_only;
    const std::string busy = dir + ": another emergence study is running on this directory";
    auto study_lock = std::make_unique<FileLock>();
    if (whole || !prepared) {
        EM_TRY(study_lock->acquire(dir + "/.lock", busy));
        EM_TRY(study_stages_prepare(cfg, x.p, x.progress));
    }
    if (prepare_only) {
        std::fprintf(stderr, "study: prepared %s (tasks, corpus, tokenizer, shards)\n",
                     dir.c_str());
        return Status::ok();
    }
    if (!whole) study_lock.reset();
    EM_ASSIGN_OR_RETURN(std::vector<Task> tasks, study_tasks_load(cfg, x.p));
    EM_ASSIGN_OR_RETURN(Tokenizer tok, Tokenizer::load(x.p.tokenizer()));

    // Runs, each evaluated at every checkpoint as soon as it is trained.
    const std::vector<StudyRun> grid = study_plan_runs(cfg, dir, tok.vocab_size());
    const double eval_tokens = static_cast<double>(study_tasks_eval_tokens(tasks, cfg.eval_limit));
    EM_ASSIGN_OR_RETURN(std::vector<StudyRun> runs, study_select(grid, sel, eval_tokens));
    std::vector<RunJob> jobs = run_jobs(runs, eval_tokens);
    for (RunJob &j : jobs) j.have = checkpoint_list(j.t().out_dir);
    budget_count(x, jobs, tasks);
    for (RunJob &j : jobs) {
        j.wall = Stopwatch();
        EM_TRY(run_one(x, j, tok, tasks));
    }
    if (whole) {
        x.progress.done("study: all runs trained and evaluated");
        return study_outputs_write(cfg, dir);  // still under the study-wide lock
    }
    if (!outputs) {
        x.progress.done("study: " + std::to_string(runs.size()) +
                        " selected runs trained and evaluated");
        return Status::ok();
    }
    if (!selection_done(x, grid, runs.size())) return Status::ok();
    FileLock out_lock;
    EM_TRY(out_lock.acquire(dir + "/.lock", busy));
    return study_outputs_write(cfg, dir);
}

Status study_finish(const StudyConfig &cfg, const std::string &dir) {
    const StudyPaths p{dir};
    FileLock lock;
    EM_TRY(lock.acquire(dir + "/.lock",
                        dir + ": another emergence study is running on this directory"));
    std::vector<std::string> names, unfinished;
    for (const auto &r : study_plan_runs(cfg, dir, cfg.vocab_size)) {
        names.push_back(r.name);
        if (eval_run_complete(p, r)) continue;
        std::string why = "not started";
        auto rec = run_record_read(p, r.name);
        if (!rec.is_ok()) {
            why = rec.status().message();
        } else if (*rec) {
            const RunRecord &rr = **rec;
            why = rr.status + " at step " + std::to_string(rr.steps_done) + "/" +
                  std::to_string(rr.steps_total);
            if (!rr.error.empty()) why += ": " + rr.error;
        }
        unfinished.push_back(r.name + " (" + why + ")");
    }
    if (!unfinished.empty()) {
        EM_TRY(ledger_rebuild(p, names));
        std::string list;
        for (const auto &u : unfinished) list += (list.empty() ? "" : "; ") + u;
        return Status::error(dir + ": " + std::to_string(unfinished.size()) + " of " +
                             std::to_string(names.size()) + " runs did not finish: " + list +
                             ". Submit again (`emergence study submit`): they resume from their "
                             "last checkpoints; no points table was written");
    }
    return study_outputs_write(cfg, dir);
}

}  // namespace em
