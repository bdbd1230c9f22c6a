// Task evaluation: documents -> requests -> scores -> metrics, results and samples files; see
// eval.h. Both built-in/user tasks and rescored lm-eval samples go through the same core: a list
// of items (one per document) holding the exact strings to score.
#include "eval/eval.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>

#include "common/fileio.h"
#include "common/jsonl.h"
#include "eval/metrics.h"

namespace em {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// One document's requests, whatever produced them.
struct Item {
    int64_t doc_id = 0;
    nlohmann::json doc, target_json;
    // Log-likelihood kinds: (context, continuation) pairs; multiple choice has one per choice.
    std::vector<std::pair<std::string, std::string>> pairs;
    std::vector<std::string> choices;  // multiple choice: texts for acc_norm
    int64_t gold = -1;
    std::string context, target;  // generation: prompt and expected text; rolling: target = text
    std::vector<std::string> until;
    int64_t max_gen_toks = 32;
};

std::string fmt_ll(double v) {
    return nlohmann::json(v).dump();
}

// Per-document metric samples and their baselines, turned into aggregates at the end.
class Collector {
  public:
    void mean(const std::string &m, double v, double base) {
        num_[m].push_back(v);
        base_num_[m].push_back(base);
    }
    void ratio(const std::string &m, double num, double den, double base_num) {
        num_[m].push_back(num);
        den_[m].push_back(den);
        base_num_[m].push_back(base_num);
    }
    MetricResult finish(const std::string &m, const TaskSpec &spec) const {
        MetricResult r;
        r.name = m;
        r.higher_is_better = metric_higher_is_better(m);
        auto it = num_.find(m);
        if (it == num_.end()) {
            r.value = r.std_err = r.baseline = kNaN;
            return r;
        }
        auto d = den_.find(m);
        MetricValue v, b;
        if (d == den_.end()) {
            v = aggregate_mean(it->second);
            b = aggregate_mean(base_num_.at(m));
        } else {
            v = aggregate_ratio(it->second, d->second);
            b = aggregate_ratio(base_num_.at(m), d->second);
        }
        // Ratios of nats per byte become bits per byte or a perplexity.
        if (m == "bits_per_byte") {
            v.value /= std::log(2.0), v.std_err /= std::log(2.0), b.value /= std::log(2.0);
        } else if (m == "byte_perplexity" || m == "word_perplexity") {
            v.value = std::exp(v.value), v.std_err *= v.value, b.value = std::exp(b.value);
        }
        r.value = v.value;
        r.std_err = v.std_err;
        r.baseline = b.value;
        if (auto o = spec.baselines.find(m); o != spec.baselines.end()) r.baseline = o->second;
        return r;
    }

  private:
    std::map<std::string, std::vector<double>> num_, den_, base_num_;
};

std::string filter_apply(GenFilter f, const std::string &s) {
    if (f == GenFilter::none) return s;
    auto strip = [](const std::string &t) {
        size_t a = t.find_first_not_of(" \t\n\r\f\v");
        if (a == std::string::npos) return std::string();
        size_t b = t.find_last_not_of(" \t\n\r\f\v");
        return t.substr(a, b - a + 1);
    };
    if (f == GenFilter::strip) return strip(s);
    std::string t = strip(s);
    return t.substr(0, t.find('\n'));
}

}  // namespace

bool generation_matches(GenFilter filter, const std::string &generation,
                        const std::string &target) {
    return filter_apply(filter, generation) == target;
}

