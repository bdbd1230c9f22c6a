// Study pricing and `study plan`; see plan.h.
#include "study/plan.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <vector>

#include "common/fileio.h"
#include "common/parallel.h"
#include "common/rng.h"
#include "data/corpus.h"
#include "data/sources.h"
#include "data/tokenizer.h"
#include "model/model.h"
#include "optim/adamw.h"
#include "study/eval_marker.h"
#include "study/layout.h"
#include "study/progress.h"
#include "study/stages.h"
#include "study/tasks.h"
#include "tasks/suite.h"
#include "train/checkpoint.h"

namespace em {
namespace {

// Rates of the fixed stages, measured on a quiet 2-core machine with the default corpus and the
// quick study (configs/quick.toml): building the built-in suite takes about 10 s whatever the
// size of its skill documents; the corpus is written at about 25 MB/s and tokenized into shards at
// about 15 MB/s; SentencePiece trains at about 0.7 s per MB of sampled text. `study plan` adds them
// for stages not yet complete.
constexpr double kPlanSecondsTasks = 10;
constexpr double kPlanCorpusBytesPerSecond = 25e6;
constexpr double kPlanTokenizeBytesPerSecond = 15e6;
constexpr double kPlanTokenizerSecondsPerByte = 0.7e-6;
// The default corpus's training text (corpus/train.jsonl without skill documents), and the
// default size of the built-in suite's skills.jsonl.
constexpr double kPlanDefaultCorpusBytes = 72e6;
constexpr double kPlanDefaultSkillsBytes = 48e6;
// Mean bytes of one built-in task document (context, target and every choice), measured over the
// suite (tests/study checks it against a freshly built suite), for plans made before it is built.
constexpr double kPlanBuiltinBytesPerDoc = 168;
constexpr int64_t kPlanBuiltinTasks = 12;

// Bytes of the corpus's training text: from its manifest when built, else from the sources
// (the default corpus's measured size, a share of it per named built-in source, user files by
// their size) plus the skill documents mixed in.
double corpus_bytes_estimate(const StudyConfig &c, const StudyPaths &p) {
    if (auto m = corpus_manifest_read(p.corpus()); m.is_ok()) {
        const nlohmann::json *b = &m.value();
        for (const char *key : {"files", "train.jsonl", "bytes"})
            b = b && b->is_object() && b->contains(key) ? &b->at(key) : nullptr;
        if (b && b->is_number()) return b->get<double>();  // else estimate as if not built
    }
    namespace fs = std::filesystem;
    const double per_source =
        kPlanDefaultCorpusBytes / static_cast<double>(source_default_names().size());
    double bytes = 0;
    for (const auto &s : c.corpus_sources) {
        std::error_code ec;
        const std::string path = s.substr(s.find('=') == std::string::npos ? 0 : s.find('=') + 1);
        if (s == "default")
            bytes += kPlanDefaultCorpusBytes;
        else if (source_find(s))
            bytes += per_source;
        else if (fs::is_directory(path, ec))
            for (const auto &e : fs::recursive_directory_iterator(path, ec))
                bytes += e.is_regular_file(ec) ? static_cast<double>(e.file_size(ec)) : 0;
        else if (fs::is_regular_file(path, ec))
            bytes += static_cast<double>(fs::file_size(path, ec));
    }
    const bool builtin = study_uses_builtin_tasks(c);
    if (builtin && c.skills)
        bytes += c.skills_bytes > 0 ? static_cast<double>(c.skills_bytes) : kPlanDefaultSkillsBytes;
    return bytes;
}

// What the plan adds up: seconds from scratch and left, and training FLOPs.
struct PlanTotals {
    double all_s = 0, left_s = 0, flops = 0;
};

// One run's line of the plan, its name padded to `name_width`, its cost added to `sum`: what is
// left counts the checkpoints and evaluations already on disk.
std::string plan_run_row(const StudyRun &r, int name_width, const Throughput &th,
                         double eval_tokens, const StudyPaths &p, PlanTotals &sum) {
    const double tokens = static_cast<double>(r.train.steps_to_train() * r.train.tokens_per_step());
    const double flops = model_flops_per_token(r.train.model, r.train.seq_len, true) * tokens;
    const std::vector<int64_t> plan = r.train.checkpoint_plan();
    const int64_t ckpts = static_cast<int64_t>(plan.size());
    const double train_s = plan_train_seconds(r, th);
    const double eval_ckpt_s = plan_eval_seconds(eval_tokens, th);
    const std::vector<int64_t> have = checkpoint_list(r.train.out_dir);
    const int64_t first = r.train.total_steps() - r.train.steps_to_train();  // a branch's start
    const double trained = have.empty() ? 0.0
                                        : static_cast<double>(have.back() - first) /
                                              static_cast<double>(r.train.steps_to_train());
    int64_t evaluated = 0;
    for (int64_t step : plan)
        evaluated += file_exists(study_eval_done_marker(p.evals(r.name, step)));
    sum.all_s += train_s + static_cast<double>(ckpts) * eval_ckpt_s;
    sum.left_s += train_s * (1 - trained) + static_cast<double>(ckpts - evaluated) * eval_ckpt_s;
    sum.flops += flops;
    std::string state;
    if (!r.trunk.empty())
        state = "  (branch of " + r.trunk + " at step " + std::to_string(r.train.branch_step) + ")";
    if (evaluated == ckpts)
        state += "  (done)";
    else if (trained > 0)
        state += trained >= 1 ? "  (trained)" : "  (partly trained)";
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "  %-*s %7lld x %-6lld %11lld %12lld %6lld %6lld %13.3f %12.0f %9s %9s%s\n",
                  name_width, r.name.c_str(), static_cast<long long>(r.train.model.d_model),
                  static_cast<long long>(r.train.model.n_layers), static_cast<long long>(r.params),
                  static_cast<long long>(r.train.tokens),
                  static_cast<long long>(r.train.total_steps()), static_cast<long long>(ckpts),
                  flops / 1e12, th.train_tps, fmt_duration(train_s).c_str(),
                  fmt_duration(static_cast<double>(ckpts) * eval_ckpt_s).c_str(), state.c_str());
    return buf;
}

// The shared stages' seconds, from rates measured on this kind of machine, added to `sum` (to
// what is left only for stages not complete). Returns their total.
double plan_fixed_stages(const StudyConfig &cfg, const StudyPaths &p, PlanTotals &sum) {
    const bool builtin = study_uses_builtin_tasks(cfg);
    const double corpus_bytes = corpus_bytes_estimate(cfg, p);
    const double stage_s[4] = {
        builtin ? kPlanSecondsTasks : 0, corpus_bytes / kPlanCorpusBytesPerSecond,
        std::min(corpus_bytes, static_cast<double>(cfg.tokenizer_sample_bytes)) *
            kPlanTokenizerSecondsPerByte,
        corpus_bytes / kPlanTokenizeBytesPerSecond};
    const std::array<bool, 4> stage_done = study_stages_done(cfg, p);
    double fixed_all = 0;
    for (int i = 0; i < 4; ++i) {
        fixed_all += stage_s[i];
        if (!stage_done[i]) sum.left_s += stage_s[i];
    }
    sum.all_s += fixed_all;
    return fixed_all;
}

}  // namespace

