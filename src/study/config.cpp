// Study configuration and planning; see config.h.
#include "study/config.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "common/toml_util.h"
#include "tasks/suite.h"

namespace em {
namespace {

constexpr const char *kDocs = "docs/study.md";

// Run and size names become directory names and --runs globs: letters, digits, '_', '.', '-'.
bool is_plain_name(const std::string &s) {
    if (s.empty() || s[0] == '.' || s[0] == '-') return false;
    for (char ch : s)
        if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '.' && ch != '-')
            return false;
    return true;
}

// A `seeds` key, given at `where`: a non-empty list of distinct integers >= 1.
Status check_seeds(const std::vector<int64_t> &seeds, const std::string &where) {
    if (seeds.empty())
        return Status::error(where +
                             ": seeds is empty; list the replicate seeds (seeds = [1, 2, 3]) or "
                             "remove the key for one run per size and budget");
    for (size_t i = 0; i < seeds.size(); ++i) {
        if (seeds[i] < 1)
            return Status::error(where + ": seeds lists " + std::to_string(seeds[i]) +
                                 "; replicate seeds must be integers >= 1");
        for (size_t j = 0; j < i; ++j)
            if (seeds[j] == seeds[i])
                return Status::error(where + ": seeds lists " + std::to_string(seeds[i]) +
                                     " twice; list each replicate seed once");
    }
    return Status::ok();
}

Status read_model_keys(TomlReader &r, ModelConfig &m) {
    r.get("d_model", m.d_model);
    r.get("n_layers", m.n_layers);
    r.get("n_heads", m.n_heads);
    r.get("n_kv_heads", m.n_kv_heads);
    r.get("ffn_hidden", m.ffn_hidden);
    r.get("rope_theta", m.rope_theta);
    r.get("rope_fraction", m.rope_fraction);
    r.get("norm_eps", m.norm_eps);
    r.get("tie_embeddings", m.tie_embeddings);
    return Status::ok();
}

}  // namespace

