// The SentencePiece BPE tokenizer: deterministic training from a corpus, and a thread-safe
// encoder/decoder whose end-of-sentence token marks document boundaries in the shards.
//
// Model settings (docs/corpus.md): identity normalization (the corpus is already normalized),
// no dummy prefix and no whitespace squeezing, so decode(encode(x)) == x for any normalized x;
// "\n" is a user-defined piece (training sentences are single lines); digits are split into
// single-digit pieces; byte fallback is on by default so no character becomes <unk>.
// Ids: 0 <unk>, 1 <s>, 2 </s> (the document boundary), 3 "\n", then learned pieces.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace em {

struct WordTable;

struct TokenizerOptions {
    int vocab_size = 8192;
    double character_coverage = 0.9995;
    bool byte_fallback = true;
    // Sample limits that keep training to a minute or two: lines of the training split chosen
    // by a seeded hash of each line, at most `max_sentences` of them and `sample_bytes` in all;
    // longer lines are cut to `max_sentence_bytes`.
    int64_t max_sentences = 1'000'000;
    int64_t sample_bytes = 24'000'000;
    int64_t max_sentence_bytes = 4096;
    uint64_t seed = 1234;
    bool verbose = false;  // SentencePiece's own progress log on stderr
};

// Trains on DIR/train.jsonl and writes the model to `out_model` atomically. Returns a summary
// (sentences sampled, bytes, vocabulary, seconds). Same corpus + options -> identical bytes.
Result<nlohmann::json> tokenizer_train(const std::string &corpus_dir, const std::string &out_model,
                                       const TokenizerOptions &opt);

// A loaded model. Encode/decode are const and safe to call from many threads at once.
class Tokenizer {
  public:
    Tokenizer();
    ~Tokenizer();
    Tokenizer(Tokenizer &&) noexcept;
    Tokenizer &operator=(Tokenizer &&) noexcept;
    Tokenizer(const Tokenizer &) = delete;
    Tokenizer &operator=(const Tokenizer &) = delete;

    static Result<Tokenizer> load(const std::string &path);

    // Appends the ids of `text` to `ids`. For models whose pieces never span a space or a line
    // break (all models trained here; checked on load) the text is cut before every space and
    // around every "\n" and the pieces of each word are cached per thread: BPE merges cannot
    // cross those cuts, so the ids equal encode_reference's, several times faster.
    Status encode(std::string_view text, std::vector<int> &ids) const;
    // The library's own encoding of the whole text, without the cache.
    Status encode_reference(std::string_view text, std::vector<int> &ids) const;
    bool word_cache_enabled() const { return newline_id_ >= 0; }
    Result<std::string> decode(const std::vector<int> &ids) const;

    int boundary_id() const;  // the model's </s>: separates documents in token shards
    int vocab_size() const;
    std::string piece(int id) const;
    const std::string &path() const { return path_; }
    const std::string &fnv1a64() const { return hash_; }  // hex hash of the model file

  private:
    friend class BatchEncoder;
    bool word_cache_check();
    Status encode_word(std::string_view w, std::vector<int> &ids) const;  // library call

    std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
    std::string path_, hash_;
    int newline_id_ = -1;  // id of the "\n" piece when the word cache applies, else -1
};

// Encodes many texts at once on the parallel_for threads, encoding each distinct word only once
// across threads and batches: the unknown words of a batch are collected and encoded in
// parallel into a shared table, then every text is assembled from it. Ids equal Tokenizer::
// encode's. One per encoding job; not safe to call from several threads at once.
class BatchEncoder {
  public:
    explicit BatchEncoder(const Tokenizer &tok);
    ~BatchEncoder();
    BatchEncoder(const BatchEncoder &) = delete;
    BatchEncoder &operator=(const BatchEncoder &) = delete;

    // Fills ids[i] with the ids of texts[i].
    Status encode(const std::vector<std::string_view> &texts, std::vector<std::vector<int>> &ids);

  private:
    const Tokenizer &tok_;
    std::unique_ptr<WordTable> table_;
};

}  // namespace em
