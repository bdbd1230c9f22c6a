// Task loading: strict TOML spec, JSONL documents, templates, few-shot contexts; see task.h.
#include "eval/task.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "common/fileio.h"
#include "common/jsonl.h"
#include "common/rng.h"
#include "common/toml_util.h"

namespace em {
namespace fs = std::filesystem;

const char *output_type_name(OutputType t) {
    switch (t) {
        case OutputType::multiple_choice:
            return "multiple_choice";
        case OutputType::loglikelihood:
            return "loglikelihood";
        case OutputType::loglikelihood_rolling:
            return "loglikelihood_rolling";
        case OutputType::generate_until:
            return "generate_until";
    }
    return "?";
}

std::vector<std::string> task_default_metrics(OutputType t) {
    switch (t) {
        case OutputType::multiple_choice:
            return {"acc", "acc_norm",     "brier_score", "correct_choice_prob",
                    "nll", "bits_per_byte"};
        case OutputType::loglikelihood:
            return {"acc", "nll", "bits_per_byte"};
        case OutputType::loglikelihood_rolling:
            return {"bits_per_byte", "byte_perplexity", "word_perplexity", "nll"};
        case OutputType::generate_until:
            return {"exact_match", "token_edit_distance"};
    }
    return {};
}

bool metric_higher_is_better(const std::string &m) {
    return m == "acc" || m == "acc_norm" || m == "correct_choice_prob" || m == "exact_match";
}

namespace {

// Follows a dotted path ("a.b.0") into a document; null when a step is missing.
const nlohmann::json *json_path(const nlohmann::json &doc, const std::string &path) {
    const nlohmann::json *cur = &doc;
    size_t p = 0;
    while (p <= path.size()) {
        size_t e = path.find('.', p);
        if (e == std::string::npos) e = path.size();
        std::string seg = path.substr(p, e - p);
        if (cur->is_object()) {
            auto it = cur->find(seg);
            if (it == cur->end()) return nullptr;
            cur = &*it;
        } else if (cur->is_array() && !seg.empty() &&
                   std::all_of(seg.begin(), seg.end(),
                               [](char c) { return c >= '0' && c <= '9'; })) {
            if (seg.size() > 9) return nullptr;  // no document holds that many items
            size_t i = std::stoul(seg);
            if (i >= cur->size()) return nullptr;
            cur = &(*cur)[i];
        } else {
            return nullptr;
        }
        p = e + 1;
    }
    return cur;
}

// The field name of a template that is exactly one placeholder ("{{ answer }}"), else "".
std::string sole_placeholder(const std::string &tmpl) {
    if (tmpl.size() < 4 || tmpl.compare(0, 2, "{{") != 0 ||
        tmpl.compare(tmpl.size() - 2, 2, "}}") != 0)
        return "";
    std::string inner = tmpl.substr(2, tmpl.size() - 4);
    if (inner.find("{{") != std::string::npos || inner.find("}}") != std::string::npos) return "";
    size_t a = inner.find_first_not_of(' '), b = inner.find_last_not_of(' ');
    return a == std::string::npos ? "" : inner.substr(a, b - a + 1);
}

Result<std::string> scalar_text(const nlohmann::json &v, const std::string &field,
                                const std::string &where) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_integer() || v.is_number_unsigned() || v.is_number_float() || v.is_boolean())
        return v.dump();
    return Status::error(where + ": field '" + field + "' is " +
                         (v.is_null()    ? "null"
                          : v.is_array() ? "a list"
                                         : "an object") +
                         " where text is expected (give it a string or a number)");
}

Status read_lines_docs(const std::string &path, std::vector<nlohmann::json> &docs,
                       std::vector<int64_t> &lines) {
    EM_ASSIGN_OR_RETURN(std::string text, file_read(path));
    JsonlReader r;
    r.open_text(path, std::move(text), "one JSON object per line, like {\"question\": ...}");
    nlohmann::json j;
    for (;;) {
        EM_ASSIGN_OR_RETURN(bool more, r.next(j));
        if (!more) return Status::ok();
        docs.push_back(std::move(j));
        lines.push_back(r.line());
    }
}

