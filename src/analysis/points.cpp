// Points table reading, validation and atomic writing; see points.h and docs/points.md.
#include "analysis/points.h"

#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <map>
#include <string_view>
#include <tuple>
#include <unordered_map>

#include "analysis/metrics.h"
#include "common/csv.h"
#include "common/fileio.h"

namespace em {

const char *const kPointsColumns =
    "run,params,tokens,step,tokens_seen,loss,task,metric,value,n,baseline";

namespace {

enum Col {
    kRun,
    kParams,
    kTokens,
    kStep,
    kTokensSeen,
    kLoss,
    kTask,
    kMetric,
    kValue,
    kN,
    kBaseline,
    kNumCols
};
const char *const kColNames[kNumCols] = {"run",  "params", "tokens", "step", "tokens_seen", "loss",
                                         "task", "metric", "value",  "n",    "baseline"};

const char *const kFormatHint = " (format: docs/points.md)";
const double kTokensSeenSlack = 0.01;  // tokens_seen may pass tokens by this share

bool same_number(double a, double b) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
    return a == b || std::fabs(a - b) <= 1e-12 * std::max(std::fabs(a), std::fabs(b));
}

std::string number_text(double v) {
    return std::isnan(v) ? std::string("none") : fmt::format("{}", v);
}

// Cross-row rules. `place(i, col)` names row i's field for messages.
Status consistency_check(const std::vector<Point> &pts,
                         const std::function<std::string(size_t, int)> &place) {
    std::unordered_map<std::string, size_t> run_first;
    std::map<std::pair<std::string, int64_t>, size_t> ckpt_first;
    std::map<std::tuple<std::string, int64_t, std::string, std::string>, size_t> seen;
    std::map<std::pair<std::string, std::string>, size_t> metric_first;
    for (size_t i = 0; i < pts.size(); ++i) {
        const Point &p = pts[i];
        auto [rit, rnew] = run_first.emplace(p.run, i);
        if (!rnew) {
            const Point &q = pts[rit->second];
            if (!same_number(p.params, q.params))
                return Status::error(place(i, kParams) + ": run '" + p.run + "' has params " +
                                     number_text(p.params) + " here but " + number_text(q.params) +
                                     " on an earlier row; a run has one parameter count");
            if (!same_number(p.tokens, q.tokens))
                return Status::error(place(i, kTokens) + ": run '" + p.run + "' has tokens " +
                                     number_text(p.tokens) + " here but " + number_text(q.tokens) +
                                     " on an earlier row; a run has one token budget");
        }
        auto [cit, cnew] = ckpt_first.emplace(std::make_pair(p.run, p.step), i);
        if (!cnew) {
            const Point &q = pts[cit->second];
            if (!same_number(p.loss, q.loss))
                return Status::error(place(i, kLoss) + ": checkpoint (" + p.run + ", step " +
                                     std::to_string(p.step) + ") has loss " + number_text(p.loss) +
                                     " here but " + number_text(q.loss) +
                                     " on an earlier row; a checkpoint has one loss");
            if (!same_number(p.tokens_seen, q.tokens_seen))
                return Status::error(place(i, kTokensSeen) + ": checkpoint (" + p.run + ", step " +
                                     std::to_string(p.step) + ") has tokens_seen " +
                                     number_text(p.tokens_seen) + " here but " +
                                     number_text(q.tokens_seen) + " on an earlier row");
        }
        auto [sit, snew] = seen.emplace(std::make_tuple(p.run, p.step, p.task, p.metric), i);
        if (!snew)
            return Status::error(place(i, kMetric) + ": duplicate row for run '" + p.run +
                                 "', step " + std::to_string(p.step) + ", task '" + p.task +
                                 "', metric '" + p.metric + "' (value " + number_text(p.value) +
                                 " here, " + number_text(pts[sit->second].value) +
                                 " on an earlier row); keep one row per checkpoint, task and "
                                 "metric");
        auto [mit, mnew] = metric_first.emplace(std::make_pair(p.task, p.metric), i);
        if (!mnew && !same_number(p.baseline, pts[mit->second].baseline))
            return Status::error(place(i, kBaseline) + ": task '" + p.task + "' metric '" +
                                 p.metric + "' has baseline " + number_text(p.baseline) +
                                 " here but " + number_text(pts[mit->second].baseline) +
                                 " on an earlier row; a task metric has one random-guess baseline");
    }
    return Status::ok();
}

// Half a unit in the last decimal place of a number as written ("0.094" -> 0.0005, "9.4e-2" ->
// 0.0005): how far the written value may lie from the one it was rounded from.
double written_half_unit(std::string_view text) {
    const size_t e = text.find_first_of("eE");
    std::string_view mantissa = text.substr(0, e);
    int64_t decimals = 0;
    if (size_t dot = mantissa.find('.'); dot != std::string_view::npos)
        decimals = static_cast<int64_t>(mantissa.size() - dot - 1);
    if (e != std::string_view::npos) {
        auto exp = integer_parse(text.substr(e + 1));
        if (exp) decimals -= *exp;
    }
    return 0.5 * std::pow(10.0, -static_cast<double>(decimals));
}

// Field rules shared by the reader (with a position) and the validator of in-memory points.
// `value_half_unit` is the rounding of the value as written (0 for a value computed in memory).
Status point_fields_check(const Point &p, const std::function<std::string(int)> &place,
                          double value_half_unit = 0) {
    if (p.run.empty())
        return Status::error(place(kRun) + ": column 'run' is empty; name the training run");
    if (p.task.empty())
        return Status::error(place(kTask) + ": column 'task' is empty; name the task");
    if (p.metric.empty())
        return Status::error(place(kMetric) + ": column 'metric' is empty; name the metric");
    if (!(p.params > 0) || !std::isfinite(p.params))
        return Status::error(place(kParams) +
                             ": column 'params' must be a number > 0 (non-embedding parameters)");
    if (!(p.tokens > 0) || !std::isfinite(p.tokens))
        return Status::error(place(kTokens) +
                             ": column 'tokens' must be a number > 0 (the run's token budget)");
    if (p.step < 0) return Status::error(place(kStep) + ": column 'step' must be an integer >= 0");
    if (!(p.tokens_seen >= 0) || !std::isfinite(p.tokens_seen))
        return Status::error(place(kTokensSeen) + ": column 'tokens_seen' must be a number >= 0");
    if (!(p.loss > 0) || !std::isfinite(p.loss))
        return Status::error(place(kLoss) +
                             ": column 'loss' must be a finite number > 0 (nats per token)");
    if (!std::isfinite(p.value))
        return Status::error(place(kValue) + ": column 'value' must be a finite number");
    if (p.n < 0)
        return Status::error(place(kN) +
                             ": column 'n' must be an integer >= 0, or empty when unknown");
    if (std::isinf(p.baseline))
        return Status::error(
            place(kBaseline) +
            ": column 'baseline' must be finite, or empty when the metric has none");
    // A run may overshoot its nominal budget by its last batch (the OLMo ladder's logs do, by up
    // to 0.3%); well past it, tokens and tokens_seen do not describe one run.
    if (p.tokens_seen > p.tokens * (1 + kTokensSeenSlack))
        return Status::error(place(kTokensSeen) + ": tokens_seen " + number_text(p.tokens_seen) +
                             " exceeds the run's token budget (tokens = " + number_text(p.tokens) +
                             ") by more than 1%; a checkpoint cannot have seen more than its "
                             "run's budget: fix tokens_seen or tokens");
    if (metric_info(p.metric).proportion) {
        if (p.value < 0 || p.value > 1)
            return Status::error(place(kValue) + ": metric '" + p.metric +
                                 "' is a proportion of examples, but its value is " +
                                 number_text(p.value) +
                                 "; a proportion lies in [0, 1] (write 0.42, not 42)");
        // pass@k is an estimate per problem, so only a mean of 0/1 scores is checked.
        const bool per_example = p.metric.rfind("pass", 0) != 0;
        if (per_example && p.n > 0 && !proportion_fits(p.value, p.n, value_half_unit))
            return Status::error(place(kValue) + ": metric '" + p.metric + "' value " +
                                 number_text(p.value) + " of n = " + std::to_string(p.n) +
                                 " examples is " +
                                 fmt::format("{:.4g}", p.value * static_cast<double>(p.n)) +
                                 " successes, not a whole number; fix the value "
                                 "(successes / n) or n");
    }
    return Status::ok();
}

}  // namespace

