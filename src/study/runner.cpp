// The study runner; see runner.h.
#include "study/runner.h"

#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "analysis/analysis.h"
#include "analysis/points.h"
#include "common/fileio.h"
#include "common/parallel.h"
#include "common/rng.h"
#include "data/corpus.h"
#include "data/sources.h"
#include "data/tokenize.h"
#include "data/tokenizer.h"
#include "eval/eval.h"
#include "eval/task.h"
#include "model/safetensors.h"
#include "optim/adamw.h"
#include "report/report.h"
#include "study/ledger.h"
#include "tasks/builtin_tasks.h"
#include "tasks/suite.h"
#include "train/checkpoint.h"
#include "train/trainer.h"

namespace em {
namespace {

using Clock = std::chrono::steady_clock;

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

double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string fmt_duration(double s) {
    char buf[32];
    if (s < 0 || !std::isfinite(s)) return "?";
    if (s < 90) {
        std::snprintf(buf, sizeof buf, "%.0fs", s);
    } else if (s < 5400) {
        const long long r = std::llround(s);
        std::snprintf(buf, sizeof buf, "%lldm%02llds", r / 60, r % 60);
    } else {
        const long long m = std::llround(s / 60);
        std::snprintf(buf, sizeof buf, "%lldh%02lldm", m / 60, m % 60);
    }
    return buf;
}

// Progress lines: overwritten in place on a terminal, plain lines (at most every 10 s) otherwise.
class Progress {
  public:
    Progress() : tty_(::isatty(2)) {}
    void line(const std::string &s, bool important = false) {
        if (tty_) {
            std::fprintf(stderr, "\r\033[K%s", s.c_str());
            if (important) std::fprintf(stderr, "\n");
        } else if (important || seconds_since(last_) >= 10) {
            std::fprintf(stderr, "%s\n", s.c_str());
            last_ = Clock::now();
        }
        std::fflush(stderr);
    }
    void done(const std::string &s) { line(s, true); }