// Text shown inside a one-line message: line breaks and tabs written as escapes.
std::string escaped(const std::string &s) {
    std::string out;
    for (char c : s) {
        if (c == '\n')
            out += "\\n";
        else if (c == '\t')
            out += "\\t";
        else if (c == '\r')
            out += "\\r";
        else
            out.push_back(c);
    }
    return out;
}

// A document's rendered pieces, before few-shot examples are added.
struct Rendered {
    std::string text;
    std::vector<std::string> choices;
    int64_t gold = -1;
    std::string target;  // MC: the gold choice's text
};

Result<Rendered> doc_render(const TaskSpec &s, const nlohmann::json &doc,
                            const std::string &where) {
    Rendered r;
    auto in_template = [&](const std::string &key, const std::string &tmpl) {
        return " (" + key + " \"" + escaped(tmpl) + "\" in " + s.spec_path + ")";
    };
    auto render = [&](const std::string &key, const std::string &tmpl) -> Result<std::string> {
        auto v = template_render(tmpl, doc, where);
        if (!v.is_ok()) return Status::error(v.status().message() + in_template(key, tmpl));
        return v;
    };
    if (s.output_type != OutputType::loglikelihood_rolling) {
        EM_ASSIGN_OR_RETURN(r.text, render("doc_to_text", s.doc_to_text));
    }
    if (s.output_type != OutputType::multiple_choice) {
        EM_ASSIGN_OR_RETURN(r.target, render("doc_to_target", s.doc_to_target));
        return r;
    }
    // Choices.
    if (s.choice_list_field) {
        std::string field = sole_placeholder(s.doc_to_choice[0]);
        const nlohmann::json *v = json_path(doc, field);
        if (!v)
            return Status::error(where + ": field '" + field + "' is missing" +
                                 in_template("doc_to_choice", s.doc_to_choice[0]));
        if (!v->is_array())
            return Status::error(where + ": field '" + field +
                                 "' must be a list of choices like [\"a\", \"b\"]");
        for (const auto &c : *v) {
            EM_ASSIGN_OR_RETURN(std::string t, scalar_text(c, field, where));
            r.choices.push_back(std::move(t));
        }
    } else {
        for (const auto &t : s.doc_to_choice) {
            EM_ASSIGN_OR_RETURN(std::string c, render("doc_to_choice", t));
            r.choices.push_back(std::move(c));
        }
    }
    if (r.choices.size() < 2)
        return Status::error(where + ": " +
                             (r.choices.empty() ? std::string("the list of choices is empty")
                                                : std::string("only one choice")) +
                             " (a multiple-choice document needs at least 2 choices)");
    for (size_t i = 0; i < r.choices.size(); ++i)
        if (r.choices[i].empty())
            return Status::error(where + ": choice " + std::to_string(i) +
                                 " is empty (every choice needs text)");
    // Gold: an index, or the text of one of the choices.
    std::string field = sole_placeholder(s.doc_to_target);
    nlohmann::json gold;
    if (!field.empty()) {
        const nlohmann::json *v = json_path(doc, field);
        if (!v)
            return Status::error(where + ": field '" + field + "' is missing" +
                                 in_template("doc_to_target", s.doc_to_target));
        gold = *v;
    } else {
        EM_ASSIGN_OR_RETURN(std::string t, render("doc_to_target", s.doc_to_target));
        gold = t;
    }
    const int64_t K = static_cast<int64_t>(r.choices.size());
    if (gold.is_number_integer() || gold.is_number_unsigned()) {
        r.gold = gold.get<int64_t>();
    } else if (gold.is_string()) {
        // As lm-eval: a rendered target of digits is the gold index, else the choice it equals.
        const std::string g = gold.get<std::string>();
        auto it = std::find(r.choices.begin(), r.choices.end(), g);
        if (!g.empty() &&
            std::all_of(g.begin(), g.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
            g.size() < 10) {
            r.gold = std::stoll(g);
        } else if (it != r.choices.end()) {
            r.gold = it - r.choices.begin();
        } else {
            return Status::error(where + ": the target \"" + escaped(g) +
                                 "\" is not one of the choices (give the gold choice's index or "
                                 "its exact text)");
        }
    } else {
        return Status::error(where + ": the target must be a choice index or a choice's text");
    }
    if (r.gold < 0 || r.gold >= K)
        return Status::error(where + ": gold index " + std::to_string(r.gold) +
                             " is out of range for " + std::to_string(K) + " choices (use 0.." +
                             std::to_string(K - 1) + ")");
    r.target = r.choices[static_cast<size_t>(r.gold)];
    return r;
}

Result<OutputType> parse_output_type(const std::string &v, const std::string &where) {
    for (OutputType t : {OutputType::multiple_choice, OutputType::loglikelihood,
                         OutputType::loglikelihood_rolling, OutputType::generate_until})
        if (v == output_type_name(t)) return t;
    return Status::error(where + ": output_type \"" + v +
                         "\" is not one of multiple_choice, loglikelihood, loglikelihood_rolling, "
                         "generate_until");
}

nlohmann::json toml_to_json(const toml::node &n) {
    if (auto t = n.as_table()) {
        nlohmann::json j = nlohmann::json::object();
        for (const auto &[k, v] : *t) j[std::string(k.str())] = toml_to_json(v);
        return j;
    }
    if (auto a = n.as_array()) {
        nlohmann::json j = nlohmann::json::array();
        for (const auto &v : *a) j.push_back(toml_to_json(v));
        return j;
    }
    if (auto v = n.value_exact<std::string>()) return *v;
    if (auto v = n.value_exact<int64_t>()) return *v;
    if (auto v = n.value_exact<double>()) return *v;
    if (auto v = n.value_exact<bool>()) return *v;
    return nullptr;
}

Result<TaskSpec> spec_read(const std::string &path) {
    EM_ASSIGN_OR_RETURN(toml::table t, toml_parse_file(path));
    TaskSpec s;
    s.spec_path = path;
    s.name = fs::path(path).stem().string();
    TomlReader r(t, path);
    std::string type, filter = "none";  // lm-eval's default: take_first, no change
    int64_t seed = static_cast<int64_t>(s.fewshot_seed);
    bool until_set = t.contains("until");
    r.get("task", s.name);
    r.get("version", s.version);
    r.get("output_type", type);
    r.get("docs", s.docs_path);
    r.get("fewshot_docs", s.fewshot_path);
    r.get("description", s.description);
    r.get("doc_to_text", s.doc_to_text);
    r.get("doc_to_target", s.doc_to_target);
    r.get("target_delimiter", s.target_delimiter);
    r.get("fewshot_delimiter", s.fewshot_delimiter);
    r.get("num_fewshot", s.num_fewshot);
    r.get("fewshot_seed", seed);
    r.get("until", s.until);
    r.get("max_gen_toks", s.max_gen_toks);
    r.get("generation_filter", filter);
    r.get("metrics", s.metrics);
    r.known("doc_to_choice");
    r.known("baselines");
    r.known("metadata");
    EM_TRY(r.finish());
    s.fewshot_seed = static_cast<uint64_t>(seed);
    auto line_of = [&](const char *key) {
        const toml::node *n = t.get(key);
        return n && n->source().begin.line > 0 ? ", line " + std::to_string(n->source().begin.line)
                                               : std::string();
    };
    if (type.empty())
        return Status::error(path +
                             ": key 'output_type' is missing (multiple_choice, "
                             "loglikelihood, loglikelihood_rolling or generate_until)");
    EM_ASSIGN_OR_RETURN(s.output_type, parse_output_type(type, path + line_of("output_type")));
    if (s.docs_path.empty())
        return Status::error(path +
                             ": key 'docs' is missing (the JSONL file of documents, "
                             "relative to this file)");
    if (const toml::node *n = t.get("doc_to_choice")) {
        if (auto v = n->value_exact<std::string>()) {
            s.doc_to_choice = {*v};
            s.choice_list_field = true;
            if (sole_placeholder(*v).empty())
                return Status::error(path + line_of("doc_to_choice") +
                                     ": doc_to_choice must be one \"{{field}}\" naming a list, or "
                                     "an array of templates");
        } else if (auto a = n->as_array()) {
            for (const auto &e : *a) {
                auto v = e.value_exact<std::string>();
                if (!v)
                    return Status::error(path + line_of("doc_to_choice") +
                                         ": doc_to_choice must be an array of strings");
                s.doc_to_choice.push_back(*v);
            }
        } else {
            return Status::error(path + line_of("doc_to_choice") +
                                 ": doc_to_choice must be a string or an array of strings");
        }
    }
    auto need = [&](const std::string &, const char *key) -> Status {
        if (t.contains(key)) return Status::ok();
        return Status::error(path + ": key '" + key + "' is missing (required for output_type " +
                             type + ")");
    };
    if (s.output_type != OutputType::loglikelihood_rolling)
        EM_TRY(need(s.doc_to_text, "doc_to_text"));
    EM_TRY(need(s.doc_to_target, "doc_to_target"));
    if (s.output_type == OutputType::multiple_choice && s.doc_to_choice.empty())
        return Status::error(path +
                             ": key 'doc_to_choice' is missing (required for "
                             "multiple_choice)");
    if (s.num_fewshot < 0)
        return Status::error(path + line_of("num_fewshot") + ": num_fewshot must be >= 0");
    if (s.max_gen_toks < 1)
        return Status::error(path + line_of("max_gen_toks") + ": max_gen_toks must be >= 1");
    if (filter == "none")
        s.gen_filter = GenFilter::none;
    else if (filter == "strip")
        s.gen_filter = GenFilter::strip;
    else if (filter == "first_line")
        s.gen_filter = GenFilter::first_line;
    else
        return Status::error(path + line_of("generation_filter") + ": generation_filter \"" +
                             filter + "\" is not one of none, strip, first_line");
    if (!until_set) s.until = {s.fewshot_delimiter};
    for (const auto &u : s.until)
        if (u.empty())
            return Status::error(path + line_of("until") + ": an empty stop string in 'until'");
    const auto allowed = task_default_metrics(s.output_type);
    if (s.metrics.empty()) s.metrics = allowed;
    for (const auto &m : s.metrics)
        if (std::find(allowed.begin(), allowed.end(), m) == allowed.end()) {
            std::string list;
            for (const auto &a : allowed) list += (list.empty() ? "" : ", ") + a;
            return Status::error(path + line_of("metrics") + ": metric '" + m +
                                 "' is not available for " + type + " (choose from " + list + ")");
        }
    if (const toml::node *n = t.get("baselines")) {
        const toml::table *bt = n->as_table();
        if (!bt)
            return Status::error(path + line_of("baselines") +
                                 ": 'baselines' must be a table of metric = value");
        for (const auto &[k, v] : *bt) {
            std::string m(k.str());
            auto d = v.value<double>();
            if (!d || std::find(allowed.begin(), allowed.end(), m) == allowed.end())
                return Status::error(path + ", line " + std::to_string(k.source().begin.line) +
                                     ": baselines." + m +
                                     " must name a metric of this task and be a number");
            s.baselines[m] = *d;
        }
    }
    if (const toml::node *n = t.get("metadata")) {
        if (!n->as_table())
            return Status::error(path + line_of("metadata") + ": 'metadata' must be a table");
        s.metadata = toml_to_json(*n);
    }
    return s;
}

// The few-shot prefix of document `doc_id`: examples drawn without replacement from `pool` by a
// generator seeded from (seed, doc_id), so a document's context does not depend on --limit or on
// the order documents are scored in.
std::string fewshot_prefix(const TaskSpec &s, const std::vector<Rendered> &pool, bool same_split,
                           int64_t doc_id) {
    if (s.num_fewshot == 0) return "";
    Rng rng(s.fewshot_seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(doc_id));
    std::vector<int64_t> picked;
    while (static_cast<int64_t>(picked.size()) < s.num_fewshot) {
        int64_t i = static_cast<int64_t>(rng.below(pool.size()));
        if (same_split && i == doc_id) continue;
        if (std::find(picked.begin(), picked.end(), i) != picked.end()) continue;
        picked.push_back(i);
    }
    // As lm-eval: each example is its text, then (when its target is not empty) the target
    // delimiter, the target and the few-shot delimiter.
    std::string out;
    for (int64_t i : picked) {
        const Rendered &e = pool[static_cast<size_t>(i)];
        out += e.text;
        if (!e.target.empty()) out += s.target_delimiter + e.target + s.fewshot_delimiter;
    }
    return out;
}

std::string relative_to(const std::string &spec_path, const std::string &p) {
    if (fs::path(p).is_absolute()) return p;
    return (fs::path(spec_path).parent_path() / p).string();
}

}  // namespace