Throughput plan_measure_throughput(const TrainConfig &t) {
    Model model(t.model);
    model.init(1);
    const int64_t B = t.batch_size, T = t.seq_len;
    Rng rng(7);
    std::vector<int32_t> x(static_cast<size_t>(B * T)), y(x.size());
    for (auto &v : x)
        v = static_cast<int32_t>(rng.below(static_cast<uint64_t>(t.model.vocab_size)));
    for (auto &v : y)
        v = static_cast<int32_t>(rng.below(static_cast<uint64_t>(t.model.vocab_size)));
    AdamWState st;
    auto time_it = [&](bool train) {
        std::vector<double> ts;
        for (int i = 0; i < 4; ++i) {
            auto t0 = StudyClock::now();
            if (train) {
                model.zero_grad();
                model.forward(x.data(), y.data(), B, T);
                // Not refused after a forward with targets; if it were, the step is not taken.
                if (model.backward().is_ok())
                    adamw_step(model.params(), model.grads(), st, model.layout(), t.adamw, 1e-4,
                               1.0f);
            } else {
                model.forward(x.data(), nullptr, B, T);
            }
            if (i > 0) ts.push_back(seconds_since(t0));
        }
        std::sort(ts.begin(), ts.end());
        return static_cast<double>(B * T) / ts[1];
    };
    Throughput th;
    th.train_tps = time_it(true);
    th.forward_tps = time_it(false);
    return th;
}

double plan_train_seconds(const StudyRun &r, const Throughput &th) {
    return static_cast<double>(r.train.steps_to_train() * r.train.tokens_per_step()) / th.train_tps;
}
double plan_eval_seconds(double eval_tokens, const Throughput &th) {
    return eval_tokens / (0.5 * th.forward_tps);
}

int64_t study_eval_tokens_estimate(const StudyConfig &cfg, const std::string &dir) {
    if (auto tasks = study_tasks_load(cfg, StudyPaths{dir}); tasks.is_ok())
        return study_tasks_eval_tokens(*tasks, cfg.eval_limit);
    const bool builtin = study_uses_builtin_tasks(cfg);
    if (!builtin) return 0;
    const int64_t items = cfg.task_items > 0 ? cfg.task_items : SuiteOptions{}.items;
    const int64_t docs = cfg.eval_limit > 0 ? std::min(cfg.eval_limit, items) : items;
    const int64_t n_tasks =
        cfg.task_names.empty() ? kPlanBuiltinTasks : static_cast<int64_t>(cfg.task_names.size());
    return static_cast<int64_t>(static_cast<double>(n_tasks * docs) * kPlanBuiltinBytesPerDoc / 4);
}