  private:
    bool tty_;
    Clock::time_point last_ = Clock::now() - std::chrono::hours(1);
};

struct Throughput {
    double train_tps = 0, forward_tps = 0;
};

// Tokens/s of training steps and of forward passes for one model shape, measured on random
// tokens with the study's batch and threads (one warm-up step, then the median of three).
Throughput measure_throughput(const TrainConfig &t) {
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
            auto t0 = Clock::now();
            if (train) {
                model.zero_grad();
                model.forward(x.data(), y.data(), B, T);
                model.backward();
                adamw_step(model.params(), model.grads(), st, model.layout(), t.adamw, 1e-4, 1.0f);
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

// Seconds to train a run, and to evaluate one of its checkpoints (`eval_tokens` read by the
// scorer, whose single sequences with a KV cache run at about half the batched forward
// throughput), from the throughput measured for its size.
double run_train_seconds(const StudyRun &r, const Throughput &th) {
    return static_cast<double>(r.train.total_steps() * r.train.tokens_per_step()) / th.train_tps;
}
double run_eval_seconds(double eval_tokens, const Throughput &th) {
    return eval_tokens / (0.5 * th.forward_tps);
}

// Overall progress in estimated seconds: training and evaluation priced from throughput measured
// per model size when the runner starts (as `study plan` does), so the percentage and the ETA
// weigh small and large models by what they really cost here. The ETA scales the remaining
// estimate by how the estimate has compared with the clock over the last ten minutes.
struct Budget {
    double total = 0, done = 0;
    double done_at_start = -1;
    // (time, done) samples, one per 10 s over the last 10 minutes: the ETA follows the recent
    // rate, so a pause or a burst of load elsewhere fades out of it.
    std::deque<std::pair<Clock::time_point, double>> window;
    void mark_start() {
        if (done_at_start >= 0) return;
        done_at_start = done;
        window.assign(1, {Clock::now(), done});
    }
    std::string eta() {
        if (done_at_start < 0 || done <= done_at_start) return "?";
        const auto now = Clock::now();
        if (now - window.back().first >= std::chrono::seconds(10)) window.push_back({now, done});
        while (window.size() > 2 && now - window[1].first >= std::chrono::minutes(10))
            window.pop_front();
        const double secs = std::chrono::duration<double>(now - window.front().first).count();
        const double rate = (done - window.front().second) / secs;
        return rate > 0 ? fmt_duration((total - done) / rate) : "?";
    }
    int percent() const {
        return total > 0 ? static_cast<int>(std::min(100.0, 100.0 * done / total)) : 0;
    }
};

// The study evaluates the built-in suite (built into its tasks/ directory), not user task files.
bool uses_builtin_tasks(const StudyConfig &c) {
    return c.tasks.size() == 1 && c.tasks[0] == "builtin";
}

std::vector<std::string> task_sources(const StudyConfig &c, const StudyPaths &p) {
    if (uses_builtin_tasks(c)) return {p.tasks()};
    return c.tasks;
}

Result<std::vector<Task>> load_tasks(const StudyConfig &c, const StudyPaths &p) {
    EM_ASSIGN_OR_RETURN(std::vector<Task> all, tasks_load(task_sources(c, p)));
    for (const auto &t : all)
        if (t.spec.name == "done")
            return Status::error(t.spec.spec_path +
                                 ": a task named 'done' would overwrite the mark of a complete "
                                 "evaluation (done.json); give the task another name");
    if (c.task_names.empty()) return all;
    std::vector<Task> out;
    for (const auto &name : c.task_names) {
        auto it = std::find_if(all.begin(), all.end(),
                               [&](const Task &t) { return t.spec.name == name; });
        if (it == all.end())
            return Status::error(c.path + " [tasks]: names lists '" + name +
                                 "', which is not in the suite");
        out.push_back(*it);
    }
    return out;
}

int64_t eval_tokens_estimate(const std::vector<Task> &tasks, int64_t limit) {
    // Four bytes per token is the default corpus's rate; good enough for an ETA.
    int64_t bytes = 0;
    for (const auto &t : tasks) {
        int64_t n = limit > 0 ? std::min<int64_t>(limit, static_cast<int64_t>(t.docs.size()))
                              : static_cast<int64_t>(t.docs.size());
        int64_t per_doc = 0;
        for (const auto &inst : t.instances) {
            per_doc += static_cast<int64_t>(inst.context.size() + inst.target.size());
            for (const auto &ch : inst.choices) per_doc += static_cast<int64_t>(ch.size());
        }
        if (!t.instances.empty()) bytes += n * per_doc / static_cast<int64_t>(t.instances.size());
    }
    return bytes / 4;
}

// Bytes of the corpus's training text: from its manifest when built, else from the sources
// (the default corpus's measured size, a share of it per named built-in source, user files by
// their size) plus the skill documents mixed in.
double corpus_bytes_estimate(const StudyConfig &c, const StudyPaths &p) {
    if (auto m = corpus_manifest_read(p.corpus()); m.is_ok())
        return m->at("files").at("train.jsonl").at("bytes").get<double>();
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
    const bool builtin = uses_builtin_tasks(c);
    if (builtin && c.skills)
        bytes += c.skills_bytes > 0 ? static_cast<double>(c.skills_bytes) : kPlanDefaultSkillsBytes;
    return bytes;
}

struct Ctx {
    const StudyConfig &cfg;
    StudyPaths p;
    Ledger ledger;
    Progress progress;
    Budget budget;
};

Status stage(Ctx &x, const std::string &name, bool done, const std::function<Status()> &work) {
    if (done) {
        EM_TRY(x.ledger.stage_set(name, "done", 0));
        return Status::ok();
    }
    x.progress.done("study: " + name + " ...");
    auto t0 = Clock::now();
    EM_TRY(x.ledger.stage_set(name, "running", 0));
    Status s = work();
    if (!s.is_ok()) {
        x.ledger.stage_set(name, "failed", seconds_since(t0));
        return s.with_context(name);
    }
    EM_TRY(x.ledger.stage_set(name, "done", seconds_since(t0)));
    x.progress.done("study: " + name + " done in " + fmt_duration(seconds_since(t0)));
    return Status::ok();
}

// A run belongs to one tokenizer: the one it was started with, recorded in its directory. A run
// brought in from a machine that built its own tokenizer is refused rather than mixed in (runs
// from before this record have none and are taken as they are).
Status check_run_tokenizer(const StudyPaths &p, const std::string &run, const std::string &hash) {
    const std::string path = p.run_tokenizer(run);
    if (!file_exists(path)) return Status::ok();
    std::string had;
    try {
        EM_ASSIGN_OR_RETURN(std::string text, file_read(path));
        had = nlohmann::json::parse(text).at("tokenizer_fnv1a64").get<std::string>();
    } catch (const std::exception &e) {
        return Status::error(path + ": not a tokenizer record (" + e.what() +
                             "); restore it from the machine that trained the run");
    }
    if (had == hash) return Status::ok();
    return Status::error(p.dir + "/runs/" + run + ": trained with another tokenizer (" + had +
                         ") than " + p.tokenizer() + " (" + hash +
                         "); prepare the study once (`emergence study prepare`) and copy that "
                         "directory to every machine");
}

// The task names an evaluation covers, as its done.json records them.
nlohmann::json task_names_json(const std::vector<Task> &tasks) {
    nlohmann::json names = nlohmann::json::array();
    for (const auto &t : tasks) names.push_back(t.spec.name);
    return names;
}

// A checkpoint's evaluation marker (done.json), null when there is none. It is current unless the
// config now asks for other tasks or another limit, or the checkpoint was scored under other
// scoring rules (a marker from before these were recorded counts as current).
std::optional<nlohmann::json> eval_marker(const std::string &marker) {
    if (!file_exists(marker)) return std::nullopt;
    nlohmann::json done;
    if (auto text = file_read(marker); text.is_ok()) {
        try {
            done = nlohmann::json::parse(*text);
        } catch (const std::exception &) {
        }
    }
    return done;
}

bool eval_current(const nlohmann::json &done, const StudyConfig &cfg,
                  const std::vector<Task> &tasks) {
    return !done.is_object() || !done.contains("tasks") ||
           (done["tasks"] == task_names_json(tasks) &&
            done.value("limit", cfg.eval_limit) == cfg.eval_limit &&
            done.value("scoring", kScoringVersion) == kScoringVersion);
}

bool eval_done(const StudyPaths &p, const StudyConfig &cfg, const StudyRun &run, int64_t step,
               const std::vector<Task> &tasks) {
    auto done = eval_marker(study_eval_done_marker(p.evals(run.name, step)));
    return done && eval_current(*done, cfg, tasks);
}

Status evaluate_checkpoint(Ctx &x, const StudyRun &run, int64_t step, const Tokenizer &tok,
                           const std::vector<Task> &tasks) {
    const std::string out = x.p.evals(run.name, step), marker = study_eval_done_marker(out);
    if (auto done = eval_marker(marker)) {
        // The ledger learns of a current evaluation either way.
        if (eval_current(*done, x.cfg, tasks))
            return x.ledger.eval_set(run.name, step, "done",
                                     done->is_object() ? done->value("seconds", 0.0) : 0.0);
        // Unmark first, so a run killed while the directory is rewritten never looks complete.
        std::error_code ec;
        std::filesystem::remove(marker, ec);
        std::filesystem::remove_all(out, ec);
        if (ec)
            return Status::error(out + ": cannot remove the earlier evaluation (" + ec.message() +
                                 "); delete it by hand");
    }
    auto t0 = Clock::now();
    EM_ASSIGN_OR_RETURN(auto model, model_load(checkpoint_weights_path(run.train.out_dir, step)));
    EvalOptions eo;
    eo.limit = x.cfg.eval_limit;
    EM_ASSIGN_OR_RETURN(auto results, eval_checkpoint(*model, tok, tasks, eo));
    nlohmann::json config = {{"model", run.name},
                             {"step", step},
                             {"checkpoint", checkpoint_weights_path(run.train.out_dir, step)},
                             {"limit", x.cfg.eval_limit}};
    EM_TRY(dir_create(out));
    EM_TRY(eval_write(out, results, config));
    nlohmann::json done = {{"run", run.name},
                           {"step", step},
                           {"seconds", seconds_since(t0)},
                           {"tasks", task_names_json(tasks)},
                           {"limit", x.cfg.eval_limit},
                           {"scoring", kScoringVersion}};
    EM_TRY(file_write_atomic(marker, done.dump() + "\n"));
    return x.ledger.eval_set(run.name, step, "done", seconds_since(t0));
}

}  // namespace

std::string StudyPaths::evals(const std::string &run, int64_t step) const {
    char buf[32];
    std::snprintf(buf, sizeof buf, "step_%08" PRId64, step);
    return dir + "/runs/" + run + "/evals/" + buf;
}

std::string study_eval_done_marker(const std::string &eval_dir) {
    return eval_dir + "/done.json";
}

namespace {

// Which of the shared stages (tasks, corpus, tokenizer, shards) are complete.
std::array<bool, 4> stages_done(const StudyConfig &c, const StudyPaths &p) {
    return {!uses_builtin_tasks(c) || builtin_tasks_done(p.tasks()),
            corpus_manifest_read(p.corpus()).is_ok(), Tokenizer::load(p.tokenizer()).is_ok(),
            shards_manifest_read(p.shards()).is_ok()};
}

// Tasks, corpus, tokenizer and shards: what every run shares, each built unless complete.
Status prepare_stages(Ctx &x) {
    const StudyConfig &cfg = x.cfg;
    const bool builtin = uses_builtin_tasks(cfg);

    // 1. Tasks first: the corpus mixes in their skill documents and leaves out their sources.
    if (builtin)
        EM_TRY(stage(x, "tasks", builtin_tasks_done(x.p.tasks()), [&] {
            BuiltinTasksOptions bo;
            bo.seed = cfg.seed;
            bo.items = cfg.task_items;
            bo.skills_bytes = cfg.skills_bytes;
            return builtin_tasks_build(x.p.tasks(), bo);
        }));

    // 2. Corpus, tokenizer, shards.
    EM_TRY(stage(x, "corpus", corpus_manifest_read(x.p.corpus()).is_ok(), [&]() -> Status {
        CorpusOptions co;
        co.sources = cfg.corpus_sources;
        co.weights = cfg.corpus_weights;
        co.val_fraction = cfg.val_fraction;
        co.seed = cfg.seed;
        if (builtin && cfg.skills) co.extra = {"skills=" + builtin_tasks_skills_path(x.p.tasks())};
        return corpus_build(x.p.corpus(), co).status();
    }));
    EM_TRY(stage(x, "tokenizer", Tokenizer::load(x.p.tokenizer()).is_ok(), [&]() -> Status {
        TokenizerOptions to;
        to.vocab_size = static_cast<int>(cfg.vocab_size);
        to.character_coverage = cfg.character_coverage;
        to.sample_bytes = cfg.tokenizer_sample_bytes;
        to.seed = cfg.seed;
        return tokenizer_train(x.p.corpus(), x.p.tokenizer(), to).status();
    }));
    EM_ASSIGN_OR_RETURN(Tokenizer tok, Tokenizer::load(x.p.tokenizer()));
    return stage(x, "tokenize", shards_manifest_read(x.p.shards()).is_ok(), [&] {
        return tokenize_corpus(x.p.corpus(), tok, x.p.shards(), TokenizeOptions{}).status();
    });
}

// Whether every planned checkpoint of `r` has been evaluated.
bool run_complete(const StudyPaths &p, const StudyRun &r) {
    for (int64_t step : r.train.checkpoint_plan())
        if (!file_exists(study_eval_done_marker(p.evals(r.name, step)))) return false;
    return true;
}

std::string run_names(const std::vector<StudyRun> &runs) {
    std::string s;
    for (const auto &r : runs) s += (s.empty() ? "" : ", ") + r.name;
    return s;
}

}  // namespace

double study_run_work(const StudyRun &r, double eval_tokens) {
    const TrainConfig &t = r.train;
    const double tokens = static_cast<double>(t.total_steps() * t.tokens_per_step());
    return model_flops_per_token(t.model, t.seq_len, true) * tokens +
           static_cast<double>(t.checkpoint_plan().size()) * 2 *
               model_flops_per_token(t.model, t.seq_len, false) * eval_tokens;
}

Result<StudySelection> study_selection_parse(const std::string &runs, const std::string &shard) {
    StudySelection sel;
    for (size_t at = 0; at <= runs.size() && !runs.empty();) {
        size_t comma = std::min(runs.find(',', at), runs.size());
        std::string pat = runs.substr(at, comma - at);
        if (pat.empty())
            return Status::error("--runs \"" + runs +
                                 "\": an empty pattern; give comma-separated run names or "
                                 "globs, e.g. --runs 'n50k-*,n100k-2M'");
        sel.patterns.push_back(pat);
        at = comma + 1;
    }
    if (!shard.empty()) {
        long long k = 0, n = 0;
        char tail = 0;
        if (std::sscanf(shard.c_str(), "%lld/%lld%c", &k, &n, &tail) != 2 || k < 1 || n < 1 ||
            k > n)
            return Status::error("--shard \"" + shard +
                                 "\": expected K/N with 1 <= K <= N, e.g. --shard 2/4 for the "
                                 "second of four machines");
        sel.index = k;
        sel.count = n;
    }
    return sel;
}

Result<std::vector<StudyRun>> study_select(const std::vector<StudyRun> &runs,
                                           const StudySelection &sel, double eval_tokens) {
    std::vector<StudyRun> picked;
    for (const auto &r : runs) {
        bool match = sel.patterns.empty();
        for (const auto &pat : sel.patterns) match |= fnmatch(pat.c_str(), r.name.c_str(), 0) == 0;
        if (match) picked.push_back(r);
    }
    for (const auto &pat : sel.patterns) {
        bool any = false;
        for (const auto &r : runs) any |= fnmatch(pat.c_str(), r.name.c_str(), 0) == 0;
        if (!any)
            return Status::error("--runs: \"" + pat + "\" matches no run; the runs are " +
                                 run_names(runs));
    }
    if (sel.count <= 1) return picked;
    if (sel.count > static_cast<int64_t>(picked.size()))
        return Status::error("--shard " + std::to_string(sel.index) + "/" +
                             std::to_string(sel.count) + ": only " + std::to_string(picked.size()) +
                             " runs to deal; use at most " + std::to_string(picked.size()) +
                             " shards");
    // Longest work first, each to the least loaded shard (ties: the lower shard, the plan order).
    std::vector<size_t> order(picked.size());
    std::vector<double> work(picked.size());
    for (size_t i = 0; i < picked.size(); ++i) {
        order[i] = i;
        work[i] = study_run_work(picked[i], eval_tokens);
    }
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return work[a] > work[b]; });
    std::vector<double> load(static_cast<size_t>(sel.count), 0.0);
    std::vector<bool> mine(picked.size(), false);
    for (size_t i : order) {
        size_t s = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
        load[s] += work[i];
        mine[i] = static_cast<int64_t>(s) == sel.index - 1;
    }
    std::vector<StudyRun> out;
    for (size_t i = 0; i < picked.size(); ++i)
        if (mine[i]) out.push_back(picked[i]);
    return out;
}

Status study_prepare(const StudyConfig &cfg, const std::string &dir) {
    return study_run(cfg, dir, {}, true);
}

Status study_run(const StudyConfig &cfg, const std::string &dir, const StudySelection &sel,
                 bool prepare_only) {
    EM_TRY(dir_create(dir));
    StudyLock lock;
    EM_TRY(lock.acquire(dir));
    Ctx x{cfg, StudyPaths{dir}, {}, {}, {}};
    EM_TRY(x.ledger.open(x.p.ledger()));
    parallel_set_threads(cfg.threads > 0 ? static_cast<int>(cfg.threads)
                                         : parallel_default_threads());
    // User task files exist already: a mistake in them (or in [tasks] names) fails before the
    // corpus and tokenizer are built, not after.
    if (!uses_builtin_tasks(cfg)) EM_TRY(load_tasks(cfg, x.p).status());
    if (prepare_only) {
        EM_TRY(prepare_stages(x));
        std::fprintf(stderr, "study: prepared %s (tasks, corpus, tokenizer, shards)\n",
                     dir.c_str());
        return Status::ok();
    }
    const std::array<bool, 4> ready = stages_done(cfg, x.p);
    if (sel.count > 1 && std::count(ready.begin(), ready.end(), true) < 4)
        return Status::error(
            dir +
            ": --shard needs a prepared study: run `emergence study prepare` once, copy the "
            "directory to every machine, then run each shard there (so that every shard "
            "trains on one corpus with one tokenizer)");
    EM_TRY(prepare_stages(x));
    EM_ASSIGN_OR_RETURN(std::vector<Task> tasks, load_tasks(cfg, x.p));
    EM_ASSIGN_OR_RETURN(Tokenizer tok, Tokenizer::load(x.p.tokenizer()));

    // 3. Runs, each evaluated at every checkpoint as soon as it is trained.
    const std::vector<StudyRun> grid = study_plan_runs(cfg, dir, tok.vocab_size());
    const double eval_tokens = static_cast<double>(eval_tokens_estimate(tasks, cfg.eval_limit));
    EM_ASSIGN_OR_RETURN(std::vector<StudyRun> runs, study_select(grid, sel, eval_tokens));
    std::map<std::string, Throughput> measured;
    for (const auto &r : runs)
        if (!measured.count(r.size)) measured[r.size] = measure_throughput(r.train);
    // The budget: every run's training and evaluations priced; done, what the files already hold.
    // This process adds only the work it does, so the ETA's rate counts no work found done.
    for (const auto &r : runs) {
        const double train_s = run_train_seconds(r, measured[r.size]);
        const double eval_s = run_eval_seconds(eval_tokens, measured[r.size]);
        const std::vector<int64_t> plan = r.train.checkpoint_plan();
        x.budget.total += train_s + static_cast<double>(plan.size()) * eval_s;
        const std::vector<int64_t> have = checkpoint_list(r.train.out_dir);
        if (!have.empty())
            x.budget.done += train_s *
                             static_cast<double>(std::min(have.back(), r.train.total_steps())) /
                             static_cast<double>(r.train.total_steps());
        for (int64_t step : plan)
            if (eval_done(x.p, cfg, r, step, tasks)) x.budget.done += eval_s;
    }
    for (size_t i = 0; i < runs.size(); ++i) {
        const StudyRun &r = runs[i];
        const TrainConfig &t = r.train;
        const double train_s = run_train_seconds(r, measured[r.size]);
        const double eval_s = run_eval_seconds(eval_tokens, measured[r.size]);
        const double run_tokens = static_cast<double>(t.total_steps() * t.tokens_per_step());
        const std::vector<int64_t> plan = t.checkpoint_plan();
        std::vector<int64_t> have = checkpoint_list(t.out_dir);
        // The run's wall time goes to the ledger at each checkpoint and each evaluation, so a
        // killed runner loses from the record only the work it loses.
        auto mark = Clock::now();
        auto lap = [&mark] {
            const double s = seconds_since(mark);
            mark = Clock::now();
            return s;
        };
        if (have.empty()) {
            EM_TRY(dir_create(t.out_dir));
            EM_TRY(file_write_atomic(
                x.p.run_tokenizer(r.name),
                nlohmann::json{{"tokenizer_fnv1a64", tok.fnv1a64()}}.dump() + "\n"));
        }
        EM_TRY(check_run_tokenizer(x.p, r.name, tok.fnv1a64()));
        if (have.empty() || have.back() < t.total_steps()) {
            EM_TRY(x.ledger.run_set(r.name, r.params, t.tokens, have.empty() ? 0 : have.back(),
                                    t.total_steps(), "training", 0));
            TrainOptions o;
            o.resume = true;
            std::string label =
                "[" + std::to_string(i + 1) + "/" + std::to_string(runs.size()) + "] " + r.name;
            // The run's own ETA: its tokens left at the rate this process has trained it.
            const double resumed_tokens =
                have.empty() ? 0.0 : static_cast<double>(have.back() * t.tokens_per_step());
            double credited_tokens = resumed_tokens;  // what the budget counts of this run
            o.on_step = [&](const TrainProgress &pr) {
                x.budget.mark_start();
                x.budget.done +=
                    train_s * (static_cast<double>(pr.tokens_seen) - credited_tokens) / run_tokens;
                credited_tokens = static_cast<double>(pr.tokens_seen);
                const double rate =
                    pr.elapsed_s > 0
                        ? (static_cast<double>(pr.tokens_seen) - resumed_tokens) / pr.elapsed_s
                        : 0;
                const std::string run_left =
                    rate > 0
                        ? fmt_duration((run_tokens - static_cast<double>(pr.tokens_seen)) / rate)
                        : "?";
                char buf[320];
                std::snprintf(
                    buf, sizeof buf,
                    "study %3d%% ETA %s | %s step %lld/%lld (run %s left) loss %.3f%s %.0f tok/s",
                    x.budget.percent(), x.budget.eta().c_str(), label.c_str(),
                    static_cast<long long>(pr.step), static_cast<long long>(pr.total_steps),
                    run_left.c_str(), pr.train_loss,
                    pr.val_loss >= 0 ? (" val " + std::to_string(pr.val_loss).substr(0, 5)).c_str()
                                     : "",
                    pr.tokens_per_s);
                x.progress.line(buf, pr.checkpoint || pr.step == pr.total_steps);
                if (pr.checkpoint) {  // `study status` shows the step reached
                    x.ledger.checkpoint_set(r.name, pr.step, pr.tokens_seen, pr.val_loss);
                    x.ledger.run_set(r.name, r.params, t.tokens, pr.step, t.total_steps(),
                                     "training", lap());
                }
            };
            EM_TRY(train_run(t, o).with_context("run " + r.name));
        }
        EM_TRY(x.ledger.run_set(r.name, r.params, t.tokens, t.total_steps(), t.total_steps(),
                                "evaluating", lap()));
        for (int64_t step : checkpoint_list(t.out_dir)) {
            auto meta = safetensors_read_metadata(checkpoint_weights_path(t.out_dir, step));
            if (meta.is_ok())
                x.ledger.checkpoint_set(r.name, step, std::stoll(meta->at("emergence.tokens_seen")),
                                        std::stod(meta->at("emergence.val_loss")));
        }
        for (int64_t step : plan) {
            const bool fresh = !eval_done(x.p, cfg, r, step, tasks);
            if (fresh) {
                x.budget.mark_start();  // the clock starts with the first work it does
                x.progress.line("study " + std::to_string(x.budget.percent()) + "% ETA " +
                                x.budget.eta() + " | evaluating " + r.name + " step " +
                                std::to_string(step));
            }
            EM_TRY(evaluate_checkpoint(x, r, step, tok, tasks)
                       .with_context("evaluating " + r.name + " step " + std::to_string(step)));
            if (fresh) x.budget.done += eval_s;
            EM_TRY(x.ledger.run_set(r.name, r.params, t.tokens, t.total_steps(), t.total_steps(),
                                    "evaluating", lap()));
        }
        EM_TRY(x.ledger.run_set(r.name, r.params, t.tokens, t.total_steps(), t.total_steps(),
                                "done", lap()));
    }
    if (!sel.all()) {
        size_t complete = 0;
        for (const auto &r : grid) complete += run_complete(x.p, r);
        x.progress.done("study: " + std::to_string(runs.size()) + " selected runs trained and " +
                        "evaluated; " + std::to_string(complete) + " of " +
                        std::to_string(grid.size()) + " runs of the grid complete here");
        if (complete < grid.size()) {
            std::fprintf(stderr,
                         "study: bring every machine's runs/ together in one study directory and "
                         "run `emergence study` there for the points table, analysis and "
                         "report\n");
            return Status::ok();
        }
    } else {
        x.progress.done("study: all runs trained and evaluated");
    }

    // 4. Points, analysis, report.
    EM_TRY(stage(x, "collect", false, [&] { return study_collect(cfg, dir, x.p.points()); }));
    EM_TRY(stage(x, "analyze", false,
                 [&] { return analysis_write(x.p.points(), x.p.analysis(), cfg.analysis); }));
    EM_TRY(stage(x, "report", false, [&] {
        ReportOptions ro;
        ro.title = "Emergent abilities from the loss perspective: study " + cfg.name;
        return report_write_files(x.p.report(), x.p.analysis() + "/analysis.json", x.p.points(),
                                  ro);
    }));
    std::fprintf(stderr, "study: done. points: %s  analysis: %s/analysis.json  report: %s\n",
                 x.p.points().c_str(), x.p.analysis().c_str(), x.p.report().c_str());
    return Status::ok();
}

namespace {

// One run directory's points: every evaluated checkpoint, each task its done.json lists (all
// results files when it predates that record).
Status collect_run(const std::string &dir, const std::string &rd, const std::string &run,
                   std::vector<Point> &points) {
    EM_ASSIGN_OR_RETURN(std::string cfg_text, file_read(rd + "/config.json"));
    double params = 0, budget = 0;
    try {
        const nlohmann::json cfg = nlohmann::json::parse(cfg_text);
        EM_ASSIGN_OR_RETURN(ModelConfig mc, model_config_from_json(cfg.at("model")));
        params = static_cast<double>(model_param_counts(mc).non_embedding);
        budget = cfg.at("train").at("tokens").get<double>();
    } catch (const std::exception &e) {
        return Status::error(rd + "/config.json: not a run config (" + e.what() +
                             "); restore it from the machine that trained the run");
    }
    for (int64_t step : checkpoint_list(rd)) {
        const std::string eval_dir = StudyPaths{dir}.evals(run, step);
        const std::string marker = study_eval_done_marker(eval_dir);
        if (!file_exists(marker)) continue;  // not evaluated (yet)
        const std::string weights = checkpoint_weights_path(rd, step);
        EM_ASSIGN_OR_RETURN(auto meta, safetensors_read_metadata(weights));
        double loss = 0, seen = 0;
        nlohmann::json done;
        try {
            loss = std::stod(meta.at("emergence.val_loss"));
            seen = std::stod(meta.at("emergence.tokens_seen"));
        } catch (const std::exception &) {
            return Status::error(weights +
                                 ": lacks emergence.val_loss or emergence.tokens_seen; not a "
                                 "checkpoint written by `emergence train`");
        }
        try {
            EM_ASSIGN_OR_RETURN(std::string text, file_read(marker));
            done = nlohmann::json::parse(text);
        } catch (const std::exception &e) {
            return Status::error(
                marker + ": not valid JSON (" + e.what() +
                "); delete it and rerun the study to evaluate the checkpoint again");
        }
        if (done.is_object() && done.contains("scoring") &&
            done["scoring"] != nlohmann::json(kScoringVersion))
            return Status::error(marker + ": scored under scoring rules " + done["scoring"].dump() +
                                 ", this build scores under " + std::to_string(kScoringVersion) +
                                 "; rerun `emergence study` with this build to score it again");
        std::vector<std::string> files;
        std::error_code ec;
        if (done.is_object() && done.contains("tasks") && done["tasks"].is_array()) {
            for (const auto &t : done["tasks"])
                if (t.is_string()) files.push_back(eval_dir + "/" + t.get<std::string>() + ".json");
        } else {
            for (const auto &f : std::filesystem::directory_iterator(eval_dir, ec)) {
                std::string n = f.path().filename().string();
                if (n.size() > 5 && n.substr(n.size() - 5) == ".json" && n != "done.json" &&
                    n.rfind("samples_", 0) != 0)
                    files.push_back(f.path().string());
            }
        }
        std::sort(files.begin(), files.end());
        for (const auto &f : files) {
            EM_ASSIGN_OR_RETURN(std::string text, file_read(f));
            try {
                auto j = nlohmann::json::parse(text);
                for (auto &[task, metrics] : j.at("results").items()) {
                    const auto &base = j.at("baselines").at(task);
                    int64_t n = j.at("n-samples").at(task).at("effective").get<int64_t>();
                    for (auto &[key, val] : metrics.items()) {
                        auto comma = key.find(',');
                        std::string metric = key.substr(0, comma);
                        if (metric.find("_stderr") != std::string::npos || !val.is_number())
                            continue;
                        Point p;
                        p.run = run;
                        p.params = params;
                        p.tokens = budget;
                        p.step = step;
                        p.tokens_seen = seen;
                        p.loss = loss;
                        p.task = task;
                        p.metric = metric;
                        p.value = val.get<double>();
                        p.n = n;
                        if (base.contains(metric) && base.at(metric).is_number())
                            p.baseline = base.at(metric).get<double>();
                        points.push_back(p);
                    }
                }
            } catch (const std::exception &e) {
                return Status::error(f + ": not an evaluation results file: " + e.what());
            }
        }
    }
    return Status::ok();
}

}  // namespace

Status study_collect(const StudyConfig &cfg, const std::string &dir, const std::string &out) {
    std::vector<std::string> planned;
    for (const auto &r : study_plan_runs(cfg, dir, cfg.vocab_size)) planned.push_back(r.name);
    std::vector<std::string> names, others;
    std::error_code ec;
    for (const auto &d : std::filesystem::directory_iterator(dir + "/runs", ec)) {
        if (!d.is_directory()) continue;
        const std::string name = d.path().filename().string();
        (std::find(planned.begin(), planned.end(), name) != planned.end() ? names : others)
            .push_back(name);
    }
    if (ec) return Status::error(dir + "/runs: cannot list run directories: " + ec.message());
    std::sort(names.begin(), names.end());
    std::sort(others.begin(), others.end());
    if (!others.empty()) {
        std::string list;
        for (const auto &o : others) list += (list.empty() ? "" : ", ") + o;
        std::fprintf(stderr,
                     "study collect: %s/runs holds runs the config does not plan (%s); "
                     "left out of the points table\n",
                     dir.c_str(), list.c_str());
    }
    std::vector<Point> points;
    const StudyPaths p{dir};
    auto tok = Tokenizer::load(p.tokenizer());
    for (const auto &name : names) {
        const std::string rd = dir + "/runs/" + name;
        if (!file_exists(rd + "/config.json")) continue;  // created, never started
        if (tok.is_ok()) EM_TRY(check_run_tokenizer(p, name, tok->fnv1a64()));
        EM_TRY(collect_run(dir, rd, name, points));
    }
    if (points.empty()) return Status::error(dir + "/runs: no evaluated checkpoints to collect");
    return points_write(out, points);
}

Result<std::string> study_status(const std::string &dir) {
    StudyPaths p{dir};
    if (!file_exists(p.ledger()))
        return Status::error(
            dir + ": no study here (no ledger.sqlite); start one with `emergence study`");
    Ledger l;
    EM_TRY(l.open(p.ledger()));
    EM_ASSIGN_OR_RETURN(auto stages, l.stages());
    EM_ASSIGN_OR_RETURN(auto runs, l.runs());
    std::string out = "stages:\n";
    double stage_s = 0, run_s = 0;
    for (const auto &s : stages) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "  %-10s %-8s %s\n", s.name.c_str(), s.status.c_str(),
                      fmt_duration(s.seconds).c_str());
        out += buf;
        stage_s += s.seconds;
    }
    out +=
        "runs:\n  run             params      tokens   steps        checkpoints evaluated  "
        "val loss       time  status\n";
    for (const auto &r : runs) {
        char buf[200];
        const std::string loss = r.val_loss >= 0 ? std::to_string(r.val_loss).substr(0, 5) : "-";
        std::snprintf(
            buf, sizeof buf, "  %-14s %9lld %11lld %6lld/%-6lld %11lld %9lld  %8s  %9s  %s\n",
            r.name.c_str(), static_cast<long long>(r.params), static_cast<long long>(r.tokens),
            static_cast<long long>(r.steps_done), static_cast<long long>(r.steps_total),
            static_cast<long long>(r.checkpoints), static_cast<long long>(r.evaluated),
            loss.c_str(), fmt_duration(r.seconds).c_str(), r.status.c_str());
        out += buf;
        run_s += r.seconds;
    }
    out += "time: " + fmt_duration(stage_s + run_s) + " (stages " + fmt_duration(stage_s) +
           ", runs " + fmt_duration(run_s) +
           "), wall time of the work kept; work an interruption cut off is not counted\n";
    if (file_exists(p.report())) out += "report: " + p.report() + "\n";
    return out;
}

