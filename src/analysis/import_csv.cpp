// The wide-CSV importer: one row per checkpoint, one column per task metric; see import.h and
// docs/points.md.
#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include "analysis/import.h"
#include "analysis/metrics.h"
#include "common/csv.h"

namespace em {

Result<ImportResult> import_wide_csv(const ImportOptions &opt, const CsvImportOptions &csv) {
    static const std::set<std::string> fields = {"loss", "step",   "tokens_seen",
                                                 "run",  "params", "tokens"};
    for (const auto &[f, col] : csv.map)
        if (!fields.count(f))
            return Status::error("--map " + f + "=" + col + ": unknown field '" + f +
                                 "'; map loss, step, tokens_seen, run, params or tokens");
    if (!csv.map.count("loss"))
        return Status::error("import csv: pass --map loss=COLUMN (the pre-training loss column)");
    if (!csv.map.count("step"))
        return Status::error("import csv: pass --map step=COLUMN (the optimizer step column)");
    if (!csv.map.count("tokens_seen") && !(opt.tokens_per_step > 0))
        return Status::error("import csv: pass --map tokens_seen=COLUMN or --tokens-per-step T");
    if (csv.task_columns.empty())
        return Status::error(
            "import csv: pass --task-columns REGEX, e.g. 'eval/downstream/(.*)_len_norm' (group 1 "
            "= task)");
    std::vector<std::regex> task_res;
    for (const auto &t : csv.task_columns) {
        EM_ASSIGN_OR_RETURN(std::regex re, import_regex_compile(t, "--task-columns"));
        if (re.mark_count() < 1)
            return Status::error(
                "--task-columns '" + t +
                "': needs a capture group for the task name, e.g. 'eval/(.*)_acc'");
        task_res.push_back(re);
    }
    EM_ASSIGN_OR_RETURN(std::vector<ImportSource> sources, import_sources_find(opt));
    ImportRunResolver runs;
    EM_TRY(runs.init(opt));
    ImportBaselineResolver bl;
    EM_TRY(bl.init(opt));

    ImportResult res;
    std::map<std::pair<std::string, int64_t>, std::string> seen;  // checkpoint -> first place
    int64_t skipped_rows = 0;
    for (const ImportSource &s : sources) {
        EM_ASSIGN_OR_RETURN(CsvTable t, csv_read(s.path));
        std::map<std::string, int64_t> col;
        for (const auto &[f, name] : csv.map) {
            int64_t c = t.column_index(name);
            if (c < 0)
                return Status::error(fmt::format(
                    "{}:1:1: no column '{}' (from --map {}={}); check the header's spelling",
                    s.path, name, f, name));
            col[f] = c;
        }
        struct TaskCol {
            int64_t col;
            std::string task, metric;
        };
        std::vector<TaskCol> tcols;
        for (size_t c = 0; c < t.header.size(); ++c) {
            const std::string &h = t.header[c].text;
            for (const auto &re : task_res) {
                std::smatch m;
                if (!std::regex_match(h, m, re)) continue;
                std::string task = m[1].str(), metric;
                if (m.size() > 2 && m[2].matched) {
                    metric = m[2].str();
                } else {
                    metric = h.substr(static_cast<size_t>(m.position(1) + m.length(1)));
                    size_t k = metric.find_first_not_of("_/-.: ");
                    metric = k == std::string::npos ? "" : metric.substr(k);
                    if (metric.empty()) metric = "value";
                }
                if (task.empty()) continue;
                tcols.push_back({static_cast<int64_t>(c), task, metric});
                break;
            }
        }
        if (tcols.empty())
            return Status::error(
                s.path +
                ":1:1: no column matches --task-columns; check the regular expressions "
                "against the header");
        std::string stem = std::filesystem::path(s.path).stem().string();
        for (const auto &row : t.rows) {
            auto field = [&](const char *f) -> const CsvField & {
                return row[static_cast<size_t>(col.at(f))];
            };
            auto missing = [](const std::string &x) {
                return x.empty() || x == "nan" || x == "NaN" || x == "NA";
            };
            if (missing(field("loss").text)) {
                ++skipped_rows;
                continue;
            }
            auto loss = number_parse(field("loss").text);
            if (!loss || !(*loss > 0))
                return Status::error(t.where(field("loss")) + ": loss must be a number > 0, got '" +
                                     field("loss").text + "'; fix the value or map another column");
            auto step = integer_parse(field("step").text);
            if (!step || *step < 0)
                return Status::error(t.where(field("step")) +
                                     ": step must be an integer >= 0, got '" + field("step").text +
                                     "'");
            ImportSource rs = s;
            if (col.count("run")) rs.fields["run"] = field("run").text;
            EM_ASSIGN_OR_RETURN(std::string run, runs.run_name(rs, stem));
            double params = 0, tokens = 0;
            for (const char *f : {"params", "tokens"}) {
                if (!col.count(f)) continue;
                auto v = number_parse(field(f).text);
                if (!v || !(*v > 0))
                    return Status::error(t.where(field(f)) + ": " + f +
                                         " must be a number > 0, got '" + field(f).text + "'");
                (std::string(f) == "params" ? params : tokens) = *v;
            }
            EM_TRY(runs.resolve(rs, run, params, tokens));
            double seen_tokens = static_cast<double>(*step) * opt.tokens_per_step;
            if (col.count("tokens_seen")) {
                auto v = number_parse(field("tokens_seen").text);
                if (!v || *v < 0)
                    return Status::error(t.where(field("tokens_seen")) +
                                         ": tokens_seen must be a number >= 0, got '" +
                                         field("tokens_seen").text + "'");
                seen_tokens = *v;
            }
            if (seen_tokens > tokens * 1.01)
                return Status::error(fmt::format(
                    "{}: tokens_seen {} exceeds the run's token budget {} by more than 1%; "
                    "check --tokens (or {{xc}} and --tokens-per-param) and the tokens_seen "
                    "column or --tokens-per-step",
                    t.where(field(col.count("tokens_seen") ? "tokens_seen" : "step")), seen_tokens,
                    tokens));
            std::string here = t.where(field("step"));
            auto [it, fresh] = seen.emplace(std::make_pair(run, *step), here);
            if (!fresh)
                return Status::error(fmt::format(
                    "{}: step {} of run '{}' appears again (first at {}); drop the duplicate "
                    "row or give the files distinct run names",
                    here, *step, run, it->second));
            for (const TaskCol &tc : tcols) {
                const CsvField &f = row[static_cast<size_t>(tc.col)];
                if (missing(f.text)) continue;
                auto v = number_parse(f.text);
                if (!v)
                    return Status::error(t.where(f) + ": column '" +
                                         t.header[static_cast<size_t>(tc.col)].text +
                                         "' must be a number (or empty when missing), got '" +
                                         f.text + "'; fix the value");
                if (metric_info(tc.metric).proportion && (*v < 0 || *v > 1))
                    return Status::error(
                        t.where(f) + ": column '" + t.header[static_cast<size_t>(tc.col)].text +
                        "' is a proportion (metric '" + tc.metric + "') but holds " + f.text +
                        "; a proportion lies in [0, 1]: divide percentages by "
                        "100 or match the column as another metric");
                Point p;
                p.run = run, p.params = params, p.tokens = tokens, p.step = *step,
                p.tokens_seen = seen_tokens;
                p.loss = *loss, p.task = tc.task, p.metric = tc.metric, p.value = *v;
                res.points.push_back(std::move(p));
            }
        }
        res.files += 1;
    }
    if (skipped_rows > 0)
        res.warnings.push_back(fmt::format("{} rows without a loss were skipped", skipped_rows));
    EM_TRY(import_points_finish(opt, bl, res));
    return res;
}

}  // namespace em
