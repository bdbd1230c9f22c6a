// Test fixtures for evaluation: a small random model, a tiny SentencePiece model trained on a few
// KB of generated text, the reference log-likelihood from a full-sequence Model::forward, and
// task files written to a temporary folder.
#pragma once

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "common/rng.h"
#include "data/corpus.h"
#include "data/tokenizer.h"
#include "model/model.h"
#include "tests/common/testing.h"

namespace em::testing {

inline ModelConfig tiny_config(int64_t vocab = 320, int64_t max_seq = 48) {
    ModelConfig c;
    c.vocab_size = vocab;
    c.d_model = 32;
    c.n_layers = 2;
    c.n_heads = 4;
    c.n_kv_heads = 2;
    c.max_seq = max_seq;
    c.rope_fraction = 0.5;
    return c;
}

inline std::unique_ptr<Model> tiny_model(const ModelConfig &c, uint64_t seed = 7) {
    auto m = std::make_unique<Model>(c);
    m->init(seed);
    // Larger weights than the training init, so the distribution is far from uniform and
    // log-likelihood differences between choices are large enough to mean something.
    for (float &p : m->params()) p *= 2.5f;
    return m;
}

// Sum of log softmax over the continuation, from one Model::forward over context + continuation
// (minus its last token), in double.
inline double reference_ll(Model &m, const std::vector<int32_t> &ctx,
                           const std::vector<int32_t> &cont, bool *greedy = nullptr) {
    std::vector<int32_t> full(ctx);
    full.insert(full.end(), cont.begin(), cont.end());
    const int64_t T = static_cast<int64_t>(full.size()) - 1, V = m.config().vocab_size;
    m.forward(full.data(), nullptr, 1, T);
    double ll = 0;
    bool all = true;
    for (size_t j = 0; j < cont.size(); ++j) {
        const float *row = m.logits() + (static_cast<int64_t>(ctx.size()) - 1 + j) * V;
        double mx = row[0];
        int64_t arg = 0;
        for (int64_t v = 1; v < V; ++v)
            if (row[v] > mx) mx = row[v], arg = v;
        double s = 0;
        for (int64_t v = 0; v < V; ++v) s += std::exp(row[v] - mx);
        ll += row[cont[j]] - mx - std::log(s);
        all = all && arg == cont[j];
    }
    if (greedy) *greedy = all;
    return ll;
}

// A few KB of simple English with digits, for a tokenizer that splits text into several pieces.
inline std::string tiny_corpus() {
    const char *subj[] = {"the cat", "a dog", "my friend", "the old man", "her sister", "we"};
    const char *verb[] = {"saw", "liked", "found", "painted", "carried", "opened"};
    const char *obj[] = {"the red door", "a small box",    "three apples",
                         "the river",    "an open window", "the blue car"};
    Rng r(5);
    std::string s;
    for (int i = 0; i < 300; ++i) {
        s += subj[r.below(6)];
        s += " ";
        s += verb[r.below(6)];
        s += " ";
        s += obj[r.below(6)];
        s += i % 3 == 0 ? ". " + std::to_string(r.below(100)) + " + " +
                              std::to_string(r.below(100)) + " = 42.\n"
                        : ".\n";
    }
    return s + "中文字符 é ü\n";
}

// Trains a tiny tokenizer through the project's own pipeline: the text as a one-file corpus, then
// tokenizer_train (BPE, identity normalization, digits split, byte fallback, "\n" its own piece).
inline std::string tiny_tokenizer(const std::string &dir, int vocab = 320) {
    const std::string text = dir + "/tok.txt", corpus = dir + "/tok_corpus";
    write_file(text, tiny_corpus());
    CorpusOptions co;
    co.sources = {text};
    co.val_fraction = 0;
    if (!corpus_build(corpus, co).is_ok()) return "";
    TokenizerOptions to;
    to.vocab_size = vocab;
    to.character_coverage = 1.0;
    if (!tokenizer_train(corpus, dir + "/tok.model", to).is_ok()) return "";
    return dir + "/tok.model";
}

}  // namespace em::testing
