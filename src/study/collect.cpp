// Collecting a study's points from its run directories; see collect.h.
#include "study/collect.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "analysis/points.h"
#include "common/fileio.h"
#include "data/tokenizer.h"
#include "eval/results.h"
#include "model/safetensors.h"
#include "study/eval_marker.h"
#include "study/layout.h"
#include "train/checkpoint.h"

namespace em {
namespace {

// What every point of one checkpoint shares.
struct CheckpointPoint {
    double params = 0, budget = 0;  // of the run
    double loss = 0, seen = 0;      // of the checkpoint
};

// A run's non-embedding parameters and token budget, from its config.json.
Status run_config_read(const std::string &rd, CheckpointPoint &c) {
    EM_ASSIGN_OR_RETURN(std::string cfg_text, file_read(rd + "/config.json"));
    try {
        const nlohmann::json cfg = nlohmann::json::parse(cfg_text);
        EM_ASSIGN_OR_RETURN(ModelConfig mc, model_config_from_json(cfg.at("model")));
        c.params = static_cast<double>(model_param_counts(mc).non_embedding);
        c.budget = cfg.at("train").at("tokens").get<double>();
    } catch (const std::exception &e) {
        return Status::error(rd + "/config.json: not a run config (" + e.what() +
                             "); restore it from the machine that trained the run");
    }
    return Status::ok();
}

// A checkpoint's validation loss and tokens seen, from its weights' metadata.
Status checkpoint_read(const std::string &rd, int64_t step, CheckpointPoint &c) {
    const std::string weights = checkpoint_weights_path(rd, step);
    EM_ASSIGN_OR_RETURN(auto meta, safetensors_read_metadata(weights));
    try {
        c.loss = std::stod(meta.at("emergence.val_loss"));
        c.seen = std::stod(meta.at("emergence.tokens_seen"));
    } catch (const std::exception &) {
        return Status::error(weights +
                             ": lacks emergence.val_loss or emergence.tokens_seen; not a "
                             "checkpoint written by `emergence train`");
    }
    return Status::ok();
}

// The points of one results file that `emergence eval` wrote: every numeric metric of every task,
// with the sample count and baselines the file records.
Status results_points(const std::string &path, const std::string &run, int64_t step,
                      const CheckpointPoint &c, std::vector<Point> &points) {
    const std::string fix =
        "delete its evaluation directory and rerun `emergence study` to evaluate the checkpoint "
        "again";
    EM_ASSIGN_OR_RETURN(ResultsFile f, results_read(path, fix));
    for (const ResultsTask &t : f.tasks) {
        if (!t.baselines)
            return Status::error(t.where + ": no baselines entry for task '" + t.task +
                                 "', so not written by `emergence eval`; " + fix);
        if (!t.n)
            return Status::error(t.where + ": no n-samples effective count for task '" + t.task +
                                 "', so not written by `emergence eval`; " + fix);
        for (const ResultsMetric &m : t.metrics) {
            Point p;
            p.run = run;
            p.params = c.params;
            p.tokens = c.budget;
            p.step = step;
            p.tokens_seen = c.seen;
            p.loss = c.loss;
            p.task = t.task;
            p.metric = m.metric;  // `emergence eval` writes every metric under the filter "none"
            p.value = m.value;
            p.n = *t.n;
            if (auto b = t.baselines->find(m.metric); b != t.baselines->end())
                p.baseline = b->second;
            points.push_back(p);
        }
    }
    return Status::ok();
}

// One run directory's points: every evaluated checkpoint, each task its done.json lists (all
// results files when it predates that record).
Status collect_run(const StudyPaths &p, const std::string &run, std::vector<Point> &points) {
    const std::string rd = p.run(run);
    CheckpointPoint c;
    EM_TRY(run_config_read(rd, c));
    for (int64_t step : checkpoint_list(rd)) {
        const std::string eval_dir = p.evals(run, step);
        if (!file_exists(study_eval_done_marker(eval_dir))) continue;  // not evaluated (yet)
        EM_TRY(checkpoint_read(rd, step, c));
        EM_ASSIGN_OR_RETURN(std::vector<std::string> files, eval_results_files(eval_dir));
        for (const auto &f : files) EM_TRY(results_points(f, run, step, c, points));
    }
    return Status::ok();
}

}  // namespace

Status study_collect(const StudyConfig &cfg, const std::string &dir, const std::string &out) {
    std::vector<std::string> planned;
    for (const auto &r : study_plan_runs(cfg, dir, cfg.vocab_size)) planned.push_back(r.name);
    std::vector<std::string> names, others;
    std::error_code ec;
    for (const auto &d : std::filesystem::directory_iterator(dir + "/runs", ec)) {
        if (!d.is_directory()) continue;
        const std::string name = d.path().filename().string();
        (std::find(planned.begin(), planned.end(), name) != planned.end() ? names : others)
            .push_back(name);
    }
    if (ec) return Status::error(dir + "/runs: cannot list run directories: " + ec.message());
    std::sort(names.begin(), names.end());
    std::sort(others.begin(), others.end());
    if (!others.empty()) {
        std::string list;
        for (const auto &o : others) list += (list.empty() ? "" : ", ") + o;
        std::fprintf(stderr,
                     "study collect: %s/runs holds runs the config does not plan (%s); "
                     "left out of the points table\n",
                     dir.c_str(), list.c_str());
    }
    std::vector<Point> points;
    const StudyPaths p{dir};
    auto tok = Tokenizer::load(p.tokenizer());
    for (const auto &name : names) {
        if (!file_exists(p.run(name) + "/config.json")) continue;  // created, never started
        if (tok.is_ok()) EM_TRY(study_run_tokenizer_check(p, name, tok->fnv1a64()));
        EM_TRY(collect_run(p, name, points));
    }
    if (points.empty()) return Status::error(dir + "/runs: no evaluated checkpoints to collect");
    return points_write(out, points);
}

}  // namespace em
