// Evaluation results files; see results.h.
#include "eval/results.h"

#include <nlohmann/json.hpp>

#include "common/fileio.h"
#include "common/json_file.h"

namespace em {
namespace {

using json = nlohmann::json;

// Offset of `"key"` in the text at or after `from`; `from` when absent. A heuristic, good enough
// to point a message at an entry.
size_t key_offset(const std::string &text, const std::string &key, size_t from) {
    size_t at = text.find("\"" + key + "\"", from);
    return at == std::string::npos ? from : at;
}

ResultsTask task_read(const std::string &task, const json &metrics, const json &doc) {
    ResultsTask t;
    t.task = task;
    for (auto m = metrics.begin(); m != metrics.end(); ++m) {
        const std::string &key = m.key();
        if (key == "alias" || key.find("_stderr") != std::string::npos) continue;
        if (!m.value().is_number()) continue;  // e.g. "N/A" for metrics without a value
        ResultsMetric r;
        const size_t comma = key.find(',');
        r.metric = key.substr(0, comma);
        r.filter = comma == std::string::npos ? "" : key.substr(comma + 1);
        r.value = m.value().get<double>();
        const std::string se_key =
            comma == std::string::npos ? key + "_stderr" : r.metric + "_stderr," + r.filter;
        if (auto se = metrics.find(se_key); se != metrics.end() && se->is_number())
            r.std_err = se->get<double>();
        t.metrics.push_back(std::move(r));
    }
    if (auto ns = doc.find("n-samples"); ns != doc.end() && ns->is_object()) {
        if (auto e = ns->find(task); e != ns->end() && e->is_object()) {
            if (auto eff = e->find("effective"); eff != e->end() && eff->is_number_integer())
                t.n = eff->get<int64_t>();
        }
    }
    if (auto bs = doc.find("baselines"); bs != doc.end() && bs->is_object()) {
        if (auto b = bs->find(task); b != bs->end()) {
            t.baselines.emplace();
            if (b->is_object())
                for (auto v = b->begin(); v != b->end(); ++v)
                    if (v.value().is_number()) (*t.baselines)[v.key()] = v.value().get<double>();
        }
    }
    return t;
}

}  // namespace

std::string ResultsMetric::name() const {
    if (filter == "none" || filter.empty()) return metric;
    return metric + "_" + filter;
}

const ResultsTask *ResultsFile::task(const std::string &name) const {
    for (const auto &t : tasks)
        if (t.task == name) return &t;
    return nullptr;
}

Result<ResultsFile> results_parse(const std::string &text, const std::string &path,
                                  const std::string &fix) {
    EM_ASSIGN_OR_RETURN(json doc, json_parse_located(text, path, fix));
    if (!doc.is_object() || !doc.contains("results") || !doc["results"].is_object())
        return Status::error(path +
                             ":1:1: no \"results\" object, so not an evaluation results "
                             "file; " +
                             fix);
    ResultsFile f;
    f.path = path;
    const size_t results_at = key_offset(text, "results", 0);
    f.where = text_position(text, results_at, path);
    const json &results = doc["results"];
    for (auto t = results.begin(); t != results.end(); ++t) {
        const std::string where = text_position(text, key_offset(text, t.key(), results_at), path);
        if (!t.value().is_object())
            return Status::error(where + ": results entry '" + t.key() + "' is not an object; " +
                                 fix);
        f.tasks.push_back(task_read(t.key(), t.value(), doc));
        f.tasks.back().where = where;
    }
    return f;
}

Result<ResultsFile> results_read(const std::string &path, const std::string &fix) {
    EM_ASSIGN_OR_RETURN(std::string text, file_read(path));
    return results_parse(text, path, fix);
}

}  // namespace em