int64_t study_eval_tokens_estimate(const StudyConfig &cfg, const std::string &dir) {
    if (auto tasks = load_tasks(cfg, StudyPaths{dir}); tasks.is_ok())
        return eval_tokens_estimate(*tasks, cfg.eval_limit);
    const bool builtin = uses_builtin_tasks(cfg);
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
    out +=
        "  run              d_model x layers   params(N)    tokens(D)  steps  ckpts   train TFLOP  "
        "train tok/s     train      eval\n";
    std::map<std::string, Throughput> measured;
    double all_s = 0, left_s = 0, total_flops = 0;
    for (const auto &r : runs) {
        if (!measured.count(r.size)) measured[r.size] = measure_throughput(r.train);
        const Throughput &th = measured[r.size];
        const double tokens =
            static_cast<double>(r.train.total_steps() * r.train.tokens_per_step());
        const double flops = model_flops_per_token(r.train.model, r.train.seq_len, true) * tokens;
        const std::vector<int64_t> plan = r.train.checkpoint_plan();
        const int64_t ckpts = static_cast<int64_t>(plan.size());
        const double train_s = run_train_seconds(r, th);
        const double eval_ckpt_s = run_eval_seconds(static_cast<double>(eval_tokens), th);
        const std::vector<int64_t> have = checkpoint_list(r.train.out_dir);
        const double trained = have.empty() ? 0.0
                                            : static_cast<double>(have.back()) /
                                                  static_cast<double>(r.train.total_steps());
        int64_t evaluated = 0;
        for (int64_t step : plan)
            evaluated += file_exists(study_eval_done_marker(p.evals(r.name, step)));
        all_s += train_s + static_cast<double>(ckpts) * eval_ckpt_s;
        left_s += train_s * (1 - trained) + static_cast<double>(ckpts - evaluated) * eval_ckpt_s;
        total_flops += flops;
        std::string state;
        if (evaluated == ckpts)
            state = "  (done)";
        else if (trained > 0)
            state = trained >= 1 ? "  (trained)" : "  (partly trained)";
        std::snprintf(buf, sizeof buf,
                      "  %-16s %7lld x %-6lld %11lld %12lld %6lld %6lld %13.3f %12.0f %9s %9s%s\n",
                      r.name.c_str(), static_cast<long long>(r.train.model.d_model),
                      static_cast<long long>(r.train.model.n_layers),
                      static_cast<long long>(r.params), static_cast<long long>(r.train.tokens),
                      static_cast<long long>(r.train.total_steps()), static_cast<long long>(ckpts),
                      flops / 1e12, th.train_tps, fmt_duration(train_s).c_str(),
                      fmt_duration(static_cast<double>(ckpts) * eval_ckpt_s).c_str(),
                      state.c_str());
        out += buf;
    }
    // Fixed stages, from rates measured on this kind of machine.
    const bool builtin = uses_builtin_tasks(cfg);
    const double corpus_bytes = corpus_bytes_estimate(cfg, p);
    const double stage_s[4] = {
        builtin ? kPlanSecondsTasks : 0, corpus_bytes / kPlanCorpusBytesPerSecond,
        std::min(corpus_bytes, static_cast<double>(cfg.tokenizer_sample_bytes)) *
            kPlanTokenizerSecondsPerByte,
        corpus_bytes / kPlanTokenizeBytesPerSecond};
    const std::array<bool, 4> stage_done = stages_done(cfg, p);
    double fixed_all = 0;
    for (int i = 0; i < 4; ++i) {
        fixed_all += stage_s[i];
        if (!stage_done[i]) left_s += stage_s[i];
    }
    all_s += fixed_all;
    std::snprintf(buf, sizeof buf,
                  "total: %.3f TFLOP of training, %lld tokens read per checkpoint evaluation\n",
                  total_flops / 1e12, static_cast<long long>(eval_tokens));
    out += buf;
    std::snprintf(buf, sizeof buf,
                  "estimated time: %s from scratch (tasks, corpus, tokenizer and shards %s), %s "
                  "left\n",
                  fmt_duration(all_s).c_str(), fmt_duration(fixed_all).c_str(),
                  fmt_duration(left_s).c_str());
    out += buf;
    if (have_load && cores >= 1)
        out += plan_busy_note(load, static_cast<int>(cores), parallel_threads());
    return out;
}

}  // namespace em
