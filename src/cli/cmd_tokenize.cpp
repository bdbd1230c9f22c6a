// `emergence tokenize`: encode the corpus into token shards (docs/shards.md).
#include <cstdio>

#include "cli/command.h"
#include "common/parallel.h"
#include "data/tokenize.h"

namespace em::cli {
namespace {

struct TokenizeArgs {
    std::string corpus, tokenizer, out, shard_tokens = "50M";
    int threads = 0;
};

// "50M", "200k", "1G" or a plain count.
Result<int64_t> count_parse(const std::string &s) {
    char *end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    double mult = 1;
    if (end && *end) {
        std::string suf(end);
        if (suf == "k" || suf == "K")
            mult = 1e3;
        else if (suf == "M" || suf == "m")
            mult = 1e6;
        else if (suf == "G" || suf == "g")
            mult = 1e9;
        else
            return Status::error("--shard-tokens: '" + s +
                                 "' is not a count (e.g. 50M, 200k, 1000000)");
    }
    if (!(v > 0) || end == s.c_str())
        return Status::error("--shard-tokens: '" + s + "' must be a positive count (e.g. 50M)");
    return static_cast<int64_t>(v * mult);
}

void tokenize_main(const TokenizeArgs &a) {
    if (a.threads > 0) parallel_set_threads(a.threads);
    TokenizeOptions opt;
    opt.shard_tokens = check(count_parse(a.shard_tokens));
    Tokenizer tok = check(Tokenizer::load(a.tokenizer));
    nlohmann::json m = check(tokenize_corpus(a.corpus, tok, a.out, opt));
    for (const char *split : {"train", "val"})
        for (const auto &f : m["shards"][split])
            std::printf("%s/%s: %lld tokens, %lld documents\n", a.out.c_str(),
                        f["file"].get<std::string>().c_str(), (long long)f["tokens"].get<int64_t>(),
                        (long long)f["documents"].get<int64_t>());
    std::printf("%-14s %12s %10s %10s\n", "source", "train tokens", "val tokens", "bytes/tok");
    for (const auto &[name, s] : m["sources"].items()) {
        int64_t tt = s.value("train_tokens", int64_t{0}), vt = s.value("val_tokens", int64_t{0});
        int64_t docs =
            s.value("train_documents", int64_t{0}) + s.value("val_documents", int64_t{0});
        int64_t bytes = s.value("train_bytes", int64_t{0}) + s.value("val_bytes", int64_t{0});
        std::printf("%-14s %12lld %10lld %10.3f\n", name.c_str(), (long long)tt, (long long)vt,
                    tt + vt - docs > 0 ? double(bytes) / double(tt + vt - docs) : 0.0);
    }
    std::printf("total: %lld training tokens, %lld validation tokens; %d threads, %.1f s\n",
                (long long)m["totals"]["train_tokens"].get<int64_t>(),
                (long long)m["totals"]["val_tokens"].get<int64_t>(), m["threads"].get<int>(),
                m["seconds"].get<double>());
}

void setup(CLI::App &root) {
    auto *cmd = root.add_subcommand("tokenize", "Encode the corpus into token shards");
    auto a = std::make_shared<TokenizeArgs>();
    cmd->add_option("--corpus", a->corpus, "corpus directory (from `corpus build`)")->required();
    cmd->add_option("--tokenizer", a->tokenizer, "SentencePiece model (from `tokenizer train`)")
        ->required();
    cmd->add_option("--out", a->out, "shard directory")->required();
    cmd->add_option("--threads", a->threads, "encoding threads (default: all CPUs)");
    cmd->add_option("--shard-tokens", a->shard_tokens, "tokens per shard (k, M, G suffixes)")
        ->capture_default_str();
    cmd->callback([a] { tokenize_main(*a); });
}

CommandRegistrar reg("tokenize", setup);

}  // namespace
}  // namespace em::cli