Result<std::string> template_render(const std::string &tmpl, const nlohmann::json &doc,
                                    const std::string &where) {
    std::string out;
    size_t p = 0;
    while (p < tmpl.size()) {
        size_t a = tmpl.find("{{", p);
        if (a == std::string::npos) {
            out.append(tmpl, p, std::string::npos);
            break;
        }
        size_t b = tmpl.find("}}", a + 2);
        if (b == std::string::npos)
            return Status::error(where + ": unclosed \"{{\" in template \"" + escaped(tmpl) + "\"");
        out.append(tmpl, p, a - p);
        std::string field = tmpl.substr(a + 2, b - a - 2);
        size_t f0 = field.find_first_not_of(' '), f1 = field.find_last_not_of(' ');
        field = f0 == std::string::npos ? "" : field.substr(f0, f1 - f0 + 1);
        if (field.empty()) return Status::error(where + ": empty \"{{}}\" in template");
        const nlohmann::json *v = json_path(doc, field);
        if (!v) return Status::error(where + ": field '" + field + "' is missing");
        EM_ASSIGN_OR_RETURN(std::string text, scalar_text(*v, field, where));
        out += text;
        p = b + 2;
    }
    return out;
}

Result<Task> task_load(const std::string &spec_path) {
    Task task;
    EM_ASSIGN_OR_RETURN(task.spec, spec_read(spec_path));
    const TaskSpec &s = task.spec;
    const std::string docs_file = relative_to(spec_path, s.docs_path);
    if (!file_exists(docs_file))
        return Status::error(spec_path + ": documents file " + docs_file +
                             " not found (key 'docs' is relative to the spec's folder)");
    std::vector<int64_t> lines;
    EM_TRY(read_lines_docs(docs_file, task.docs, lines));
    if (task.docs.empty()) return Status::error(docs_file + ": no documents (the file is empty)");
    std::vector<Rendered> rendered;
    rendered.reserve(task.docs.size());
    for (size_t i = 0; i < task.docs.size(); ++i) {
        EM_ASSIGN_OR_RETURN(
            Rendered r, doc_render(s, task.docs[i], docs_file + ":" + std::to_string(lines[i])));
        rendered.push_back(std::move(r));
    }
    // Few-shot pool: its own file, or the evaluated documents themselves (never the document
    // being asked about).
    std::vector<Rendered> pool_own;
    bool same_split = s.fewshot_path.empty();
    if (s.num_fewshot > 0 && !same_split) {
        const std::string few_file = relative_to(spec_path, s.fewshot_path);
        if (!file_exists(few_file))
            return Status::error(spec_path + ": few-shot file " + few_file + " not found");
        std::vector<nlohmann::json> fdocs;
        std::vector<int64_t> flines;
        EM_TRY(read_lines_docs(few_file, fdocs, flines));
        for (size_t i = 0; i < fdocs.size(); ++i) {
            EM_ASSIGN_OR_RETURN(
                Rendered r, doc_render(s, fdocs[i], few_file + ":" + std::to_string(flines[i])));
            pool_own.push_back(std::move(r));
        }
    }
    const std::vector<Rendered> &pool = same_split ? rendered : pool_own;
    int64_t avail = static_cast<int64_t>(pool.size()) - (same_split ? 1 : 0);
    if (s.num_fewshot > avail)
        return Status::error(spec_path + ": num_fewshot " + std::to_string(s.num_fewshot) +
                             " needs more few-shot documents than the " +
                             std::to_string(std::max<int64_t>(avail, 0)) + " available");
    task.instances.reserve(rendered.size());
    for (size_t i = 0; i < rendered.size(); ++i) {
        Rendered &r = rendered[i];
        TaskInstance in;
        in.doc_id = static_cast<int64_t>(i);
        in.line = lines[i];
        if (s.output_type == OutputType::loglikelihood_rolling) {
            in.target = r.target;
        } else {
            // The description is a template too (lm-eval renders it with the document).
            auto desc = template_render(s.description, task.docs[i],
                                        docs_file + ":" + std::to_string(lines[i]));
            if (!desc.is_ok())
                return Status::error(desc.status().message() + " (description in " + spec_path +
                                     ")");
            in.context = *desc + fewshot_prefix(s, pool, same_split, in.doc_id) + r.text;
            in.choices = r.choices;
            in.gold = r.gold;
            in.target = r.target;
        }
        task.instances.push_back(std::move(in));
    }
    return task;
}

