// Test fixtures for the data stage: temporary directories, small synthetic English and Chinese
// texts, a tiny corpus and a tiny tokenizer trained on it.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/rng.h"
#include "data/corpus.h"
#include "data/tokenizer.h"
#include "tests/common/testing.h"

namespace em::testing {

// An English-like paragraph: words from a small lexicon with punctuation, seeded.
inline std::string english_text(uint64_t seed, int sentences) {
    static const char *words[] = {"the",   "king",     "said",      "unto",     "people", "and",
                                  "they",  "went",     "into",      "city",     "of",     "river",
                                  "light", "darkness", "evening",   "morning",  "was",    "good",
                                  "great", "house",    "bread",     "water",    "ship",   "whale",
                                  "sea",   "captain",  "Ishmael",   "Congress", "nation", "year",
                                  "42",    "1861",     "president", "war",      "peace"};
    Rng r(seed);
    std::string out;
    for (int s = 0; s < sentences; ++s) {
        int n = 4 + static_cast<int>(r.below(10));
        for (int w = 0; w < n; ++w) {
            std::string word = words[r.below(sizeof words / sizeof *words)];
            if (w == 0) word[0] = static_cast<char>(std::toupper(word[0]));
            out += (w ? " " : "") + word;
            if (w + 1 < n && r.below(8) == 0) out += ",";
        }
        out += r.below(5) == 0 ? "?" : ".";
        out += s + 1 < sentences ? (r.below(4) == 0 ? "\n" : " ") : "";
    }
    return out;
}

// Chinese lines of 5 or 7 characters from a small character set, with full-width punctuation.
inline std::string chinese_text(uint64_t seed, int lines) {
    static const char *chars[] = {"春", "风", "花", "月", "夜", "山", "水", "人", "天", "云", "江",
                                  "雨", "明", "白", "日", "长", "千", "里", "思", "归", "客", "酒",
                                  "君", "心", "不", "知", "何", "处", "来", "去", "年", "秋"};
    Rng r(seed);
    std::string out;
    for (int l = 0; l < lines; ++l) {
        int n = r.below(2) ? 5 : 7;
        for (int half = 0; half < 2; ++half) {
            for (int c = 0; c < n; ++c) out += chars[r.below(sizeof chars / sizeof *chars)];
            out += half ? "。" : "，";
        }
        if (l + 1 < lines) out += "\n";
    }
    return out;
}

// A corpus of `n_docs` documents (about 1 in 4 Chinese) built from user JSONL into `dir`.
inline nlohmann::json tiny_corpus(const std::string &dir, int n_docs = 300, double val = 0.05) {
    std::string jsonl;
    for (int i = 0; i < n_docs; ++i) {
        std::string text = i % 4 == 3 ? chinese_text(i, 4) : english_text(i, 6);
        jsonl += nlohmann::json{{"text", text}, {"id", "doc" + std::to_string(i)}}.dump() + "\n";
    }
    write_file(dir + "/input/mixed.jsonl", jsonl);
    CorpusOptions opt;
    opt.sources = {"mixed=" + dir + "/input/mixed.jsonl"};
    opt.val_fraction = val;
    auto m = corpus_build(dir + "/corpus", opt);
    EXPECT_TRUE(m.is_ok()) << m.status().message();
    return m.is_ok() ? *m : nlohmann::json();
}

// A byte-fallback BPE tokenizer with a tiny vocabulary, trained on a tiny corpus.
inline std::string tiny_tokenizer(const std::string &dir, int vocab = 400) {
    tiny_corpus(dir);
    TokenizerOptions opt;
    opt.vocab_size = vocab;
    std::string model = dir + "/tok.model";
    auto r = tokenizer_train(dir + "/corpus", model, opt);
    EXPECT_TRUE(r.is_ok()) << r.status().message();
    return model;
}

// Test suites that share one tiny corpus and tokenizer, built once per suite in a directory
// named after it.
class TinyModelSuite : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = temp_dir(::testing::UnitTest::GetInstance()->current_test_suite()->name());
        model_ = tiny_tokenizer(dir_, 400);
    }
    static inline std::string dir_, model_;
};

}  // namespace em::testing
