// What the importers share: input files by path pattern, run and baseline resolution, the
// finishing of imported points; see import.h and docs/points.md.
#include "analysis/import.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <tuple>

#include "analysis/metrics.h"
#include "common/csv.h"

namespace em {
namespace {

namespace fs = std::filesystem;

// "KEY=VALUE" (split at the last '=') or a bare value (empty key).
Result<std::pair<std::string, double>> key_number(const std::string &item, const char *option) {
    size_t eq = item.rfind('=');
    std::string key = eq == std::string::npos ? "" : item.substr(0, eq);
    std::string val = eq == std::string::npos ? item : item.substr(eq + 1);
    auto v = number_parse(val);
    if (!v)
        return Status::error(
            fmt::format("{} '{}': expected KEY=NUMBER or NUMBER; fix the value", option, item));
    return std::make_pair(key, *v);
}

}  // namespace

// A number taken from a file's path by the pattern ({tokens}, {xc}, {step}).
Result<double> import_field_number(const ImportSource &s, const char *field) {
    auto v = number_parse(s.fields.at(field));
    if (!v || !std::isfinite(*v))
        return Status::error(s.path + ": {" + field + "} is '" + s.fields.at(field) +
                             "' in its path, not a finite number; fix the --pattern");
    return *v;
}
Result<int64_t> import_field_integer(const ImportSource &s, const char *field) {
    auto v = integer_parse(s.fields.at(field));
    if (!v)
        return Status::error(s.path + ": {" + field + "} is '" + s.fields.at(field) +
                             "' in its path, not an integer; fix the --pattern");
    return *v;
}

Result<std::regex> import_regex_compile(const std::string &re, const char *option) {
    try {
        return std::regex(re, std::regex::ECMAScript);
    } catch (const std::regex_error &e) {
        return Status::error(fmt::format(
            "{} '{}': not a valid regular expression ({}); fix the pattern", option, re, e.what()));
    }
}

Result<std::vector<ImportSource>> import_sources_find(const ImportOptions &opt) {
    if (opt.pattern.empty())
        return Status::error(
            "import: no --pattern; describe the file paths, e.g. --pattern "
            "'pythia-{run}/{size}_step{step}.json'");
    EM_ASSIGN_OR_RETURN(PathPattern pat, path_pattern_compile(opt.pattern));
    std::vector<ImportSource> out;
    if (!opt.dir.empty()) {
        std::error_code ec;
        if (!fs::is_directory(opt.dir, ec))
            return Status::error(
                opt.dir + ": not a directory; pass the folder that holds the results with --dir");
        std::vector<std::string> all;
        for (auto it = fs::recursive_directory_iterator(opt.dir, ec);
             !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
            if (it->is_regular_file())
                all.push_back(fs::relative(it->path(), opt.dir).generic_string());
        std::sort(all.begin(), all.end());
        for (const auto &rel : all) {
            ImportSource s;
            if (path_pattern_match(pat, rel, s.fields))
                s.path = (fs::path(opt.dir) / rel).string(), out.push_back(s);
        }
        if (out.empty())
            return Status::error(fmt::format(
                "{}: no file matches --pattern '{}' (relative to the folder); check the "
                "pattern's fixed text and its {{fields}}",
                opt.dir, opt.pattern));
    }
    for (const auto &f : opt.files) {
        ImportSource s;
        if (!path_pattern_match(pat, fs::path(f).generic_string(), s.fields))
            return Status::error(fmt::format(
                "{}: the path does not match --pattern '{}'; fix the pattern or the file name", f,
                opt.pattern));
        s.path = f;
        out.push_back(s);
    }
    if (out.empty())
        return Status::error("import: no input; pass --dir DIR (with --pattern) or files");
    return out;
}

Status ImportRunResolver::init(const ImportOptions &opt) {
    opt_ = &opt;
    for (const auto &item : opt.params) {
        EM_ASSIGN_OR_RETURN(auto kv, key_number(item, "--params"));
        if (kv.first.empty())
            params_all_ = kv.second;
        else
            params_[kv.first] = kv.second;
    }
    for (const auto &item : opt.tokens) {
        EM_ASSIGN_OR_RETURN(auto kv, key_number(item, "--tokens"));
        if (kv.first.empty())
            tokens_all_ = kv.second;
        else
            tokens_[kv.first] = kv.second;
    }
    if (!opt.params_csv.empty()) {
        EM_ASSIGN_OR_RETURN(CsvTable t, csv_read(opt.params_csv));
        int64_t key = t.column_index("run") >= 0 ? t.column_index("run") : t.column_index("size");
        int64_t val = t.column_index("params");
        if (key < 0 || val < 0)
            return Status::error(
                opt.params_csv +
                ":1:1: needs columns 'run' (or 'size') and 'params'; fix the header");
        for (const auto &row : t.rows) {
            auto v = number_parse(row[static_cast<size_t>(val)].text);
            if (!v || !(*v > 0))
                return Status::error(t.where(row[static_cast<size_t>(val)]) +
                                     ": params must be a number > 0, got '" +
                                     row[static_cast<size_t>(val)].text + "'; fix the value");
            params_[row[static_cast<size_t>(key)].text] = *v;
        }
    }
    return Status::ok();
}

Result<std::string> ImportRunResolver::run_name(const ImportSource &s,
                                                const std::string &fallback) const {
    if (auto it = s.fields.find("run"); it != s.fields.end() && !it->second.empty())
        return it->second;
    if (!opt_->run.empty()) return opt_->run;
    if (!fallback.empty()) return fallback;
    return Status::error(s.path + ": no run name; put {run} in --pattern or pass --run NAME");
}

Status ImportRunResolver::resolve(const ImportSource &s, const std::string &run, double &params,
                                  double &tokens) const {
    std::string size = s.fields.count("size") ? s.fields.at("size") : "";
    auto lookup = [&](const std::map<std::string, double> &m) -> const double * {
        if (!size.empty())
            if (auto it = m.find(size); it != m.end()) return &it->second;
        if (auto it = m.find(run); it != m.end()) return &it->second;
        return nullptr;
    };
    if (!(params > 0)) {
        if (const double *p = lookup(params_))
            params = *p;
        else if (params_all_ > 0)
            params = params_all_;
        else
            return Status::error(
                fmt::format("{}: no parameter count for run '{}'{}; pass --params {}=N "
                            "(non-embedding parameters) or --params-csv",
                            s.path, run, size.empty() ? "" : " (size '" + size + "')",
                            size.empty() ? run : size));
    }
    if (!(tokens > 0)) {
        if (const double *t = lookup(tokens_))
            tokens = *t;
        else if (auto it = s.fields.find("tokens"); it != s.fields.end()) {
            EM_ASSIGN_OR_RETURN(tokens, import_field_number(s, "tokens"));
        } else if (auto xc = s.fields.find("xc"); xc != s.fields.end()) {
            EM_ASSIGN_OR_RETURN(double x, import_field_number(s, "xc"));
            tokens = x * opt_->tokens_per_param * params;
        } else if (tokens_all_ > 0)
            tokens = tokens_all_;
        else
            return Status::error(
                fmt::format("{}: no token budget for run '{}'; pass --tokens D, --tokens {}=D, or "
                            "put {{tokens}} or {{xc}} in --pattern",
                            s.path, run, run));
    }
    return Status::ok();
}

Status ImportBaselineResolver::init(const ImportOptions &opt) {
    for (const auto &item : opt.baselines) {
        EM_ASSIGN_OR_RETURN(auto kv, key_number(item, "--baseline"));
        if (kv.first.empty())
            return Status::error("--baseline '" + item +
                                 "': name the task, e.g. --baseline arc_easy=0.25");
        std::string task = kv.first, metric;
        if (size_t c = task.rfind(':'); c != std::string::npos)
            metric = task.substr(c + 1), task = task.substr(0, c);
        EM_ASSIGN_OR_RETURN(std::regex re, import_regex_compile(task, "--baseline"));
        explicit_.push_back({re, metric, kv.second});
    }
    for (const auto &item : opt.choices) {
        EM_ASSIGN_OR_RETURN(auto kv, key_number(item, "--choices"));
        if (kv.first.empty() || !(kv.second >= 0) || kv.second != std::floor(kv.second))
            return Status::error("--choices '" + item +
                                 "': expected TASK=K with K a whole number of choices");
        EM_ASSIGN_OR_RETURN(std::regex re, import_regex_compile(kv.first, "--choices"));
        choices_.push_back({re, static_cast<int>(kv.second)});
    }
    if (!opt.baselines_csv.empty()) {
        EM_ASSIGN_OR_RETURN(CsvTable t, csv_read(opt.baselines_csv));
        int64_t ct = t.column_index("task"), cm = t.column_index("metric"),
                cb = t.column_index("baseline");
        if (ct < 0 || cm < 0 || cb < 0)
            return Status::error(opt.baselines_csv +
                                 ":1:1: needs columns task, metric, baseline; fix the header");
        for (const auto &row : t.rows) {
            const CsvField &b = row[static_cast<size_t>(cb)];
            double v = std::nan("");
            if (!b.text.empty()) {
                auto x = number_parse(b.text);
                if (!x)
                    return Status::error(t.where(b) +
                                         ": baseline must be a number or empty, got '" + b.text +
                                         "'; fix the value");
                v = *x;
            }
            table_[{row[static_cast<size_t>(ct)].text, row[static_cast<size_t>(cm)].text}] = v;
        }
    }
    return Status::ok();
}

double ImportBaselineResolver::get(const std::string &task, const std::string &metric,
                                   std::vector<std::string> &warnings) {
    for (const auto &e : explicit_)
        if ((e.metric.empty() || e.metric == metric) && std::regex_match(task, e.re))
            return e.value;
    if (auto it = table_.find({task, metric}); it != table_.end()) return it->second;
    if (auto it = table_.find({task, "*"}); it != table_.end()) return it->second;
    std::optional<int> k;
    for (const auto &c : choices_)
        if (std::regex_match(task, c.re)) k = c.k;
    if (!k) k = task_choice_count(task);
    if (auto v = metric_chance_value(metric, k)) return *v;
    if (!metric_info(metric).has_chance_value) return std::nan("");
    // Unknown: the analysis estimates the plateau (a proportion's baseline 0 and an empty
    // baseline both say so; a continuous score left at 0 would pin its plateau there).
    if (warned_.insert({task, metric}).second)
        warnings.push_back(
            fmt::format("task '{}' metric '{}': random-guess baseline unknown, so its plateau is "
                        "estimated; pass --choices {}=K or --baseline {}:{}=V for a chance level",
                        task, metric, task, task, metric));
    return metric_info(metric).proportion ? 0.0 : std::nan("");
}

Status import_points_finish(const ImportOptions &opt, ImportBaselineResolver &bl,
                            ImportResult &res) {
    std::vector<Point> kept;
    std::optional<std::regex> filter;
    if (!opt.task_filter.empty()) {
        EM_ASSIGN_OR_RETURN(std::regex re, import_regex_compile(opt.task_filter, "--tasks"));
        filter = re;
    }
    auto keep_task = [&](const std::string &task) {
        return !filter || std::regex_search(task, *filter);
    };
    std::set<size_t> aggregated;
    for (const auto &item : opt.aggregate) {
        size_t eq = item.find('=');
        if (eq == std::string::npos || eq == 0)
            return Status::error(
                "--aggregate '" + item +
                "': expected NAME=REGEX, e.g. --aggregate 'mmlu=hendrycksTest-.*'");
        std::string name = item.substr(0, eq);
        EM_ASSIGN_OR_RETURN(std::regex re,
                            import_regex_compile(item.substr(eq + 1), "--aggregate"));
        struct Acc {
            Point proto;
            double wsum = 0, vsum = 0, bsum = 0;
            int64_t n = 0, count = 0;
            bool all_n = true;
        };
        std::map<std::tuple<std::string, int64_t, std::string>, Acc> acc;
        for (size_t i = 0; i < res.points.size(); ++i) {
            const Point &p = res.points[i];
            if (!std::regex_match(p.task, re)) continue;
            if (!keep_task(name)) break;
            aggregated.insert(i);
            Acc &a = acc[{p.run, p.step, p.metric}];
            if (a.count == 0) a.proto = p;
            double w = p.n > 0 ? static_cast<double>(p.n) : 1.0;
            a.all_n = a.all_n && p.n > 0;
            a.wsum += w, a.vsum += w * p.value,
                a.bsum += w * bl.get(p.task, p.metric, res.warnings);
            a.n += p.n, a.count += 1;
        }
        if (acc.empty()) {
            if (keep_task(name))
                res.warnings.push_back("--aggregate '" + item + "': no task matches");
            continue;
        }
        for (auto &[k, a] : acc) {
            Point p = a.proto;
            p.task = name;
            p.value = a.vsum / a.wsum;
            p.baseline = a.bsum / a.wsum;
            p.n = a.all_n ? a.n : 0;
            kept.push_back(p);
        }
    }
    // Baselines only for what is kept, so filtered-out tasks raise no warnings.
    for (size_t i = 0; i < res.points.size(); ++i) {
        Point &p = res.points[i];
        if ((opt.drop_aggregated && aggregated.count(i)) || !keep_task(p.task)) continue;
        p.baseline = bl.get(p.task, p.metric, res.warnings);
        kept.push_back(p);
    }
    // The same random-guess value for an aggregate at every checkpoint: its members' mean.
    std::map<std::pair<std::string, std::string>, double> first;
    for (auto &p : kept) {
        auto [it, fresh] = first.emplace(std::make_pair(p.task, p.metric), p.baseline);
        if (!fresh) p.baseline = it->second;
    }
    res.points = std::move(kept);
    if (res.points.empty())
        return Status::error(
            "import: no points left" +
            (opt.task_filter.empty() ? std::string() : " after --tasks '" + opt.task_filter + "'") +
            "; check the task filter and the task columns");
    return points_validate(res.points, "imported points");
}

Result<PathPattern> path_pattern_compile(const std::string &pattern) {
    PathPattern p;
    p.source = pattern;
    std::string re;
    for (size_t i = 0; i < pattern.size(); ++i) {
        char c = pattern[i];
        if (c == '{') {
            size_t close = pattern.find('}', i);
            if (close == std::string::npos)
                return Status::error("--pattern '" + pattern + "': '{' at character " +
                                     std::to_string(i + 1) +
                                     " is never closed; write fields as {run}, {size}, {step}");
            std::string name = pattern.substr(i + 1, close - i - 1);
            static const std::set<std::string> known = {"run", "size", "step", "xc", "tokens"};
            if (!known.count(name))
                return Status::error("--pattern '" + pattern + "': unknown field {" + name +
                                     "}; use {run}, {size}, {step}, {xc} or {tokens}");
            if (std::find(p.fields.begin(), p.fields.end(), name) != p.fields.end())
                return Status::error("--pattern '" + pattern + "': field {" + name +
                                     "} appears twice; keep one");
            p.fields.push_back(name);
            if (name == "step")
                re += "([0-9]+)";
            else if (name == "xc" || name == "tokens")
                re += "([0-9]+(?:\\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)";
            else
                re += "([^/]+?)";
            i = close;
        } else if (c == '*') {
            re += "[^/]*";
        } else if (c == '?') {
            re += "[^/]";
        } else {
            if (std::string("\\^$.|+()[]{}").find(c) != std::string::npos) re.push_back('\\');
            re.push_back(c);
        }
    }
    p.regex = re;
    return p;
}

bool path_pattern_match(const PathPattern &p, const std::string &path,
                        std::map<std::string, std::string> &fields) {
    std::regex re("(?:^|.*/)" + p.regex);
    std::smatch m;
    if (!std::regex_match(path, m, re)) return false;
    fields.clear();
    for (size_t i = 0; i < p.fields.size(); ++i) fields[p.fields[i]] = m[i + 1].str();
    return true;
}

}  // namespace em
