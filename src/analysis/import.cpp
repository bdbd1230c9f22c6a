// lm-evaluation-harness and wide-CSV imports into points; see import.h and docs/points.md.
#include "analysis/import.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "analysis/metrics.h"
#include "common/csv.h"
#include "common/fileio.h"
#include "common/json_file.h"

namespace em {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

struct Source {
    std::string path;                           // as opened
    std::map<std::string, std::string> fields;  // from the pattern
};

// "KEY=VALUE" (split at the last '=') or a bare value (empty key).
// A number taken from a file's path by the pattern ({tokens}, {xc}, {step}).
Result<double> field_number(const Source &s, const char *field) {
    auto v = number_parse(s.fields.at(field));
    if (!v || !std::isfinite(*v))
        return Status::error(s.path + ": {" + field + "} is '" + s.fields.at(field) +
                             "' in its path, not a finite number; fix the --pattern");
    return *v;
}
Result<int64_t> field_integer(const Source &s, const char *field) {
    auto v = integer_parse(s.fields.at(field));
    if (!v)
        return Status::error(s.path + ": {" + field + "} is '" + s.fields.at(field) +
                             "' in its path, not an integer; fix the --pattern");
    return *v;
}

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

Result<std::regex> regex_compile(const std::string &re, const char *option) {
    try {
        return std::regex(re, std::regex::ECMAScript);
    } catch (const std::regex_error &e) {
        return Status::error(fmt::format(
            "{} '{}': not a valid regular expression ({}); fix the pattern", option, re, e.what()));
    }
}

Result<std::vector<Source>> sources_find(const ImportOptions &opt) {
    if (opt.pattern.empty())
        return Status::error(
            "import: no --pattern; describe the file paths, e.g. --pattern "
            "'pythia-{run}/{size}_step{step}.json'");
    EM_ASSIGN_OR_RETURN(PathPattern pat, path_pattern_compile(opt.pattern));
    std::vector<Source> out;
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
            Source s;
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
        Source s;
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

// Resolves a run's name, parameter count and budget from pattern fields and options.
class RunResolver {
  public:
    Status init(const ImportOptions &opt) {
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
            int64_t key =
                t.column_index("run") >= 0 ? t.column_index("run") : t.column_index("size");
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

    Result<std::string> run_name(const Source &s, const std::string &fallback) const {
        if (auto it = s.fields.find("run"); it != s.fields.end() && !it->second.empty())
            return it->second;
        if (!opt_->run.empty()) return opt_->run;
        if (!fallback.empty()) return fallback;
        return Status::error(s.path + ": no run name; put {run} in --pattern or pass --run NAME");
    }

    // Parameters and budget of a run; `where` names the file for messages.
    Status resolve(const Source &s, const std::string &run, double &params, double &tokens) const {
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
                EM_ASSIGN_OR_RETURN(tokens, field_number(s, "tokens"));
            } else if (auto xc = s.fields.find("xc"); xc != s.fields.end()) {
                EM_ASSIGN_OR_RETURN(double x, field_number(s, "xc"));
                tokens = x * opt_->tokens_per_param * params;
            } else if (tokens_all_ > 0)
                tokens = tokens_all_;
            else
                return Status::error(fmt::format(
                    "{}: no token budget for run '{}'; pass --tokens D, --tokens {}=D, or "
                    "put {{tokens}} or {{xc}} in --pattern",
                    s.path, run, run));
        }
        return Status::ok();
    }

  private:
    const ImportOptions *opt_ = nullptr;
    std::map<std::string, double> params_, tokens_;
    double params_all_ = 0, tokens_all_ = 0;
};

// Random-guess values: explicit options first, then the table of known benchmarks.
class BaselineResolver {
  public:
    Status init(const ImportOptions &opt) {
        for (const auto &item : opt.baselines) {
            EM_ASSIGN_OR_RETURN(auto kv, key_number(item, "--baseline"));
            if (kv.first.empty())
                return Status::error("--baseline '" + item +
                                     "': name the task, e.g. --baseline arc_easy=0.25");
            std::string task = kv.first, metric;
            if (size_t c = task.rfind(':'); c != std::string::npos)
                metric = task.substr(c + 1), task = task.substr(0, c);
            EM_ASSIGN_OR_RETURN(std::regex re, regex_compile(task, "--baseline"));
            explicit_.push_back({re, metric, kv.second});
        }
        for (const auto &item : opt.choices) {
            EM_ASSIGN_OR_RETURN(auto kv, key_number(item, "--choices"));
            if (kv.first.empty() || !(kv.second >= 0) || kv.second != std::floor(kv.second))
                return Status::error("--choices '" + item +
                                     "': expected TASK=K with K a whole number of choices");
            EM_ASSIGN_OR_RETURN(std::regex re, regex_compile(kv.first, "--choices"));
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
                                             ": baseline must be a number or empty, got '" +
                                             b.text + "'; fix the value");
                    v = *x;
                }
                table_[{row[static_cast<size_t>(ct)].text, row[static_cast<size_t>(cm)].text}] = v;
            }
        }
        return Status::ok();
    }

    double get(const std::string &task, const std::string &metric,
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
            warnings.push_back(fmt::format(
                "task '{}' metric '{}': random-guess baseline unknown, so its plateau is "
                "estimated; pass --choices {}=K or --baseline {}:{}=V for a chance level",
                task, metric, task, task, metric));
        return metric_info(metric).proportion ? 0.0 : std::nan("");
    }

  private:
    struct Explicit {
        std::regex re;
        std::string metric;
        double value;
    };
    struct Choice {
        std::regex re;
        int k;
    };
    std::vector<Explicit> explicit_;
    std::vector<Choice> choices_;
    std::map<std::pair<std::string, std::string>, double> table_;
    std::set<std::pair<std::string, std::string>> warned_;
};

