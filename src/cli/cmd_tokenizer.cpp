// `emergence tokenizer train`: a deterministic SentencePiece BPE model from the corpus.
#include <cstdio>

#include "cli/command.h"
#include "data/tokenizer.h"

namespace em::cli {
namespace {

struct TrainArgs {
    std::string corpus, out;
    TokenizerOptions opt;
};

void train_main(const TrainArgs &a) {
    nlohmann::json r = check(tokenizer_train(a.corpus, a.out, a.opt));
    std::printf(
        "trained %s: %d pieces (boundary id %d) from %lld of %lld lines (%lld bytes) in %.1f s\n",
        a.out.c_str(), r["vocab_size"].get<int>(), r["boundary_id"].get<int>(),
        (long long)r["sentences"].get<int64_t>(),
        (long long)r["candidate_sentences"].get<int64_t>(),
        (long long)r["sentence_bytes"].get<int64_t>(), r["seconds"].get<double>());
    std::printf("model fnv1a64 %s\n", r["fnv1a64"].get<std::string>().c_str());
}

void setup(CLI::App &root) {
    auto *tok = root.add_subcommand("tokenizer", "Train the SentencePiece tokenizer");
    tok->require_subcommand(1);
    auto *train =
        tok->add_subcommand("train", "Train a BPE model on DIR/train.jsonl (deterministic)");
    auto a = std::make_shared<TrainArgs>();
    train->add_option("--corpus", a->corpus, "corpus directory (from `corpus build`)")->required();
    train->add_option("--out", a->out, "model file to write (e.g. tok.model)")->required();
    train->add_option("--vocab", a->opt.vocab_size, "vocabulary size")->capture_default_str();
    train
        ->add_option("--character-coverage", a->opt.character_coverage,
                     "share of characters covered by pieces; the rest by bytes")
        ->capture_default_str();
    train->add_flag("--byte-fallback,!--no-byte-fallback", a->opt.byte_fallback,
                    "encode uncovered characters as UTF-8 bytes instead of <unk> (default on)");
    train
        ->add_option("--max-sentences", a->opt.max_sentences,
                     "lines sampled for training (seeded hash sample)")
        ->capture_default_str();
    train
        ->add_option("--sample-bytes", a->opt.sample_bytes,
                     "bytes of lines sampled for training (bounds the training time)")
        ->capture_default_str();
    train->add_option("--seed", a->opt.seed, "seed of the line sample")->capture_default_str();
    train->add_flag("--verbose", a->opt.verbose, "show SentencePiece's training log");
    train->callback([a] { train_main(*a); });
}

CommandRegistrar reg("tokenizer", setup);

}  // namespace
}  // namespace em::cli