namespace {

nlohmann::json args_json(const std::vector<std::pair<std::string, std::string>> &pairs) {
    nlohmann::json a = nlohmann::json::object();
    for (size_t k = 0; k < pairs.size(); ++k)
        a["gen_args_" + std::to_string(k)] = {{"arg_0", pairs[k].first},
                                              {"arg_1", pairs[k].second}};
    return a;
}

Status score_loglik_items(const Model &model, const Tokenizer &tok, const TaskSpec &spec,
                          std::vector<Item> &items, const EvalOptions &opt, TaskResult &res) {
    // One request per distinct context of a document (normally one: the choices share it).
    std::vector<LoglikRequest> reqs;
    std::vector<std::vector<std::pair<size_t, size_t>>> where(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
        std::map<std::string, size_t> by_ctx;
        for (const auto &[ctx, cont] : items[i].pairs) {
            auto [it, fresh] = by_ctx.try_emplace(ctx, reqs.size());
            if (fresh) reqs.push_back({ctx, {}});
            where[i].push_back({it->second, reqs[it->second].continuations.size()});
            reqs[it->second].continuations.push_back(cont);
        }
    }
    EM_ASSIGN_OR_RETURN(std::vector<LoglikResult> out,
                        score_loglikelihood(model, tok, reqs, opt.score));
    const double lnV = std::log(static_cast<double>(model.config().vocab_size));
    const bool mc = spec.output_type == OutputType::multiple_choice;
    Collector col;
    for (size_t i = 0; i < items.size(); ++i) {
        Item &it = items[i];
        const size_t K = it.pairs.size();
        std::vector<double> ll(K);
        std::vector<bool> greedy(K);
        std::vector<int64_t> ntok(K);
        nlohmann::json resps = nlohmann::json::array(), filtered = nlohmann::json::array();
        for (size_t k = 0; k < K; ++k) {
            const auto [r, c] = where[i][k];
            ll[k] = out[r].ll[c];
            greedy[k] = out[r].greedy[c];
            ntok[k] = out[r].n_tokens[c];
            nlohmann::json pair = {fmt_ll(ll[k]), greedy[k] ? "True" : "False"};
            resps.push_back(nlohmann::json::array({pair}));
            filtered.push_back(pair);
        }
        nlohmann::json s = {{"doc_id", it.doc_id},      {"doc", it.doc},
                            {"target", it.target_json}, {"arguments", args_json(it.pairs)},
                            {"resps", resps},           {"filtered_resps", filtered},
                            {"filter", "none"},         {"metrics", spec.metrics}};
        const size_t g = mc ? static_cast<size_t>(it.gold) : 0;
        // The gold continuation as scored: the context's trailing whitespace joins it.
        const double bytes =
            static_cast<double>(trailing_whitespace(it.pairs[g].first) + it.pairs[g].second.size());
        const double nll = -ll[g], base_nll = static_cast<double>(ntok[g]) * lnV;
        if (mc) {
            ChoiceMetrics m = choice_metrics(ll, it.choices, it.gold);
            const double chance = 1.0 / static_cast<double>(K);
            col.mean("acc", m.acc, chance);
            col.mean("acc_norm", m.acc_norm, chance);
            col.mean("brier_score", m.brier_score, 1.0 - chance);
            col.mean("correct_choice_prob", m.correct_choice_prob, chance);
            s["acc"] = m.acc;
            s["acc_norm"] = m.acc_norm;
            s["brier_score"] = m.brier_score;
            s["correct_choice_prob"] = m.correct_choice_prob;
        } else {
            col.mean("acc", greedy[0] ? 1.0 : 0.0, kNaN);
            s["acc"] = greedy[0] ? 1.0 : 0.0;
        }
        col.mean("nll", nll, base_nll);
        col.ratio("bits_per_byte", nll, bytes, base_nll);
        s["nll"] = nll;
        s["bits_per_byte"] = bytes > 0 ? nll / bytes / std::log(2.0) : kNaN;
        if (opt.keep_samples) res.samples.push_back(std::move(s));
    }
    for (const auto &m : spec.metrics) res.metrics.push_back(col.finish(m, spec));
    return Status::ok();
}

Status score_rolling_items(const Model &model, const Tokenizer &tok, const TaskSpec &spec,
                           std::vector<Item> &items, const EvalOptions &opt, TaskResult &res) {
    std::vector<std::string> texts;
    for (const auto &it : items) texts.push_back(it.target);
    EM_ASSIGN_OR_RETURN(std::vector<RollingResult> out,
                        score_rolling(model, tok, texts, opt.score));
    const double lnV = std::log(static_cast<double>(model.config().vocab_size));
    Collector col;
    for (size_t i = 0; i < items.size(); ++i) {
        const double nll = -out[i].ll, base = static_cast<double>(out[i].n_tokens) * lnV;
        const double bytes = static_cast<double>(items[i].target.size());
        const double words = static_cast<double>(word_count(items[i].target));
        col.mean("nll", nll, base);
        col.ratio("bits_per_byte", nll, bytes, base);
        col.ratio("byte_perplexity", nll, bytes, base);
        col.ratio("word_perplexity", nll, words, base);
        if (!opt.keep_samples) continue;
        nlohmann::json s = {{"doc_id", items[i].doc_id},
                            {"doc", items[i].doc},
                            {"target", items[i].target_json},
                            {"arguments", {{"gen_args_0", {{"arg_0", items[i].target}}}}},
                            {"resps", {{fmt_ll(out[i].ll)}}},
                            {"filtered_resps", {fmt_ll(out[i].ll)}},
                            {"filter", "none"},
                            {"metrics", spec.metrics},
                            {"nll", nll},
                            {"bits_per_byte", bytes > 0 ? nll / bytes / std::log(2.0) : kNaN},
                            {"tokens", out[i].n_tokens},
                            {"bytes", bytes},
                            {"words", words}};
        res.samples.push_back(std::move(s));
    }
    for (const auto &m : spec.metrics) res.metrics.push_back(col.finish(m, spec));
    return Status::ok();
}

Status score_generation_items(const Model &model, const Tokenizer &tok, const TaskSpec &spec,
                              std::vector<Item> &items, const EvalOptions &opt, TaskResult &res) {
    std::vector<GenRequest> reqs;
    for (const auto &it : items) reqs.push_back({it.context, it.until, it.max_gen_toks});
    EM_ASSIGN_OR_RETURN(std::vector<GenResult> out, generate_greedy(model, tok, reqs, opt.score));
    Collector col;
    for (size_t i = 0; i < items.size(); ++i) {
        // exact_match as lm-eval: the filtered generation against the target as it is.
        // token_edit_distance (this project's) compares the two with whitespace stripped.
        const std::string got = filter_apply(spec.gen_filter, out[i].text);
        const std::string &want = items[i].target;
        std::vector<int> got_ids, want_ids;
        EM_TRY(tok.encode(filter_apply(GenFilter::strip, got), got_ids));
        EM_TRY(tok.encode(filter_apply(GenFilter::strip, want), want_ids));
        const double em = generation_matches(spec.gen_filter, out[i].text, want) ? 1.0 : 0.0;
        const double dist = static_cast<double>(token_edit_distance(got_ids, want_ids));
        col.mean("exact_match", em, 0.0);
        // An empty answer's distance: the target's length in tokens.
        col.mean("token_edit_distance", dist, static_cast<double>(want_ids.size()));
        if (!opt.keep_samples) continue;
        nlohmann::json gen_args = {{"until", items[i].until},
                                   {"max_gen_toks", items[i].max_gen_toks},
                                   {"do_sample", false}};
        nlohmann::json s = {
            {"doc_id", items[i].doc_id},
            {"doc", items[i].doc},
            {"target", items[i].target_json},
            {"arguments", {{"gen_args_0", {{"arg_0", items[i].context}, {"arg_1", gen_args}}}}},
            {"resps", {{out[i].text}}},
            {"filtered_resps", {got}},
            {"filter", "none"},
            {"metrics", spec.metrics},
            {"exact_match", em},
            {"token_edit_distance", dist}};
        res.samples.push_back(std::move(s));
    }
    for (const auto &m : spec.metrics) res.metrics.push_back(col.finish(m, spec));
    return Status::ok();
}

Status score_items(const Model &model, const Tokenizer &tok, const TaskSpec &spec,
                   std::vector<Item> &items, const EvalOptions &opt, TaskResult &res) {
    auto t0 = std::chrono::steady_clock::now();
    res.task = spec.name;
    res.spec = spec;
    res.n_evaluated = static_cast<int64_t>(items.size());
    Status st;
    switch (spec.output_type) {
        case OutputType::multiple_choice:
        case OutputType::loglikelihood:
            st = score_loglik_items(model, tok, spec, items, opt, res);
            break;
        case OutputType::loglikelihood_rolling:
            st = score_rolling_items(model, tok, spec, items, opt, res);
            break;
        case OutputType::generate_until:
            st = score_generation_items(model, tok, spec, items, opt, res);
            break;
    }
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return st.with_context(spec.name);
}

std::string fixed(double v, int prec) {
    if (std::isnan(v)) return "-";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", prec, v);
    return buf;
}

}  // namespace