Result<std::map<std::pair<std::string, int64_t>, double>> loss_csv_read(const std::string &path) {
    EM_ASSIGN_OR_RETURN(CsvTable t, csv_read(path));
    int64_t cr = t.column_index("run"), cs = t.column_index("step"), cl = t.column_index("loss");
    if (cr < 0 || cs < 0 || cl < 0)
        return Status::error(path + ":1:1: needs columns run, step, loss; fix the header");
    std::map<std::pair<std::string, int64_t>, double> out;
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

// Adds n-weighted means of matching tasks, drops filtered tasks, fills baselines.
Status points_finish(const ImportOptions &opt, BaselineResolver &bl, ImportResult &res) {
    std::vector<Point> kept;
    std::optional<std::regex> filter;
    if (!opt.task_filter.empty()) {
        EM_ASSIGN_OR_RETURN(std::regex re, regex_compile(opt.task_filter, "--tasks"));
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
        EM_ASSIGN_OR_RETURN(std::regex re, regex_compile(item.substr(eq + 1), "--aggregate"));
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

std::string metric_name(const std::string &key) {
    // "acc,none" -> acc; "exact_match,strict-match" -> exact_match_strict-match.
    size_t c = key.find(',');
    if (c == std::string::npos) return key;
    std::string metric = key.substr(0, c), filter = key.substr(c + 1);
    if (filter == "none" || filter.empty()) return metric;
    return metric + "_" + filter;
}

// Position of `"key"` in the text after `from` (heuristic for structural complaints).
size_t key_offset(const std::string &text, const std::string &key, size_t from = 0) {
    size_t at = text.find("\"" + key + "\"", from);
    return at == std::string::npos ? from : at;
}

}  // namespace

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

Result<ImportResult> import_lm_eval(const ImportOptions &opt, const LmEvalOptions &lm) {
    EM_ASSIGN_OR_RETURN(std::vector<Source> sources, sources_find(opt));
    RunResolver runs;
    EM_TRY(runs.init(opt));
    BaselineResolver bl;
    EM_TRY(bl.init(opt));
    std::map<std::pair<std::string, int64_t>, double> losses;
    if (!opt.loss_csv.empty()) {
        EM_ASSIGN_OR_RETURN(losses, loss_csv_read(opt.loss_csv));
    } else if (lm.loss_from.empty()) {
        return Status::error(
            "import lm-eval: no loss; pass --loss-csv FILE (run,step,loss) or --loss-from "
            "TASK:METRIC "
            "(e.g. lambada_openai:ppl)");
    }
    std::string loss_task, loss_metric;
    if (!lm.loss_from.empty()) {
        size_t c = lm.loss_from.rfind(':');
        if (c == std::string::npos || c == 0 || c + 1 == lm.loss_from.size())
            return Status::error("--loss-from '" + lm.loss_from +
                                 "': expected TASK:METRIC, e.g. lambada_openai:ppl");
        loss_task = lm.loss_from.substr(0, c), loss_metric = lm.loss_from.substr(c + 1);
    }
    if (!(opt.tokens_per_step > 0))
        return Status::error(
            "import lm-eval: pass --tokens-per-step T (tokens per optimizer step) so that "
            "tokens_seen = "
            "step x T");

    ImportResult res;
    for (const Source &s : sources) {
        EM_ASSIGN_OR_RETURN(std::string text, file_read(s.path));
        EM_ASSIGN_OR_RETURN(
            json j, json_parse_located(text, s.path, "fix the file or regenerate it with lm-eval"));
        if (!j.is_object() || !j.contains("results") || !j["results"].is_object())
            return Status::error(
                s.path + ":1:1: no \"results\" object; pass lm-evaluation-harness results files");
        EM_ASSIGN_OR_RETURN(std::string run, runs.run_name(s, ""));
        if (!s.fields.count("step"))
            return Status::error(
                s.path + ": no step; put {step} in --pattern, e.g. '{run}/step{step}.json'");
        EM_ASSIGN_OR_RETURN(int64_t step, field_integer(s, "step"));
        double params = 0, tokens = 0;
        EM_TRY(runs.resolve(s, run, params, tokens));
        const json &results = j["results"];
        const json *nsamples =
            j.contains("n-samples") && j["n-samples"].is_object() ? &j["n-samples"] : nullptr;

        double loss = std::nan("");
        if (!loss_task.empty()) {
            auto t = results.find(loss_task);
            if (t == results.end() || !t->is_object())
                return Status::error(fmt::format(
                    "{}: no task '{}' in results for --loss-from; choose another task or pass "
                    "--loss-csv",
                    text_position(text, key_offset(text, "results"), s.path), loss_task));
            for (auto it = t->begin(); it != t->end(); ++it)
                if (metric_name(it.key()) == loss_metric && it.value().is_number())
                    loss = it.value().get<double>();
            if (std::isnan(loss))
                return Status::error(fmt::format(
                    "{}: task '{}' has no numeric metric '{}' for --loss-from; pick one of "
                    "its metrics",
                    text_position(text, key_offset(text, loss_task), s.path), loss_task,
                    loss_metric));
            if (loss_metric.find("ppl") != std::string::npos ||
                loss_metric.find("perplexity") != std::string::npos) {
                if (!(loss > 0))
                    return Status::error(fmt::format(
                        "{}: perplexity {} is not positive; fix the file",
                        text_position(text, key_offset(text, loss_task), s.path), loss));
                loss = std::log(loss);
            }
        } else {
            auto it = losses.find({run, step});
            if (it == losses.end())
                return Status::error(
                    fmt::format("{}: no loss for run '{}' step {}; add the row to {}", s.path, run,
                                step, opt.loss_csv));
            loss = it->second;
        }
        if (!(loss > 0) || !std::isfinite(loss))
            return Status::error(fmt::format(
                "{}: loss {} of run '{}' step {} is not a positive number; fix the source", s.path,
                loss, run, step));
        for (auto t = results.begin(); t != results.end(); ++t) {
            if (!t.value().is_object())
                return Status::error(
                    fmt::format("{}: results entry '{}' is not an object; fix the file",
                                text_position(text, key_offset(text, t.key()), s.path), t.key()));
            int64_t n_samples = 0;
            if (nsamples && nsamples->contains(t.key())) {
                const json &ns = (*nsamples)[t.key()];
                if (ns.is_object() && ns.contains("effective") &&
                    ns["effective"].is_number_integer())
                    n_samples = ns["effective"].get<int64_t>();
            }
            for (auto m = t.value().begin(); m != t.value().end(); ++m) {
                const std::string &key = m.key();
                if (key == "alias" || key.find("_stderr") != std::string::npos) continue;
                if (!m.value().is_number()) continue;  // e.g. "N/A" for metrics without a value
                std::string metric = metric_name(key);
                if (t.key() == loss_task && metric == loss_metric) continue;  // the loss itself
                double v = m.value().get<double>();
                if (!std::isfinite(v)) continue;
                Point p;
                p.run = run, p.params = params, p.tokens = tokens, p.step = step;
                p.tokens_seen = static_cast<double>(step) * opt.tokens_per_step;
                p.loss = loss, p.task = t.key(), p.metric = metric, p.value = v, p.n = n_samples;
                if (p.n == 0 && lm.n_from_stderr && metric_info(metric).proportion && v > 0 &&
                    v < 1) {
                    // lm-eval's stderr of a 0/1 mean is sqrt(p(1-p)/(n-1)).
                    std::string se_key =
                        key.find(',') == std::string::npos
                            ? key + "_stderr"
                            : key.substr(0, key.find(',')) + "_stderr" + key.substr(key.find(','));
                    if (t.value().contains(se_key) && t.value()[se_key].is_number()) {
                        double se = t.value()[se_key].get<double>();
                        if (se > 0)
                            p.n = static_cast<int64_t>(std::llround(v * (1 - v) / (se * se) + 1));
                    }
                }
                res.points.push_back(std::move(p));
            }
        }
        res.files += 1;
    }
    if (lm.n_from_stderr) {
        // A score of exactly 0 or 1 says nothing of n through its stderr; the task's item count is
        // the same at every checkpoint, so such a point takes the count its other points give.
        std::map<std::pair<std::string, std::string>, std::map<int64_t, int64_t>> seen_n;
        for (const Point &p : res.points)
            if (p.n > 0 && metric_info(p.metric).proportion) ++seen_n[{p.task, p.metric}][p.n];
        for (Point &p : res.points) {
            if (p.n > 0 || !metric_info(p.metric).proportion) continue;
            auto it = seen_n.find({p.task, p.metric});
            if (it == seen_n.end()) continue;
            p.n = std::max_element(it->second.begin(), it->second.end(), [](auto &a, auto &b) {
                      return a.second < b.second;
                  })->first;
        }
    }
    EM_TRY(points_finish(opt, bl, res));
    return res;
}

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
        EM_ASSIGN_OR_RETURN(std::regex re, regex_compile(t, "--task-columns"));
        if (re.mark_count() < 1)
            return Status::error(
                "--task-columns '" + t +
                "': needs a capture group for the task name, e.g. 'eval/(.*)_acc'");
        task_res.push_back(re);
    }
    EM_ASSIGN_OR_RETURN(std::vector<Source> sources, sources_find(opt));
    RunResolver runs;
    EM_TRY(runs.init(opt));
    BaselineResolver bl;
    EM_TRY(bl.init(opt));

    ImportResult res;
    std::map<std::pair<std::string, int64_t>, std::string> seen;  // checkpoint -> first place
    int64_t skipped_rows = 0;
    for (const Source &s : sources) {
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
        std::string stem = fs::path(s.path).stem().string();
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
            Source rs = s;
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
    EM_TRY(points_finish(opt, bl, res));
    return res;
}

}  // namespace em