Result<std::vector<Task>> tasks_load(const std::string &path) {
    std::vector<Task> out;
    if (!fs::exists(path))
        return Status::error(path +
                             ": no such task file or directory (run `emergence tasks "
                             "build --out DIR` for the built-in suite)");
    if (fs::is_directory(path)) {
        std::vector<std::string> specs;
        for (const auto &e : fs::directory_iterator(path))
            if (e.is_regular_file() && e.path().extension() == ".toml")
                specs.push_back(e.path().string());
        std::sort(specs.begin(), specs.end());
        if (specs.empty())
            return Status::error(path + ": no task specs (*.toml) in this directory");
        for (const auto &sp : specs) {
            EM_ASSIGN_OR_RETURN(Task t, task_load(sp));
            out.push_back(std::move(t));
        }
        return out;
    }
    EM_ASSIGN_OR_RETURN(Task t, task_load(path));
    out.push_back(std::move(t));
    return out;
}

Result<std::vector<Task>> tasks_load(const std::vector<std::string> &paths) {
    std::vector<Task> out;
    std::set<std::string> names;
    for (const auto &p : paths) {
        EM_ASSIGN_OR_RETURN(std::vector<Task> ts, tasks_load(p));
        for (auto &t : ts) {
            if (!names.insert(t.spec.name).second)
                return Status::error(t.spec.spec_path + ": task name '" + t.spec.name +
                                     "' is used twice (set a distinct `task = \"...\"`)");
            out.push_back(std::move(t));
        }
    }
    return out;
}

