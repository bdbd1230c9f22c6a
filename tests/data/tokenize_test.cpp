// Corpus -> shards: boundary tokens, exact decoding back to the corpus, shard size limits, thread
// count independence, stale shard removal; and the command line end to end.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

#include "common/parallel.h"
#include "data/corpus_stats.h"
#include "data/shard.h"
#include "data/tokenize.h"
#include "fixtures.h"

namespace em {
namespace {

// Splits a shard at its boundary tokens into documents (each preceded by one).
std::vector<std::vector<int>> shard_docs(const Shard &s, int boundary) {
    std::vector<std::vector<int>> docs;
    for (uint64_t i = 0; i < s.size(); ++i) {
        int t = static_cast<int>(s.token(i));
        if (t == boundary) {
            docs.emplace_back();
            continue;
        }
        EXPECT_FALSE(docs.empty()) << "a shard must start with the boundary token";
        if (docs.empty()) docs.emplace_back();
        docs.back().push_back(t);
    }
    return docs;
}

std::vector<std::string> corpus_texts(const std::string &path) {
    std::vector<std::string> out;
    CorpusReader r;
    EXPECT_TRUE(r.open(path).is_ok());
    CorpusRecord rec;
    while (r.next(rec).value()) out.push_back(rec.text);
    return out;
}

using TokenizeTest = testing::TinyModelSuite;

TEST_F(TokenizeTest, ShardsDecodeToTheCorpusInOrder) {
    auto tok = Tokenizer::load(model_);
    ASSERT_TRUE(tok.is_ok());
    std::string out = dir_ + "/shards";
    std::filesystem::create_directories(out);
    testing::write_file(out + "/train_099.bin", "stale");  // left by an earlier, larger run
    TokenizeOptions opt;
    opt.shard_tokens = 3000;
    auto m = tokenize_corpus(dir_ + "/corpus", *tok, out, opt);
    ASSERT_TRUE(m.is_ok()) << m.status().message();
    EXPECT_FALSE(std::filesystem::exists(out + "/train_099.bin"));
    auto paths = shards_paths(out, *m, "train");
    ASSERT_GE(paths.size(), 3u) << "the shard limit splits the training split";
    for (const char *split : {"train", "val"}) {
        std::vector<std::string> texts = corpus_texts(dir_ + "/corpus/" + split + ".jsonl");
        ASSERT_FALSE(texts.empty()) << split;
        size_t next = 0;
        int64_t tokens = 0;
        for (const auto &p : shards_paths(out, *m, split)) {
            auto s = Shard::open(p);
            ASSERT_TRUE(s.is_ok()) << s.status().message();
            EXPECT_EQ(s->header().vocab_size, 400u);
            tokens += static_cast<int64_t>(s->size());
            auto docs = shard_docs(*s, tok->boundary_id());
            EXPECT_EQ(docs.size(), s->header().n_docs);
            for (const auto &ids : docs) {
                ASSERT_LT(next, texts.size());
                auto text = tok->decode(ids);
                ASSERT_TRUE(text.is_ok());
                EXPECT_EQ(*text, texts[next]) << split << " document " << next;
                ++next;
            }
        }
        EXPECT_EQ(next, texts.size()) << "every document, none split between shards";
        EXPECT_EQ((*m)["totals"][std::string(split) + "_tokens"].get<int64_t>(), tokens);
    }
    EXPECT_EQ((*m)["boundary_id"], 2);
    EXPECT_EQ((*m)["sources"]["mixed"]["train_documents"].get<int64_t>(),
              static_cast<int64_t>(corpus_texts(dir_ + "/corpus/train.jsonl").size()));
}

TEST_F(TokenizeTest, ThreadCountDoesNotChangeTheShards) {
    auto tok = Tokenizer::load(model_);
    ASSERT_TRUE(tok.is_ok());
    TokenizeOptions opt;
    opt.batch_bytes = 4000;  // several batches: the word table carries over between them
    std::string bytes[2];
    for (int k = 0; k < 2; ++k) {
        parallel_set_threads(k + 1);
        std::string out = dir_ + "/threads" + std::to_string(k);
        ASSERT_TRUE(tokenize_corpus(dir_ + "/corpus", *tok, out, opt).is_ok());
        bytes[k] = testing::read_file(out + "/train_000.bin");
    }
    parallel_set_threads(parallel_default_threads());
    EXPECT_FALSE(bytes[0].empty());
    EXPECT_EQ(bytes[0], bytes[1]);
}

TEST_F(TokenizeTest, StatsCountTokensBothWays) {
    auto tok = Tokenizer::load(model_);
    ASSERT_TRUE(tok.is_ok());
    std::string out = dir_ + "/stats_shards";
    ASSERT_TRUE(tokenize_corpus(dir_ + "/corpus", *tok, out, {}).is_ok());
    StatsOptions a, b;
    a.tokenizer = model_;
    b.shards = out;
    auto sa = corpus_stats(dir_ + "/corpus", a), sb = corpus_stats(dir_ + "/corpus", b);
    ASSERT_TRUE(sa.is_ok()) << sa.status().message();
    ASSERT_TRUE(sb.is_ok()) << sb.status().message();
    EXPECT_EQ((*sa)["totals"], (*sb)["totals"]);
    EXPECT_EQ((*sb)["shard_tokens"]["train"], (*sb)["totals"]["train_tokens"]);
    EXPECT_GT((*sa)["totals"]["bytes_per_token"].get<double>(), 1.0);
    EXPECT_EQ((*sa)["top_tokens"].size(), 20u);
    EXPECT_FALSE(corpus_stats_format(*sb).empty());
    // Unigram entropy: the same from encoding and from the shards, and equal to the entropy of
    // the training shard's token frequencies counted here.
    std::map<int, int64_t> freq;
    int64_t n = 0;
    for (const auto &p : std::filesystem::directory_iterator(out)) {
        const std::string name = p.path().filename().string();
        if (name.rfind("train_", 0) != 0) continue;
        auto s = Shard::open(p.path().string());
        ASSERT_TRUE(s.is_ok()) << s.status().message();
        for (uint64_t i = 0; i < s->size(); ++i, ++n) ++freq[static_cast<int>(s->token(i))];
    }
    double h = 0.0;
    for (const auto &[id, c] : freq)
        h -= static_cast<double>(c) / n * std::log(static_cast<double>(c) / n);
    for (const char *split : {"train", "val"})
        EXPECT_NEAR((*sa)["unigram_entropy"][split].get<double>(),
                    (*sb)["unigram_entropy"][split].get<double>(), 1e-12)
            << split;
    EXPECT_NEAR((*sb)["unigram_entropy"]["train"].get<double>(), h, 1e-12);
    EXPECT_GT(h, 1.0);
    EXPECT_NE(corpus_stats_format(*sb).find("unigram entropy"), std::string::npos);
}

// Runs the CLI; returns the exit status and fills `out` with stdout and stderr.
int run(const std::string &args, std::string &out) {
    std::string cmd = std::string(EM_BINARY) + " " + args + " 2>&1";
    FILE *p = ::popen(cmd.c_str(), "r");
    out.clear();
    std::array<char, 4096> buf{};
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
    int rc = ::pclose(p);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST(Cli, BuildTrainTokenizeStats) {
    std::string d = testing::temp_dir("cli");
    std::string text;
    for (int i = 0; i < 120; ++i)
        text += (i % 5 ? testing::english_text(i, 4) : testing::chinese_text(i, 2)) + "\n\n";
    testing::write_file(d + "/in/book.txt", text);
    std::string out;
    ASSERT_EQ(
        run("corpus build --out " + d + "/corpus --sources " + d + "/in --doc-split block", out), 0)
        << out;
    EXPECT_NE(out.find("wrote " + d + "/corpus"), std::string::npos) << out;
    ASSERT_EQ(
        run("tokenizer train --corpus " + d + "/corpus --vocab 400 --out " + d + "/tok.model", out),
        0)
        << out;
    ASSERT_EQ(run("tokenize --corpus " + d + "/corpus --tokenizer " + d + "/tok.model --out " + d +
                      "/shards --threads 2 --shard-tokens 2k",
                  out),
              0)
        << out;
    EXPECT_NE(out.find("train_001.bin"), std::string::npos) << out;
    ASSERT_EQ(run("corpus stats --corpus " + d + "/corpus --shards " + d + "/shards", out), 0)
        << out;
    EXPECT_NE(out.find("bytes/tok"), std::string::npos) << out;
    // Errors: one line, non-zero exit.
    EXPECT_EQ(run("corpus build --out " + d + "/c2 --sources " + d + "/missing.txt", out), 1);
    EXPECT_EQ(out.rfind("emergence: error: ", 0), 0u) << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
    EXPECT_EQ(run("tokenize --corpus " + d + "/corpus --tokenizer " + d + "/tok.model --out " + d +
                      "/s2 --shard-tokens lots",
                  out),
              1);
    EXPECT_NE(out.find("--shard-tokens"), std::string::npos) << out;
    EXPECT_EQ(
        run("tokenizer train --corpus " + d + "/corpus --vocab 280 --out " + d + "/t2.model", out),
        1);
    EXPECT_NE(out.find("raise --vocab"), std::string::npos) << out;
}

}  // namespace
}  // namespace em
