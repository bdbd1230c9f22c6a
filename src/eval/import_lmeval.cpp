// The lm-evaluation-harness importer; see import_lmeval.h and docs/points.md.
#include "eval/import_lmeval.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "analysis/metrics.h"
#include "analysis/points.h"
#include "common/csv.h"
#include "eval/results.h"

namespace em {
namespace {

using LossTable = std::map<std::pair<std::string, int64_t>, double>;  // (run, step) -> loss

// The --loss-csv file: run,step,loss.
Result<LossTable> loss_csv_read(const std::string &path) {
    EM_ASSIGN_OR_RETURN(CsvTable t, csv_read(path));
    int64_t cr = t.column_index("run"), cs = t.column_index("step"), cl = t.column_index("loss");
    if (cr < 0 || cs < 0 || cl < 0)
        return Status::error(path + ":1:1: needs columns run, step, loss; fix the header");
    LossTable out;
    for (const auto &row : t.rows) {
        const CsvField &s = row[static_cast<size_t>(cs)], &l = row[static_cast<size_t>(cl)];
        auto step = integer_parse(s.text);
        if (!step || *step < 0)
            return Status::error(t.where(s) + ": step must be an integer >= 0, got '" + s.text +
                                 "'");
        auto loss = number_parse(l.text);
        if (!loss || !(*loss > 0))
            return Status::error(t.where(l) + ": loss must be a number > 0, got '" + l.text + "'");
        out[{row[static_cast<size_t>(cr)].text, *step}] = *loss;
    }
    return out;
}

// Where each checkpoint's loss comes from: a task's metric in its own file (--loss-from, a
// perplexity taken as its log), or the --loss-csv table.
struct LossSource {
    std::string task, metric;  // --loss-from; empty: the table
    LossTable table;
    std::string table_path;
};

Result<LossSource> loss_source(const ImportOptions &opt, const LmEvalOptions &lm) {
    LossSource ls;
    if (!opt.loss_csv.empty()) {
        EM_ASSIGN_OR_RETURN(ls.table, loss_csv_read(opt.loss_csv));
        ls.table_path = opt.loss_csv;
    } else if (lm.loss_from.empty()) {
        return Status::error(
            "import lm-eval: no loss; pass --loss-csv FILE (run,step,loss) or --loss-from "
            "TASK:METRIC "
            "(e.g. lambada_openai:ppl)");
    }
    if (!lm.loss_from.empty()) {
        size_t c = lm.loss_from.rfind(':');
        if (c == std::string::npos || c == 0 || c + 1 == lm.loss_from.size())
            return Status::error("--loss-from '" + lm.loss_from +
                                 "': expected TASK:METRIC, e.g. lambada_openai:ppl");
        ls.task = lm.loss_from.substr(0, c), ls.metric = lm.loss_from.substr(c + 1);
    }
    return ls;
}

// The loss of the checkpoint `f` holds: a positive finite number.
Result<double> checkpoint_loss(const LossSource &ls, const ResultsFile &f, const std::string &run,
                               int64_t step) {
    double loss = std::nan("");
    if (!ls.task.empty()) {
        const ResultsTask *t = f.task(ls.task);
        if (!t)
            return Status::error(fmt::format(
                "{}: no task '{}' in results for --loss-from; choose another task or pass "
                "--loss-csv",
                f.where, ls.task));
        for (const ResultsMetric &m : t->metrics)
            if (m.name() == ls.metric) loss = m.value;
        if (std::isnan(loss))
            return Status::error(
                fmt::format("{}: task '{}' has no numeric metric '{}' for --loss-from; pick one of "
                            "its metrics",
                            t->where, ls.task, ls.metric));
        if (ls.metric.find("ppl") != std::string::npos ||
            ls.metric.find("perplexity") != std::string::npos) {
            if (!(loss > 0))
                return Status::error(
                    fmt::format("{}: perplexity {} is not positive; fix the file", t->where, loss));
            loss = std::log(loss);
        }
    } else {
        auto it = ls.table.find({run, step});
        if (it == ls.table.end())
            return Status::error(fmt::format("{}: no loss for run '{}' step {}; add the row to {}",
                                             f.path, run, step, ls.table_path));
        loss = it->second;
    }
    if (!(loss > 0) || !std::isfinite(loss))
        return Status::error(
            fmt::format("{}: loss {} of run '{}' step {} is not a positive number; fix the source",
                        f.path, loss, run, step));
    return loss;
}

// One point per finite metric value of `f` but the loss itself; `proto` holds the checkpoint. A
// proportion outside [0, 1] is an error naming the task's entry.
Status file_points(const ResultsFile &f, const LossSource &ls, const LmEvalOptions &lm,
                   const Point &proto, std::vector<Point> &out) {
    for (const ResultsTask &t : f.tasks) {
        for (const ResultsMetric &m : t.metrics) {
            const std::string metric = m.name();
            if (t.task == ls.task && metric == ls.metric) continue;  // the loss itself
            if (!std::isfinite(m.value)) continue;
            if (metric_info(metric).proportion && (m.value < 0 || m.value > 1))
                return Status::error(fmt::format(
                    "{}: task '{}' metric '{}' is a proportion of examples but has value {}; a "
                    "proportion lies in [0, 1]: fix the file or regenerate it with lm-eval",
                    t.where, t.task, metric, m.value));
            Point p = proto;
            p.task = t.task, p.metric = metric, p.value = m.value, p.n = t.n.value_or(0);
            const double v = m.value;
            const bool per_example = metric_info(metric).proportion && metric.rfind("pass", 0) != 0;
            if (per_example && p.n > 0 && !proportion_fits(v, p.n))
                return Status::error(fmt::format(
                    "{}: task '{}' metric '{}' has value {} over {} samples (n-samples), which "
                    "is not a whole number of correct ones; fix the file or regenerate it with "
                    "lm-eval",
                    t.where, t.task, metric, v, p.n));
            // lm-eval's stderr of a 0/1 mean is sqrt(p(1-p)/(n-1)). A count that does not make
            // the value a whole number of successes is not the sample count (a rounded stderr):
            // n stays unknown.
            if (p.n == 0 && lm.n_from_stderr && metric_info(metric).proportion && v > 0 && v < 1 &&
                m.std_err > 0) {
                p.n = static_cast<int64_t>(std::llround(v * (1 - v) / (m.std_err * m.std_err) + 1));
                if (!proportion_fits(v, p.n)) p.n = 0;
            }
            out.push_back(std::move(p));
        }
    }
    return Status::ok();
}

// A score of exactly 0 or 1 says nothing of n through its stderr; the task's item count is the
// same at every checkpoint, so such a point takes the count its other points give.
void n_fill_from_other_checkpoints(std::vector<Point> &points) {
    std::map<std::pair<std::string, std::string>, std::map<int64_t, int64_t>> seen_n;
    for (const Point &p : points)
        if (p.n > 0 && metric_info(p.metric).proportion) ++seen_n[{p.task, p.metric}][p.n];
    for (Point &p : points) {
        if (p.n > 0 || !metric_info(p.metric).proportion) continue;
        auto it = seen_n.find({p.task, p.metric});
        if (it == seen_n.end()) continue;
        const int64_t n =
            std::max_element(it->second.begin(), it->second.end(), [](auto &a, auto &b) {
                return a.second < b.second;
            })->first;
        if (proportion_fits(p.value, n)) p.n = n;
    }
}

}  // namespace

Result<ImportResult> import_lm_eval(const ImportOptions &opt, const LmEvalOptions &lm) {
    EM_ASSIGN_OR_RETURN(std::vector<ImportSource> sources, import_sources_find(opt));
    ImportRunResolver runs;
    EM_TRY(runs.init(opt));
    ImportBaselineResolver bl;
    EM_TRY(bl.init(opt));
    EM_ASSIGN_OR_RETURN(LossSource ls, loss_source(opt, lm));
    if (!(opt.tokens_per_step > 0))
        return Status::error(
            "import lm-eval: pass --tokens-per-step T (tokens per optimizer step) so that "
            "tokens_seen = "
            "step x T");

    ImportResult res;
    for (const ImportSource &s : sources) {
        EM_ASSIGN_OR_RETURN(ResultsFile f,
                            results_read(s.path, "fix the file or regenerate it with lm-eval"));
        Point proto;
        EM_ASSIGN_OR_RETURN(proto.run, runs.run_name(s, ""));
        if (!s.fields.count("step"))
            return Status::error(
                s.path + ": no step; put {step} in --pattern, e.g. '{run}/step{step}.json'");
        EM_ASSIGN_OR_RETURN(proto.step, import_field_integer(s, "step"));
        EM_TRY(runs.resolve(s, proto.run, proto.params, proto.tokens));
        EM_ASSIGN_OR_RETURN(proto.loss, checkpoint_loss(ls, f, proto.run, proto.step));
        proto.tokens_seen = static_cast<double>(proto.step) * opt.tokens_per_step;
        EM_TRY(file_points(f, ls, lm, proto, res.points));
        res.files += 1;
    }
    if (lm.n_from_stderr) n_fill_from_other_checkpoints(res.points);
    EM_TRY(import_points_finish(opt, bl, res));
    return res;
}

}  // namespace em