nlohmann::json task_spec_to_json(const TaskSpec &s) {
    nlohmann::json j = {
        {"task", s.name},
        {"output_type", output_type_name(s.output_type)},
        {"test_split", s.docs_path},
        {"description", s.description},
        {"doc_to_text", s.doc_to_text},
        {"doc_to_target", s.doc_to_target},
        {"target_delimiter", s.target_delimiter},
        {"fewshot_delimiter", s.fewshot_delimiter},
        {"num_fewshot", s.num_fewshot},
        {"metric_list", nlohmann::json::array()},
        {"metadata", s.metadata},
    };
    j["metadata"]["version"] = s.version;
    if (!s.fewshot_path.empty()) j["fewshot_split"] = s.fewshot_path;
    if (s.num_fewshot > 0)
        j["fewshot_config"] = {{"sampler", "seeded_per_document"}, {"seed", s.fewshot_seed}};
    if (s.output_type == OutputType::multiple_choice)
        j["doc_to_choice"] = s.choice_list_field ? nlohmann::json(s.doc_to_choice[0])
                                                 : nlohmann::json(s.doc_to_choice);
    if (s.output_type == OutputType::generate_until) {
        j["generation_kwargs"] = {
            {"until", s.until}, {"max_gen_toks", s.max_gen_toks}, {"do_sample", false}};
        j["filter_list"] = {
            {{"name", "none"},
             {"filter",
              {{{"function", s.gen_filter == GenFilter::none    ? "none"
                             : s.gen_filter == GenFilter::strip ? "strip"
                                                                : "first_line"}}}}}};
    }
    for (const auto &m : s.metrics)
        j["metric_list"].push_back(
            {{"metric", m},
             {"aggregation", m == "bits_per_byte" || m == "brier_score" ? m
                             : m == "byte_perplexity" || m == "word_perplexity"
                                 ? "weighted_perplexity"
                                 : "mean"},
             {"higher_is_better", metric_higher_is_better(m)}});
    return j;
}

}  // namespace em