std::string study_format_count(int64_t n) {
    char buf[32];
    auto fmt = [&](double v, const char *unit) {
        if (std::fabs(v - std::round(v)) < 1e-9)
            std::snprintf(buf, sizeof buf, "%.0f%s", v, unit);
        else
            std::snprintf(buf, sizeof buf, "%.3g%s", v, unit);
    };
    if (n >= 1'000'000'000)
        fmt(n / 1e9, "B");
    else if (n >= 1'000'000)
        fmt(n / 1e6, "M");
    else if (n >= 1000)
        fmt(n / 1e3, "k");
    else
        fmt(static_cast<double>(n), "");
    return buf;
}

ModelConfig study_shape_for_params(int64_t target, int64_t head_dim, int64_t aspect,
                                   const ModelConfig &base) {
    // Every (n_layers, d_model) with d_model a multiple of head_dim is a candidate; the cost is the
    // log-distance of its non-embedding count from the target plus a quarter of the log-distance
    // of its d_model / n_layers from `aspect`. Matching N comes first; the aspect settles shapes
    // of nearly equal size (tying d_model to aspect * n_layers alone leaves N in steps of 2-8x).
    ModelConfig best = base;
    double best_cost = 1e300;
    for (int64_t L = 1; L <= 48; ++L) {
        for (int64_t d = head_dim; d <= 64 * head_dim; d += head_dim) {
            ModelConfig m = base;
            m.d_model = d;
            m.n_layers = L;
            m.n_heads = d / head_dim;
            if (base.n_kv_heads > 0 && m.n_heads % base.n_kv_heads != 0) continue;
            if (m.n_kv_heads <= 0) m.n_kv_heads = m.n_heads;
            m.ffn_hidden = 0;
            const double n = static_cast<double>(model_param_counts(m).non_embedding);
            const double cost =
                std::fabs(std::log(n / static_cast<double>(target))) +
                0.25 *
                    std::fabs(std::log(static_cast<double>(d) / static_cast<double>(L * aspect)));
            if (cost < best_cost) {
                best_cost = cost;
                best = m;
            }
        }
    }
    return best;
}

Result<StudyConfig> study_config_load(const std::string &path) {
    EM_ASSIGN_OR_RETURN(toml::table root, toml_parse_file(path));
    StudyConfig c;
    c.path = path;
    int64_t seed = 1;
    TomlReader top(root, path, kDocs);
    top.get("name", c.name);
    top.get("seed", seed);
    top.get("seeds", c.seeds);
    top.get("threads", c.threads);
    for (const char *k : {"corpus", "tokenizer", "tasks", "train", "model", "checkpoint",
                          "analysis", "size", "parallel"})
        top.known(k);
    EM_TRY(top.finish());
    c.seed = static_cast<uint64_t>(seed);
    if (root.get("seeds")) EM_TRY(check_seeds(c.seeds, path));
    auto table = [&](const char *k) -> const toml::table * {
        const toml::node *n = root.get(k);
        return n ? n->as_table() : nullptr;
    };
    for (const char *k :
         {"corpus", "tokenizer", "tasks", "train", "model", "checkpoint", "analysis", "parallel"})
        if (root.get(k) && !table(k))
            return Status::error(path + ": '" + k + "' must be a table ([" + k + "])");
    if (auto *t = table("corpus")) {
        TomlReader r(*t, path + " [corpus]", kDocs);
        r.get("sources", c.corpus_sources);
        r.get("val_fraction", c.val_fraction);
        r.get("skills", c.skills);
        r.get("skills_bytes", c.skills_bytes);
        r.known("weights");
        EM_TRY(r.finish());
        if (const toml::node *w = t->get("weights")) {
            const toml::table *wt = w->as_table();
            if (!wt)
                return Status::error(path +
                                     " [corpus]: 'weights' must be a table of source = weight");
            for (const auto &[k, v] : *wt) {
                auto d = v.value<double>();
                if (!d || *d < 0)
                    return Status::error(path + " [corpus.weights]: weight of '" +
                                         std::string(k.str()) + "' must be a number >= 0");
                c.corpus_weights[std::string(k.str())] = *d;
            }
        }
    }
    if (auto *t = table("tokenizer")) {
        TomlReader r(*t, path + " [tokenizer]", kDocs);
        r.get("vocab_size", c.vocab_size);
        r.get("character_coverage", c.character_coverage);
        r.get("sample_bytes", c.tokenizer_sample_bytes);
        EM_TRY(r.finish());
    }
    if (auto *t = table("tasks")) {
        TomlReader r(*t, path + " [tasks]", kDocs);
        r.get("suite", c.tasks);
        r.get("names", c.task_names);
        r.get("limit", c.eval_limit);
        r.get("items", c.task_items);
        EM_TRY(r.finish());
    }
    ModelConfig base;
    base.rope_fraction = 0.5;  // as the paper's models
    base.n_kv_heads = 0;       // 0: as many key/value heads as query heads
    if (auto *t = table("model")) {
        TomlReader r(*t, path + " [model]", kDocs);
        EM_TRY(read_model_keys(r, base));
        EM_TRY(r.finish());
    }
    TrainConfig &tr = c.train;
    if (auto *t = table("train")) {
        TomlReader r(*t, path + " [train]", kDocs);
        if (t->get("tokens"))
            return Status::error(
                path + " [train]: 'tokens' is per run here: list the token budgets in 'budgets'");
        if (t->get("log_every"))
            return Status::error(path +
                                 " [train]: 'log_every' does not apply to a study (its progress "
                                 "line follows every step); remove it");
        train_keys_read(r, tr);
        if (t->get("branch_from") || t->get("branch_step"))
            return Status::error(path +
                                 " [train]: branch_from and branch_step are per run; a study "
                                 "branches its runs with schedule = \"wsd-branch\"");
        if (tr.schedule == "wsd-branch") {
            c.branched = true;
            tr.schedule = "wsd";
        }
        r.get("budgets", c.budgets);
        r.get("lr_rule", c.lr_rule);
        r.get("lr_rule_width", c.lr_rule_width);
        EM_TRY(r.finish());
        if (c.lr_rule != "constant" && c.lr_rule != "inverse_width")
            return Status::error(path + " [train]: lr_rule is '" + c.lr_rule +
                                 "'; use \"constant\" or \"inverse_width\"");
        if (c.lr_rule == "inverse_width" && c.lr_rule_width < 1)
            return Status::error(path +
                                 " [train]: lr_rule = \"inverse_width\" needs lr_rule_width, the "
                                 "d_model at which a size gets train.lr (e.g. 128)");
        if (c.lr_rule == "constant" && t->get("lr_rule_width"))
            return Status::error(path +
                                 " [train]: lr_rule_width applies only with lr_rule = "
                                 "\"inverse_width\"; remove it or set the rule");
    }
    if (auto *t = table("checkpoint")) {
        TomlReader r(*t, path + " [checkpoint]", kDocs);
        r.get("log", c.checkpoint_log);
        r.get("every_fraction", c.checkpoint_every_fraction);
        r.get("every_tokens", c.checkpoint_every_tokens);
        EM_TRY(r.finish());
        if (t->get("every_fraction") && t->get("every_tokens"))
            return Status::error(path +
                                 " [checkpoint]: give every_fraction (a share of each run) or "
                                 "every_tokens (the same token counts for every run), not both");
        if (t->get("every_tokens") && c.checkpoint_every_tokens < 1)
            return Status::error(path + " [checkpoint]: every_tokens must be >= 1");
    }
    if (auto *t = table("parallel")) {
        TomlReader r(*t, path + " [parallel]", kDocs);
        r.get("launcher", c.launcher);
        EM_TRY(r.finish());
    }
    if (auto *t = table("analysis")) {
        TomlReader r(*t, path + " [analysis]", kDocs);
        std::string unit = "checkpoint";
        int64_t bootstrap = c.analysis.threshold.bootstrap;
        r.get("bootstrap", bootstrap);
        r.get("bootstrap_unit", unit);
        r.get("window_frac", c.analysis.window_frac);
        r.get("alpha", c.analysis.threshold.alpha);
        EM_TRY(r.finish());
        if (unit != "checkpoint" && unit != "run")
            return Status::error(path + " [analysis]: bootstrap_unit is '" + unit +
                                 "'; use \"checkpoint\" or \"run\"");
        if (bootstrap < 0 || bootstrap > 100000)
            return Status::error(path + " [analysis]: bootstrap must lie in [0, 100000]");
        if (!(c.analysis.window_frac >= 0 && c.analysis.window_frac < 1))
            return Status::error(path + " [analysis]: window_frac must lie in [0, 1)");
        if (!(c.analysis.threshold.alpha > 0 && c.analysis.threshold.alpha < 1))
            return Status::error(path + " [analysis]: alpha must lie in (0, 1)");
        c.analysis.threshold.bootstrap = static_cast<int>(bootstrap);
        c.analysis.threshold.bootstrap_runs = unit == "run";
    }
    const toml::node *sz = root.get("size");
    const toml::array *arr = sz ? sz->as_array() : nullptr;
    if (!arr || arr->empty())
        return Status::error(path + ": no [[size]] entries (add at least one model size)");
    for (size_t i = 0; i < arr->size(); ++i) {
        const toml::table *st = (*arr)[i].as_table();
        std::string where = path + " [[size]] #" + std::to_string(i + 1);
        if (!st) return Status::error(where + ": must be a table");
        StudySize s;
        s.model = base;
        TomlReader r(*st, where, kDocs);
        r.get("name", s.name);
        r.get("lr", s.lr);
        r.get("budgets", s.budgets);
        r.get("seeds", s.seeds);
        r.get("params", s.target_params);
        int64_t head_dim = 32, aspect = 64;
        r.get("head_dim", head_dim);
        r.get("aspect", aspect);
        EM_TRY(read_model_keys(r, s.model));
        EM_TRY(r.finish());
        if (s.name.empty())
            return Status::error(where +
                                 ": 'name' is required (a short run-name prefix such as \"s1\")");
        if (!is_plain_name(s.name))
            return Status::error(where + ": size name '" + s.name +
                                 "' must use only letters, digits, '_', '.' and '-' (it names "
                                 "run directories)");
        if (st->get("seeds")) EM_TRY(check_seeds(s.seeds, where));
        if (st->get("lr") && !(s.lr > 0))
            return Status::error(where + ": lr must be > 0 (or leave it out for the study's rule)");
        if (s.target_params > 0) {
            for (const char *k : {"d_model", "n_layers", "n_heads", "ffn_hidden"})
                if (st->get(k))
                    return Status::error(where + ": gives both params and " + k +
                                         "; give a target params count (the shape rule picks the "
                                         "shape) or the shape, not both");
        } else if (st->get("head_dim") || st->get("aspect")) {
            return Status::error(where +
                                 ": head_dim and aspect steer the shape rule, which runs only for "
                                 "a size given by params; add params or remove them");
        }
        for (const auto &o : c.sizes)
            if (o.name == s.name)
                return Status::error(where + ": size name '" + s.name + "' is used twice");
        if (s.target_params > 0) {
            if (head_dim < 2 || aspect < 1)
                return Status::error(where + ": head_dim must be >= 2 and aspect >= 1");
            s.model = study_shape_for_params(s.target_params, head_dim, aspect, s.model);
        }
        if (s.model.n_kv_heads <= 0) s.model.n_kv_heads = s.model.n_heads;
        if (s.budgets.empty()) s.budgets = c.budgets;
        if (!st->get("seeds")) s.seeds = c.seeds;
        if (s.budgets.empty())
            return Status::error(where +
                                 ": no token budgets (set [train] budgets or this size's budgets)");
        s.model.vocab_size = std::max<int64_t>(c.vocab_size, 2);
        s.model.max_seq = tr.seq_len;
        EM_TRY(model_config_validate(s.model).with_context(where));
        for (const auto &o : c.sizes)
            if (o.model.d_model == s.model.d_model && o.model.n_layers == s.model.n_layers &&
                o.model.n_heads == s.model.n_heads && o.model.n_kv_heads == s.model.n_kv_heads &&
                o.model.ffn() == s.model.ffn())
                return Status::error(
                    where + ": size '" + s.name + "' has the same shape as size '" + o.name +
                    "' (d_model " + std::to_string(s.model.d_model) + ", " +
                    std::to_string(s.model.n_layers) +
                    " layers); move the params targets further apart or give the shapes");
        c.sizes.push_back(s);
    }
    // Paths among the corpus sources and task suites are relative to the config file; names of
    // built-in sources ("default", "brown", ...) and "builtin" stay as they are.
    const std::filesystem::path cfg_dir = std::filesystem::path(path).parent_path();
    auto resolve = [&](std::vector<std::string> &list) {
        for (auto &e : list) {
            size_t eq = e.find('=');
            std::string p = eq == std::string::npos ? e : e.substr(eq + 1);
            std::string prefix = e.substr(0, e.size() - p.size());
            std::error_code ec;
            if (!p.empty() && p[0] != '/' && std::filesystem::exists(cfg_dir / p, ec))
                e = prefix + (cfg_dir / p).lexically_normal().string();
        }
    };
    resolve(c.corpus_sources);
    resolve(c.tasks);
    if (c.vocab_size < 64)
        return Status::error(path + " [tokenizer]: vocab_size must be at least 64");
    if (c.eval_limit < 0) return Status::error(path + " [tasks]: limit must be >= 0");
    const bool builtin = c.tasks.size() == 1 && c.tasks[0] == "builtin";
    if (!builtin && std::find(c.tasks.begin(), c.tasks.end(), "builtin") != c.tasks.end())
        return Status::error(path +
                             " [tasks]: suite mixes \"builtin\" with task paths; use "
                             "[\"builtin\"] alone, or paths (a built suite's tasks/ directory "
                             "among them)");
    if (c.tasks.empty())
        return Status::error(path + " [tasks]: suite is empty; use [\"builtin\"] or task paths");
    if (!builtin && c.skills) {
        const toml::table *ct = table("corpus");
        if (ct && ct->get("skills"))
            return Status::error(path +
                                 " [corpus]: skills = true mixes in the built-in suite's skill "
                                 "documents, but [tasks] suite is not builtin; set skills = false "
                                 "or add the documents as a corpus source");
        c.skills = false;
    }
    if (builtin)
        for (const auto &n : c.task_names)
            if (std::find(suite_task_names().begin(), suite_task_names().end(), n) ==
                suite_task_names().end())
                return Status::error(path + " [tasks]: names lists '" + n +
                                     "', which is not a built-in task (docs/tasks.md lists them)");
    if (!(c.checkpoint_every_fraction > 0 && c.checkpoint_every_fraction <= 1))
        return Status::error(path + " [checkpoint]: every_fraction must lie in (0, 1]");
    // Validate every planned run now, so a bad combination fails before hours of work.
    const std::vector<StudyRun> planned = study_plan_runs(c, "/nonexistent", c.vocab_size);
    for (size_t i = 0; i < planned.size(); ++i)
        for (size_t j = 0; j < i; ++j)
            if (planned[i].name == planned[j].name)
                return Status::error(
                    path + ": runs of " + std::to_string(planned[j].train.tokens) + " and " +
                    std::to_string(planned[i].train.tokens) + " tokens would both be named '" +
                    planned[i].name +
                    "' (a budget listed twice, or budgets that agree in their first three "
                    "digits); list each budget once and make them differ there");
    for (const auto &run : planned) {
        TrainConfig t = run.train;
        t.train_shards = {"x"};
        t.val_shards = {"x"};
        EM_TRY(train_config_validate(t).with_context(path + ": run " + run.name));
    }
    return c;
}

namespace {

// Turns runs[first + 1, end) into branches of the trunk runs[first]: each starts from the trunk's
// checkpoint where its own decay begins (the same step count, since every run of a study takes
// the same tokens per step), which the trunk writes with its optimizer state.
void branch_off_trunk(std::vector<StudyRun> &runs, size_t first) {
    StudyRun &trunk = runs[first];
    for (size_t i = first + 1; i < runs.size(); ++i) {
        StudyRun &b = runs[i];
        const int64_t start = schedule_decay_start(b.train.lr_schedule());
        b.trunk = trunk.name;
        b.train.branch_from = trunk.train.out_dir;
        b.train.branch_step = start;
        trunk.train.checkpoint_steps.push_back(start);
        trunk.train.checkpoint_keep_state_steps.push_back(start);
    }
}

// The run of size `s` at `budget` trained from `seed` (initialization and data order).
StudyRun plan_run(const StudyConfig &c, const StudySize &s, int64_t budget, uint64_t seed,
                  const std::string &dir, int64_t vocab_size) {
    StudyRun r;
    r.size = s.name;
    r.name = s.name + "-" + study_format_count(budget) + (c.branched ? "-wsd" : "") +
             (s.seeds.empty() ? "" : "-s" + std::to_string(seed));
    TrainConfig t = c.train;
    t.model = s.model;
    t.model.vocab_size = vocab_size;
    t.model.max_seq = t.seq_len;
    t.tokens = budget;
    if (s.lr > 0)
        t.lr = s.lr;
    else if (c.lr_rule == "inverse_width")
        t.lr = c.train.lr * static_cast<double>(c.lr_rule_width) /
               static_cast<double>(s.model.d_model);
    t.seed = seed;
    t.data_seed = seed;  // the runs of one seed read the same windows in the same order
    t.threads = c.threads;
    t.out_dir = dir + "/runs/" + r.name;
    t.train_shards = {dir + "/shards"};
    t.val_shards = {dir + "/shards"};
    t.log_every = 1000000;
    int64_t steps = t.total_steps();
    const double every = c.checkpoint_every_tokens > 0
                             ? static_cast<double>(c.checkpoint_every_tokens) /
                                   static_cast<double>(t.tokens_per_step())
                             : c.checkpoint_every_fraction * static_cast<double>(steps);
    t.checkpoint_every = std::max<int64_t>(1, static_cast<int64_t>(std::llround(every)));
    t.checkpoint_log = c.checkpoint_log;
    r.train = t;
    r.params = model_param_counts(t.model).non_embedding;
    return r;
}

}  // namespace

std::vector<StudyRun> study_plan_runs(const StudyConfig &c, const std::string &dir,
                                      int64_t vocab_size) {
    std::vector<StudyRun> runs;
    for (const auto &s : c.sizes) {
        std::vector<int64_t> budgets = s.budgets;
        if (c.branched && !budgets.empty()) {
            // The trunk (the largest budget) first, then its branches, shortest first.
            std::sort(budgets.begin(), budgets.end());
            std::rotate(budgets.rbegin(), budgets.rbegin() + 1, budgets.rend());
        }
        // Without a seeds key a size has one replicate, with the study's seed and no name suffix,
        // so that studies from before replicate seeds keep their run names.
        std::vector<uint64_t> seeds = {c.seed};
        if (!s.seeds.empty()) seeds.assign(s.seeds.begin(), s.seeds.end());
        for (uint64_t seed : seeds) {
            const size_t first = runs.size();
            for (int64_t budget : budgets)
                runs.push_back(plan_run(c, s, budget, seed, dir, vocab_size));
            if (c.branched && runs.size() > first + 1) branch_off_trunk(runs, first);
        }
    }
    return runs;
}

}  // namespace em