const MetricResult *TaskResult::metric(const std::string &name) const {
    for (const auto &m : metrics)
        if (m.name == name) return &m;
    return nullptr;
}

Result<TaskResult> eval_task(const Model &model, const Tokenizer &tok, const Task &task,
                             const EvalOptions &opt) {
    const TaskSpec &s = task.spec;
    size_t n = task.instances.size();
    if (opt.limit > 0) n = std::min(n, static_cast<size_t>(opt.limit));
    std::vector<Item> items(n);
    for (size_t i = 0; i < n; ++i) {
        const TaskInstance &in = task.instances[i];
        Item &it = items[i];
        it.doc_id = in.doc_id;
        it.doc = task.docs[i];
        it.target = in.target;
        it.target_json = in.target;
        switch (s.output_type) {
            case OutputType::multiple_choice:
                for (const auto &c : in.choices)
                    it.pairs.push_back({in.context, s.target_delimiter + c});
                it.choices = in.choices;
                it.gold = in.gold;
                it.target_json = in.gold;
                break;
            case OutputType::loglikelihood:
                it.pairs.push_back({in.context, in.target});  // no delimiter, as lm-eval
                break;
            case OutputType::loglikelihood_rolling:
                break;
            case OutputType::generate_until:
                it.context = in.context;
                it.until = s.until;
                it.max_gen_toks = s.max_gen_toks;
                break;
        }
    }
    TaskResult res;
    res.n_docs = static_cast<int64_t>(task.instances.size());
    EM_TRY(score_items(model, tok, s, items, opt, res));
    return res;
}

