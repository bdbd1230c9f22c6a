// The done-marker of a checkpoint's evaluation; see eval_marker.h.
#include "study/eval_marker.h"

#include <algorithm>
#include <filesystem>

#include "common/fileio.h"
#include "eval/eval.h"

namespace em {
namespace {

// The task names an evaluation covers, as its done.json records them.
nlohmann::json task_names_json(const std::vector<Task> &tasks) {
    nlohmann::json names = nlohmann::json::array();
    for (const auto &t : tasks) names.push_back(t.spec.name);
    return names;
}

}  // namespace

std::string study_eval_done_marker(const std::string &eval_dir) {
    return eval_dir + "/done.json";
}

std::optional<nlohmann::json> eval_marker(const std::string &marker) {
    if (!file_exists(marker)) return std::nullopt;
    nlohmann::json done;
    if (auto text = file_read(marker); text.is_ok()) {
        try {
            done = nlohmann::json::parse(*text);
        } catch (const std::exception &) {
        }
    }
    return done;
}

bool eval_current(const nlohmann::json &done, const StudyConfig &cfg,
                  const std::vector<Task> &tasks) {
    return !done.is_object() || !done.contains("tasks") ||
           (done["tasks"] == task_names_json(tasks) &&
            done.value("limit", nlohmann::json(cfg.eval_limit)) == cfg.eval_limit &&
            done.value("scoring", nlohmann::json(kScoringVersion)) == kScoringVersion);
}

bool eval_done(const StudyPaths &p, const StudyConfig &cfg, const StudyRun &run, int64_t step,
               const std::vector<Task> &tasks) {
    auto done = eval_marker(study_eval_done_marker(p.evals(run.name, step)));
    return done && eval_current(*done, cfg, tasks);
}

bool eval_run_complete(const StudyPaths &p, const StudyRun &r) {
    for (int64_t step : r.train.checkpoint_plan())
        if (!file_exists(study_eval_done_marker(p.evals(r.name, step)))) return false;
    return true;
}

Status eval_mark(const std::string &eval_dir, const std::string &run, int64_t step, double seconds,
                 const std::vector<Task> &tasks, int64_t limit) {
    nlohmann::json done = {{"run", run},         {"step", step},
                           {"seconds", seconds}, {"tasks", task_names_json(tasks)},
                           {"limit", limit},     {"scoring", kScoringVersion}};
    return file_write_atomic(study_eval_done_marker(eval_dir), done.dump() + "\n");
}

Status eval_unmark(const std::string &eval_dir) {
    std::error_code ec;
    std::filesystem::remove(study_eval_done_marker(eval_dir), ec);
    std::filesystem::remove_all(eval_dir, ec);
    if (ec)
        return Status::error(eval_dir + ": cannot remove the earlier evaluation (" + ec.message() +
                             "); delete it by hand");
    return Status::ok();
}

Result<std::vector<std::string>> eval_results_files(const std::string &eval_dir) {
    const std::string marker = study_eval_done_marker(eval_dir);
    nlohmann::json done;
    try {
        EM_ASSIGN_OR_RETURN(std::string text, file_read(marker));
        done = nlohmann::json::parse(text);
    } catch (const std::exception &e) {
        return Status::error(marker + ": not valid JSON (" + e.what() +
                             "); delete it and rerun the study to evaluate the checkpoint again");
    }
    if (done.is_object() && done.contains("scoring") &&
        done["scoring"] != nlohmann::json(kScoringVersion))
        return Status::error(marker + ": scored under scoring rules " + done["scoring"].dump() +
                             ", this build scores under " + std::to_string(kScoringVersion) +
                             "; rerun `emergence study` with this build to score it again");
    std::vector<std::string> files;
    std::error_code ec;
    if (done.is_object() && done.contains("tasks") && done["tasks"].is_array()) {
        for (const auto &t : done["tasks"])
            if (t.is_string()) files.push_back(eval_dir + "/" + t.get<std::string>() + ".json");
    } else {
        for (const auto &f : std::filesystem::directory_iterator(eval_dir, ec)) {
            std::string n = f.path().filename().string();
            if (n.size() > 5 && n.substr(n.size() - 5) == ".json" && n != "done.json" &&
                n.rfind("samples_", 0) != 0)
                files.push_back(f.path().string());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace em