Result<std::vector<Point>> points_parse(const std::string &text, const std::string &path) {
    EM_ASSIGN_OR_RETURN(CsvTable t, csv_parse(text, path));
    int idx[kNumCols];
    for (int c = 0; c < kNumCols; ++c) idx[c] = -1;
    for (size_t j = 0; j < t.header.size(); ++j) {
        const CsvField &h = t.header[j];
        int found = -1;
        for (int c = 0; c < kNumCols; ++c)
            if (h.text == kColNames[c]) found = c;
        if (found < 0)
            return Status::error(t.where(h) + ": unknown column '" + h.text +
                                 "'; the header must be " + kPointsColumns + kFormatHint);
        if (idx[found] >= 0)
            return Status::error(t.where(h) + ": column '" + h.text + "' appears twice; keep one" +
                                 kFormatHint);
        idx[found] = static_cast<int>(j);
    }
    for (int c = 0; c < kNumCols; ++c)
        if (idx[c] < 0)
            return Status::error(path + ":1:1: missing column '" + std::string(kColNames[c]) +
                                 "'; the header must be " + kPointsColumns + kFormatHint);

    std::vector<Point> pts;
    pts.reserve(t.rows.size());
    for (const auto &row : t.rows) {
        auto field = [&](int c) -> const CsvField & { return row[static_cast<size_t>(idx[c])]; };
        auto bad = [&](int c, const char *want) {
            return Status::error(t.where(field(c)) + ": column '" + kColNames[c] + "' must be " +
                                 want + ", got '" + field(c).text + "'; fix the value" +
                                 kFormatHint);
        };
        Point p;
        p.run = field(kRun).text;
        p.task = field(kTask).text;
        p.metric = field(kMetric).text;
        auto num = [&](int c, double &out) -> Status {
            auto v = number_parse(field(c).text);
            if (!v) return bad(c, "a finite number");
            out = *v;
            return Status::ok();
        };
        EM_TRY(num(kParams, p.params));
        EM_TRY(num(kTokens, p.tokens));
        auto step = integer_parse(field(kStep).text);
        if (!step) return bad(kStep, "an integer");
        p.step = *step;
        EM_TRY(num(kTokensSeen, p.tokens_seen));
        EM_TRY(num(kLoss, p.loss));
        EM_TRY(num(kValue, p.value));
        if (!field(kN).text.empty()) {
            auto n = integer_parse(field(kN).text);
            if (!n) return bad(kN, "an integer or empty");
            if (*n <= 0)
                return Status::error(t.where(field(kN)) + ": column 'n' is " + field(kN).text +
                                     "; a value rests on at least one example: write how many, "
                                     "or leave n empty when unknown" +
                                     kFormatHint);
            p.n = *n;
        }
        if (!field(kBaseline).text.empty()) EM_TRY(num(kBaseline, p.baseline));
        EM_TRY(point_fields_check(
            p, [&](int c) { return t.where(field(c)); }, written_half_unit(field(kValue).text)));
        pts.push_back(std::move(p));
    }
    if (pts.empty())
        return Status::error(path +
                             ":2:1: the table has a header but no rows; evaluate checkpoints "
                             "or import results first");
    EM_TRY(consistency_check(
        pts, [&](size_t i, int c) { return t.where(t.rows[i][static_cast<size_t>(idx[c])]); }));
    return pts;
}