Result<std::vector<TaskResult>> eval_checkpoint(const Model &model, const Tokenizer &tok,
                                                const std::vector<Task> &tasks,
                                                const EvalOptions &opt) {
    if (tok.vocab_size() > model.config().vocab_size)
        return Status::error("the tokenizer has " + std::to_string(tok.vocab_size()) +
                             " pieces but the model only " +
                             std::to_string(model.config().vocab_size) +
                             " (use the tokenizer the model was trained with)");
    std::vector<TaskResult> out;
    for (const auto &t : tasks) {
        EM_ASSIGN_OR_RETURN(TaskResult r, eval_task(model, tok, t, opt));
        out.push_back(std::move(r));
    }
    return out;
}

namespace {

nlohmann::json with_scoring(nlohmann::json config) {
    if (config.is_object()) config["scoring"] = kScoringVersion;
    return config;
}

}  // namespace

nlohmann::json eval_results_json(const TaskResult &r, const nlohmann::json &config) {
    nlohmann::json res = {{"alias", r.task}}, hib = nlohmann::json::object(),
                   base = nlohmann::json::object();
    for (const auto &m : r.metrics) {
        res[m.name + ",none"] = m.value;
        res[m.name + "_stderr,none"] =
            std::isnan(m.std_err) ? nlohmann::json("N/A") : nlohmann::json(m.std_err);
        hib[m.name] = m.higher_is_better;
        base[m.name] = m.baseline;
    }
    return {{"results", {{r.task, res}}},
            {"group_subtasks", {{r.task, nlohmann::json::array()}}},
            {"configs", {{r.task, task_spec_to_json(r.spec)}}},
            {"versions", {{r.task, r.spec.version}}},
            {"n-shot", {{r.task, r.spec.num_fewshot}}},
            {"higher_is_better", {{r.task, hib}}},
            {"n-samples", {{r.task, {{"original", r.n_docs}, {"effective", r.n_evaluated}}}}},
            {"baselines", {{r.task, base}}},
            {"config", with_scoring(config)},
            {"total_evaluation_time_seconds", std::to_string(r.seconds)}};
}

Status eval_write(const std::string &out_dir, const std::vector<TaskResult> &results,
                  const nlohmann::json &config) {
    EM_TRY(dir_create(out_dir));
    for (const auto &r : results) {
        // Samples first: a results file present means its samples are complete too.
        std::string lines;
        for (const auto &s : r.samples)
            lines += s.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
        EM_TRY(file_write_atomic(out_dir + "/samples_" + r.task + ".jsonl", lines));
        EM_TRY(file_write_atomic(out_dir + "/" + r.task + ".json",
                                 eval_results_json(r, config).dump(2) + "\n"));
    }
    return Status::ok();
}

