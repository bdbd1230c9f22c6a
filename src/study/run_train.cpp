// Training one run of a study: in this process with progress and the study's ETA, or through
// the configured launcher (several processes, docs/parallel.md); see run_job.h.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "common/fileio.h"
#include "study/run_job.h"
#include "train/checkpoint.h"
#include "train/config.h"
#include "train/trainer.h"

namespace em {
namespace {

// Training progress of one run: moves the budget, shows the study's ETA and the run's own (its
// tokens left at the rate this runner has trained it), and records each checkpoint in the run's
// record so that `study status` shows the step reached.
class TrainReporter {
  public:
    TrainReporter(Ctx &x, RunJob &job)
        : x_(x),
          job_(job),
          resumed_tokens_(static_cast<double>(
              std::max(job.have.empty() ? 0 : job.have.back(), job.first_step()) *
              job.t().tokens_per_step())),
          credited_tokens_(resumed_tokens_) {}

    void operator()(const TrainProgress &pr) {
        const double seen = static_cast<double>(pr.tokens_seen), run_tokens = job_.tokens();
        const double own_tokens =
            static_cast<double>(job_.t().steps_to_train() * job_.t().tokens_per_step());
        x_.budget.mark_start();
        x_.budget.done += job_.train_s * (seen - credited_tokens_) / own_tokens;
        credited_tokens_ = seen;
        const double rate = pr.elapsed_s > 0 ? (seen - resumed_tokens_) / pr.elapsed_s : 0;
        const std::string run_left = rate > 0 ? fmt_duration((run_tokens - seen) / rate) : "?";
        char buf[320];
        std::snprintf(
            buf, sizeof buf,
            "study %3d%% ETA %s | %s step %lld/%lld (run %s left) loss %.3f%s %.0f tok/s",
            x_.budget.percent(), x_.budget.eta().c_str(), job_.label.c_str(),
            static_cast<long long>(pr.step), static_cast<long long>(pr.total_steps),
            run_left.c_str(), pr.train_loss,
            pr.val_loss >= 0 ? (" val " + std::to_string(pr.val_loss).substr(0, 5)).c_str() : "",
            pr.tokens_per_s);
        x_.progress.line(buf, pr.checkpoint || pr.step == pr.total_steps);
        if (pr.checkpoint) {
            job_.rec.checkpoints[pr.step] = {pr.tokens_seen, pr.val_loss};
            // A callback cannot return: the first record error is kept for run_train.
            Status s = job_.record_set(x_.p, pr.step, "training", job_.wall.lap());
            if (record_status_.is_ok()) record_status_ = s;
        }
    }
    const Status &record_status() const { return record_status_; }

  private:
    Ctx &x_;
    RunJob &job_;
    const double resumed_tokens_;  // trained before this runner came to the run
    double credited_tokens_;       // what the budget counts of the run
    Status record_status_;
};

// Trains the run as `<launcher> emergence train --config <run>/run.toml --resume` (several
// processes, docs/parallel.md), then records its checkpoints in the run's record as the
// in-process path does step by step.
Status run_train_launched(Ctx &x, RunJob &job) {
    const TrainConfig &t = job.t();
    EM_TRY(dir_create(t.out_dir));
    const std::string config = t.out_dir + "/run.toml";
    EM_TRY(file_write_atomic(config, train_config_to_toml(t)));
    std::error_code ec;
    const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    if (ec) return Status::error("/proc/self/exe: cannot find this program to launch it");
    const std::string cmd =
        x.cfg.launcher + " '" + self + "' train --config '" + config + "' --resume";
    std::fflush(nullptr);
    const int rc = std::system(cmd.c_str());
    if (rc != 0)
        return Status::error("`" + cmd + "` failed (status " + std::to_string(rc) +
                             "; its output above says why); fix it and rerun the study, which "
                             "resumes the run, or change [parallel] launcher in " +
                             x.cfg.path);
    std::map<int64_t, double> val;
    if (file_exists(t.out_dir + "/metrics.jsonl")) {
        EM_ASSIGN_OR_RETURN(std::string text, file_read(t.out_dir + "/metrics.jsonl"));
        for (size_t pos = 0; pos < text.size();) {
            size_t end = text.find('\n', pos);
            if (end == std::string::npos) end = text.size();
            auto j = nlohmann::json::parse(text.substr(pos, end - pos), nullptr, false);
            if (j.is_object() && j.contains("val_loss") && j["val_loss"].is_number() &&
                j.contains("step") && j["step"].is_number_integer())
                val[j["step"].get<int64_t>()] = j["val_loss"].get<double>();
            pos = end + 1;
        }
    }
    for (int64_t step : checkpoint_list(t.out_dir))
        job.rec.checkpoints[step] = {step * t.tokens_per_step(), val.count(step) ? val[step] : -1};
    x.budget.mark_start();
    x.budget.done += job.train_s * (1 - job.trained_share(job.have.empty() ? 0 : job.have.back()));
    return job.record_set(x.p, t.total_steps(), "training", job.wall.lap());
}

}  // namespace

Status run_train(Ctx &x, RunJob &job) {
    const TrainConfig &t = job.t();
    if (!job.have.empty() && job.have.back() >= t.total_steps()) return Status::ok();
    EM_TRY(job.record_set(x.p, job.have.empty() ? 0 : job.have.back(), "training", 0));
    if (!x.cfg.launcher.empty())
        return run_train_launched(x, job).with_context("run " + job.r.name);
    TrainOptions o;
    o.resume = true;
    TrainReporter report(x, job);
    o.on_step = [&report](const TrainProgress &pr) { report(pr); };
    EM_TRY(train_run(t, o).with_context("run " + job.r.name));
    return report.record_status();
}

}  // namespace em