Result<std::vector<Point>> points_read(const std::string &path) {
    EM_ASSIGN_OR_RETURN(std::string text, file_read(path));
    return points_parse(text, path);
}

bool proportion_fits(double value, int64_t n, double half_unit) {
    // value = successes / n, so value * n is a whole number up to the value's rounding.
    const double nd = static_cast<double>(n), k = value * nd;
    return std::fabs(k - std::round(k)) <= nd * half_unit + 1e-9 * std::max(1.0, nd);
}

Status points_validate(const std::vector<Point> &points, const std::string &what) {
    auto place = [&](size_t i, int c) {
        const Point &p = points[i];
        return fmt::format("{}: row {} (run '{}', step {}, task '{}', metric '{}'), column '{}'",
                           what, i + 1, p.run, p.step, p.task, p.metric, kColNames[c]);
    };
    for (size_t i = 0; i < points.size(); ++i)
        EM_TRY(point_fields_check(points[i], [&](int c) { return place(i, c); }));
    return consistency_check(points, place);
}

std::string points_format(const std::vector<Point> &points) {
    std::string out = kPointsColumns;
    out.push_back('\n');
    for (const Point &p : points) {
        out += csv_escape(p.run);
        out += fmt::format(",{},{},{},{},{},", p.params, p.tokens, p.step, p.tokens_seen, p.loss);
        out += csv_escape(p.task);
        out.push_back(',');
        out += csv_escape(p.metric);
        out += fmt::format(",{},", p.value);
        if (p.n > 0) out += std::to_string(p.n);
        out.push_back(',');
        if (!std::isnan(p.baseline)) out += fmt::format("{}", p.baseline);
        out.push_back('\n');
    }
    return out;
}

Status points_write(const std::string &path, const std::vector<Point> &points) {
    if (points.empty())
        return Status::error(path + ": no points to write; nothing was evaluated or imported");
    EM_TRY(points_validate(points, path));
    return file_write_atomic(path, points_format(points));
}

}  // namespace em