std::string plan_busy_note(double load, int cores, int threads) {
    if (!(load > static_cast<double>(cores - threads) + 0.5)) return "";
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "note: the machine is busy (load average %.2f on %d core%s before measuring): "
                  "the throughput measured now reads low and these times long; plan on a quiet "
                  "machine for the study's own cost\n",
                  load, cores, cores == 1 ? "" : "s");
    return buf;
}

Result<std::string> study_plan(const StudyConfig &cfg, const std::string &dir,
                               const StudySelection &sel) {
    parallel_set_threads(cfg.threads > 0 ? static_cast<int>(cfg.threads)
                                         : parallel_default_threads());
    double load = 0;
    const bool have_load = ::getloadavg(&load, 1) == 1;
    const long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
    StudyPaths p{dir};
    int64_t vocab = cfg.vocab_size;
    if (auto tok = Tokenizer::load(p.tokenizer()); tok.is_ok()) vocab = tok->vocab_size();
    const std::vector<StudyRun> grid = study_plan_runs(cfg, dir, vocab);
    const int64_t eval_tokens = study_eval_tokens_estimate(cfg, dir);
    EM_ASSIGN_OR_RETURN(std::vector<StudyRun> runs,
                        study_select(grid, sel, static_cast<double>(eval_tokens)));
    std::string out;
    char buf[256];
    std::string which = std::to_string(runs.size()) + " runs";
    if (!sel.all())
        which = std::to_string(runs.size()) + " of " + std::to_string(grid.size()) + " runs";
    if (sel.count > 1)
        which += " (shard " + std::to_string(sel.index) + "/" + std::to_string(sel.count) + ")";
    std::snprintf(buf, sizeof buf, "study %s: %s, %d thread%s, tokenizer vocab %lld\n",
                  cfg.name.c_str(), which.c_str(), parallel_threads(),
                  parallel_threads() == 1 ? "" : "s", static_cast<long long>(vocab));
    out += buf;
    // The name column fits the longest name (replicate seeds and branches lengthen them).
    int name_width = 16;
    for (const auto &r : runs) name_width = std::max(name_width, static_cast<int>(r.name.size()));
    std::snprintf(buf, sizeof buf,
                  "  %-*s d_model x layers   params(N)    tokens(D)  steps  ckpts   train TFLOP  "
                  "train tok/s     train      eval\n",
                  name_width, "run");
    out += buf;
    std::map<std::string, Throughput> measured;
    PlanTotals sum;
    double tokens = 0, cosine_tokens = 0, train_s = 0, cosine_s = 0;
    for (const auto &r : runs) {
        if (!measured.count(r.size)) measured[r.size] = plan_measure_throughput(r.train);
        out +=
            plan_run_row(r, name_width, measured[r.size], static_cast<double>(eval_tokens), p, sum);
        const double step_tokens = static_cast<double>(r.train.tokens_per_step());
        tokens += static_cast<double>(r.train.steps_to_train()) * step_tokens;
        cosine_tokens += static_cast<double>(r.train.total_steps()) * step_tokens;
        train_s += plan_train_seconds(r, measured[r.size]);
        cosine_s +=
            static_cast<double>(r.train.total_steps()) * step_tokens / measured[r.size].train_tps;
    }
    const double fixed_all = plan_fixed_stages(cfg, p, sum);
    std::snprintf(buf, sizeof buf,
                  "total: %.3f TFLOP of training, %lld tokens read per checkpoint evaluation\n",
                  sum.flops / 1e12, static_cast<long long>(eval_tokens));
    out += buf;
    std::snprintf(buf, sizeof buf,
                  "estimated time: %s from scratch (tasks, corpus, tokenizer and shards %s), %s "
                  "left\n",
                  fmt_duration(sum.all_s).c_str(), fmt_duration(fixed_all).c_str(),
                  fmt_duration(sum.left_s).c_str());
    out += buf;
    if (cfg.branched && tokens > 0) {
        std::snprintf(buf, sizeof buf,
                      "branched (wsd-branch): %.1fM tokens trained for these end points, where "
                      "separate runs would train %.1fM; training %s against %s, %.2fx less\n",
                      tokens / 1e6, cosine_tokens / 1e6, fmt_duration(train_s).c_str(),
                      fmt_duration(cosine_s).c_str(), cosine_s / train_s);
        out += buf;
    }
    if (have_load && cores >= 1)
        out += plan_busy_note(load, static_cast<int>(cores), parallel_threads());
    return out;
}

}  // namespace em
