// `emergence eval`: scores a checkpoint on task files (or rescores lm-eval samples files), prints
// a table of metrics against chance and writes lm-eval-shaped results and samples.
#include <cstdio>

#include "cli/command.h"
#include "common/parallel.h"
#include "eval/eval.h"
#include "train/checkpoint.h"

namespace em::cli {
namespace {

struct EvalArgs {
    std::string checkpoint, tokenizer, out;
    std::vector<std::string> tasks, samples;
    int64_t limit = 0, max_pass_tokens = 0;
    int threads = 0;
    bool no_prefix_reuse = false, no_batch_choices = false;
};

void eval_main(const EvalArgs &a) {
    if (a.tasks.empty() == a.samples.empty())
        throw CommandError(
            "give either --tasks (task specs or suite folders) or --lm-eval-samples");
    // Task files are checked before the model is loaded, so a malformed file fails at once.
    std::vector<Task> tasks;
    if (!a.tasks.empty()) tasks = check(tasks_load(a.tasks));
    std::unique_ptr<Model> model = check(model_load(a.checkpoint));
    Tokenizer tok = check(Tokenizer::load(a.tokenizer));
    parallel_set_threads(a.threads > 0 ? a.threads : parallel_default_threads());

    EvalOptions opt;
    opt.limit = a.limit;
    opt.score.prefix_reuse = !a.no_prefix_reuse;
    opt.score.batch_choices = !a.no_batch_choices;
    opt.score.max_pass_tokens = a.max_pass_tokens;
    std::vector<TaskResult> results;
    if (!tasks.empty()) {
        results = check(eval_checkpoint(*model, tok, tasks, opt));
    } else {
        for (const auto &s : a.samples)
            results.push_back(check(eval_lm_eval_samples(*model, tok, s, opt)));
    }
    std::fputs(eval_table(results).c_str(), stdout);
    double secs = 0;
    int64_t docs = 0;
    for (const auto &r : results) secs += r.seconds, docs += r.n_evaluated;
    std::printf("%lld documents in %.1f s (%.1f documents/s, %d threads)\n",
                static_cast<long long>(docs), secs,
                secs > 0 ? static_cast<double>(docs) / secs : 0.0, parallel_threads());
    if (!a.out.empty()) {
        nlohmann::json config = {
            {"model", "emergence"},
            {"model_args", "checkpoint=" + a.checkpoint},
            {"checkpoint", a.checkpoint},
            {"model_config", model_config_to_json(model->config())},
            {"tokenizer", a.tokenizer},
            {"tokenizer_fnv1a64", tok.fnv1a64()},
            {"limit", a.limit > 0 ? nlohmann::json(a.limit) : nlohmann::json(nullptr)},
            {"prefix_token", tok.boundary_id()},
            {"batch_size", "per document"},
            {"threads", parallel_threads()},
        };
        check(eval_write(a.out, results, config));
        std::printf("results in %s\n", a.out.c_str());
    }
}

void setup(CLI::App &root) {
    auto *cmd = root.add_subcommand(
        "eval", "Score a checkpoint on downstream tasks (lm-eval semantics); see docs/tasks.md");
    auto args = std::make_shared<EvalArgs>();
    cmd->add_option("--checkpoint", args->checkpoint, "weights file (step_*.safetensors)")
        ->required();
    cmd->add_option("--tokenizer", args->tokenizer,
                    "SentencePiece model the checkpoint was "
                    "trained with")
        ->required();
    cmd->add_option("--tasks", args->tasks, "task spec files (*.toml) or suite folders");
    cmd->add_option("--lm-eval-samples", args->samples,
                    "lm-eval samples_<task>.jsonl files to rescore with their exact prompts");
    cmd->add_option("--limit", args->limit, "score the first N documents of each task");
    cmd->add_option("--out", args->out, "folder for <task>.json and samples_<task>.jsonl");
    cmd->add_option("--threads", args->threads, "threads (default: all CPUs)");
    cmd->add_option("--max-pass-tokens", args->max_pass_tokens,
                    "most tokens per model pass (default: unlimited)");
    cmd->add_flag("--no-prefix-reuse", args->no_prefix_reuse,
                  "run each choice with its whole context (slower; same numbers)");
    cmd->add_flag("--no-batch-choices", args->no_batch_choices,
                  "run a document's choices one after another instead of side by side");
    cmd->callback([args] { eval_main(*args); });
}

CommandRegistrar reg("eval", setup);

}  // namespace
}  // namespace em::cli