std::string eval_table(const std::vector<TaskResult> &results) {
    size_t wt = 4, wm = 6;
    for (const auto &r : results) {
        wt = std::max(wt, r.task.size());
        for (const auto &m : r.metrics) wm = std::max(wm, m.name.size());
    }
    char buf[512];
    std::string out;
    std::snprintf(buf, sizeof buf, "%-*s  %-*s  %9s  %8s  %8s  %6s\n", static_cast<int>(wt), "task",
                  static_cast<int>(wm), "metric", "value", "± stderr", "chance", "n");
    out += buf;
    for (const auto &r : results)
        for (const auto &m : r.metrics) {
            std::snprintf(buf, sizeof buf, "%-*s  %-*s  %9s  %8s  %8s  %6lld\n",
                          static_cast<int>(wt), r.task.c_str(), static_cast<int>(wm),
                          m.name.c_str(), fixed(m.value, 4).c_str(), fixed(m.std_err, 4).c_str(),
                          fixed(m.baseline, 4).c_str(), static_cast<long long>(r.n_evaluated));
            out += buf;
        }
    return out;
}

Result<TaskResult> eval_lm_eval_samples(const Model &model, const Tokenizer &tok,
                                        const std::string &samples_path, const EvalOptions &opt) {
    EM_ASSIGN_OR_RETURN(std::string text, file_read(samples_path));
    TaskSpec spec;
    spec.spec_path = samples_path;
    spec.name = std::filesystem::path(samples_path).stem().string();
    if (spec.name.rfind("samples_", 0) == 0) spec.name = spec.name.substr(8);
    // lm-eval appends a timestamp: samples_<task>_2024-05-01T12-00-00.123.jsonl
    if (size_t u = spec.name.rfind('_');
        u != std::string::npos && u + 5 < spec.name.size() &&
        std::isdigit(static_cast<unsigned char>(spec.name[u + 1])) &&
        spec.name.find('T', u) != std::string::npos)
        spec.name = spec.name.substr(0, u);
    std::vector<Item> items;
    std::map<int64_t, bool> seen;
    int kind = -1;  // 0 log-likelihood pairs, 1 rolling, 2 generation
    JsonlReader reader;
    reader.open_text(samples_path, std::move(text), "write samples with lm_eval --log_samples");
    nlohmann::json j;
    for (;;) {
        EM_ASSIGN_OR_RETURN(bool more, reader.next(j));
        if (!more) break;
        const std::string where = reader.where();
        if (!j.contains("arguments") || !j.contains("doc_id"))
            return reader.error("not an lm-eval sample record: it needs doc_id and arguments");
        if (!j["doc_id"].is_number_integer()) return reader.error("doc_id must be an integer");
        const int64_t doc_id = j["doc_id"].get<int64_t>();
        if (seen.count(doc_id)) continue;  // the same document under another filter
        seen[doc_id] = true;
        // Arguments: {"gen_args_0": {"arg_0": ..., "arg_1": ...}, ...} or [[a0, a1], ...].
        std::vector<std::vector<nlohmann::json>> args;
        const nlohmann::json &a = j["arguments"];
        if (a.is_object()) {
            for (size_t k = 0; a.contains("gen_args_" + std::to_string(k)); ++k) {
                const nlohmann::json &g = a["gen_args_" + std::to_string(k)];
                std::vector<nlohmann::json> v;
                for (size_t q = 0; g.is_object() && g.contains("arg_" + std::to_string(q)); ++q)
                    v.push_back(g["arg_" + std::to_string(q)]);
                args.push_back(std::move(v));
            }
        } else if (a.is_array()) {
            for (const auto &g : a) {
                std::vector<nlohmann::json> v;
                if (g.is_array())
                    for (const auto &x : g) v.push_back(x);
                else
                    v.push_back(g);
                args.push_back(std::move(v));
            }
        }
        if (args.empty() || args[0].empty() || !args[0][0].is_string())
            return Status::error(where +
                                 ": 'arguments' holds no request (expected "
                                 "{\"gen_args_0\": {\"arg_0\": \"...\", ...}})");
        int this_kind = args[0].size() == 1      ? 1
                        : args[0][1].is_string() ? 0
                        : args[0][1].is_object() ? 2
                                                 : -1;
        if (this_kind < 0)
            return Status::error(where +
                                 ": arguments are neither (context, continuation) pairs, "
                                 "a text, nor (context, generation arguments)");
        if (kind >= 0 && kind != this_kind)
            return Status::error(where +
                                 ": this record's request kind differs from the earlier "
                                 "records' (one task per samples file)");
        kind = this_kind;
        Item it;
        it.doc_id = doc_id;
        it.doc = j.value("doc", nlohmann::json::object());
        it.target_json = j.value("target", nlohmann::json());
        if (kind == 0) {
            for (const auto &g : args) {
                if (g.size() < 2 || !g[0].is_string() || !g[1].is_string())
                    return Status::error(where + ": every argument pair must hold two strings");
                it.pairs.push_back({g[0].get<std::string>(), g[1].get<std::string>()});
                // The choice text for acc_norm: the continuation without lm-eval's default " ".
                std::string c = g[1].get<std::string>();
                it.choices.push_back(c.size() > 1 && c[0] == ' ' ? c.substr(1) : c);
            }
            if (it.pairs.size() >= 2) {
                const nlohmann::json &t = it.target_json;
                if (t.is_number_integer()) {
                    it.gold = t.get<int64_t>();
                } else if (t.is_string()) {
                    std::string ts = t.get<std::string>();
                    if (!ts.empty() && ts.size() < 10 &&
                        ts.find_first_not_of("0123456789") == std::string::npos)
                        it.gold = std::stoll(ts);
                    for (size_t k = 0; it.gold < 0 && k < it.choices.size(); ++k)
                        if (filter_apply(GenFilter::strip, it.choices[k]) ==
                            filter_apply(GenFilter::strip, ts))
                            it.gold = static_cast<int64_t>(k);
                }
                if (it.gold < 0 || it.gold >= static_cast<int64_t>(it.pairs.size()))
                    return Status::error(where + ": target " + t.dump() + " names none of the " +
                                         std::to_string(it.pairs.size()) + " choices");
            }
        } else if (kind == 1) {
            it.target = args[0][0].get<std::string>();
            spec.output_type = OutputType::loglikelihood_rolling;
        } else {
            it.context = args[0][0].get<std::string>();
            const nlohmann::json &ga = args[0][1];
            if (ga.contains("until")) {
                if (ga["until"].is_string())
                    it.until = {ga["until"].get<std::string>()};
                else if (ga["until"].is_array())
                    for (const auto &u : ga["until"])
                        if (u.is_string()) it.until.push_back(u.get<std::string>());
            }
            if (ga.contains("max_gen_toks") && !ga["max_gen_toks"].is_number_integer())
                return Status::error(where + ": max_gen_toks must be an integer");
            it.max_gen_toks = ga.value("max_gen_toks", int64_t{256});
            const nlohmann::json &t = it.target_json;
            it.target = t.is_string() ? t.get<std::string>() : t.is_null() ? "" : t.dump();
            spec.output_type = OutputType::generate_until;
        }
        items.push_back(std::move(it));
        if (opt.limit > 0 && static_cast<int64_t>(items.size()) >= opt.limit) break;
    }
    if (items.empty()) return Status::error(samples_path + ": no sample records");
    if (kind == 0) {
        // Several continuations per document make it multiple choice; then all must have them.
        bool multi = false;
        for (const auto &it : items) multi = multi || it.pairs.size() >= 2;
        spec.output_type = multi ? OutputType::multiple_choice : OutputType::loglikelihood;
        for (const auto &it : items)
            if (multi && it.pairs.size() < 2)
                return Status::error(samples_path + ": doc_id " + std::to_string(it.doc_id) +
                                     " has one continuation where others have several");
    }
    spec.metrics = task_default_metrics(spec.output_type);
    spec.metadata = {{"source", "lm-eval samples"}, {"path", samples_path}};
    TaskResult res;
    res.n_docs = static_cast<int64_t>(seen.size());
    EM_TRY(score_items(model, tok, spec, items, opt, res));
    return res;
}

}  // namespace em
