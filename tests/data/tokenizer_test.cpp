// Tokenizer training (deterministic bytes), the document boundary token, exact round trips of
// normalized English and Chinese text, and the cached encoders agreeing with SentencePiece.
#include <gtest/gtest.h>

#include <algorithm>

#include "common/fileio.h"
#include "common/parallel.h"
#include "data/text.h"
#include "data/tokenizer.h"
#include "fixtures.h"

namespace em {
namespace {

using TokenizerTest = testing::TinyModelSuite;

TEST_F(TokenizerTest, TrainingIsDeterministic) {
    TokenizerOptions opt;
    opt.vocab_size = 400;
    auto r = tokenizer_train(dir_ + "/corpus", dir_ + "/again.model", opt);
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    std::string a = testing::read_file(model_), b = testing::read_file(dir_ + "/again.model");
    ASSERT_FALSE(a.empty());
    EXPECT_EQ(a, b);
    // A smaller sample is a different model: the sample limit is in effect.
    opt.sample_bytes = 2000;
    auto small = tokenizer_train(dir_ + "/corpus", dir_ + "/small.model", opt);
    ASSERT_TRUE(small.is_ok()) << small.status().message();
    EXPECT_LT((*small)["sentence_bytes"].get<int64_t>(), 2001);
    EXPECT_LT((*small)["sentences"].get<int64_t>(), (*small)["candidate_sentences"].get<int64_t>());
}

TEST_F(TokenizerTest, LayoutAndBoundaryToken) {
    auto tok = Tokenizer::load(model_);
    ASSERT_TRUE(tok.is_ok()) << tok.status().message();
    EXPECT_EQ(tok->vocab_size(), 400);
    EXPECT_EQ(tok->boundary_id(), 2);
    EXPECT_EQ(tok->piece(2), "</s>");
    EXPECT_EQ(tok->piece(3), "\n");
    EXPECT_EQ(tok->piece(4), "<0x00>");  // byte fallback pieces follow
    EXPECT_TRUE(tok->word_cache_enabled());
    // Text never produces the boundary token: it marks documents only.
    std::vector<int> ids;
    ASSERT_TRUE(tok->encode("</s> <s> text", ids).is_ok());
    for (int id : ids) EXPECT_NE(id, tok->boundary_id());
}

TEST_F(TokenizerTest, RoundTripEqualsNormalizedText) {
    auto tok = Tokenizer::load(model_);
    ASSERT_TRUE(tok.is_ok());
    const std::vector<std::string> texts = {
        testing::english_text(1000, 8),
        testing::chinese_text(1001, 6),
        "Call me Ishmael.  Some years ago\u2014never mind how long precisely\u2014having little.",
        "\u5B50\u66F0\uFF1A\u201C\u5B66\u800C\u65F6\u4E60\u4E4B\uFF0C\u4E0D\u4EA6\u8BF4\u4E4E\uFF1F"
        "\u201D",
        "  indented\n\n\ttabbed line\nmixed \u6625\u98CE English \U0001F600 caf\u00E9 \u00BD 12345",
        "Unseen: \u0416\u0436 \u05D0 \u0E01 \u3042",  // characters the tiny model never saw
    };
    for (const auto &raw : texts) {
        std::string text = text_normalize(raw);
        std::vector<int> ids;
        ASSERT_TRUE(tok->encode(text, ids).is_ok());
        auto back = tok->decode(ids);
        ASSERT_TRUE(back.is_ok()) << back.status().message();
        EXPECT_EQ(*back, text);
        for (int id : ids) EXPECT_NE(id, 0) << "no <unk> with byte fallback";
    }
    auto bad = tok->decode({1, 99999});
    EXPECT_FALSE(bad.is_ok());
}

TEST_F(TokenizerTest, CachedEncodersEqualTheLibrary) {
    auto tok = Tokenizer::load(model_);
    ASSERT_TRUE(tok.is_ok());
    std::vector<std::string> texts;
    for (int i = 0; i < 60; ++i)
        texts.push_back(i % 3 ? testing::english_text(5000 + i, 5)
                              : testing::chinese_text(5000 + i, 3));
    texts.push_back("   leading spaces and  double  spaces \n\n\n trailing ");
    texts.push_back("\n\nstarts with newlines");
    texts.push_back(std::string(300, 'x') + " long words " + std::string(100, 'y'));
    texts.push_back("");
    std::vector<std::string_view> views(texts.begin(), texts.end());
    for (int threads : {1, 2, 3}) {
        parallel_set_threads(threads);
        BatchEncoder batch(*tok);
        for (int round = 0; round < 2; ++round) {  // the second round hits the shared table
            std::vector<std::vector<int>> ids;
            ASSERT_TRUE(batch.encode(views, ids).is_ok());
            ASSERT_EQ(ids.size(), texts.size());
            for (size_t i = 0; i < texts.size(); ++i) {
                std::vector<int> ref, cached;
                ASSERT_TRUE(tok->encode_reference(texts[i], ref).is_ok());
                ASSERT_TRUE(tok->encode(texts[i], cached).is_ok());
                EXPECT_EQ(ids[i], ref) << "text " << i << " threads " << threads;
                EXPECT_EQ(cached, ref) << "text " << i;
            }
        }
    }
    parallel_set_threads(parallel_default_threads());
}

TEST_F(TokenizerTest, WithoutByteFallbackUnknownsMatchTheLibrary) {
    TokenizerOptions opt;
    opt.vocab_size = 150;
    opt.byte_fallback = false;
    opt.character_coverage = 0.98;
    ASSERT_TRUE(tokenizer_train(dir_ + "/corpus", dir_ + "/nobytes.model", opt).is_ok());
    auto tok = Tokenizer::load(dir_ + "/nobytes.model");
    ASSERT_TRUE(tok.is_ok()) << tok.status().message();
    EXPECT_TRUE(tok->word_cache_enabled());
    std::vector<std::string> texts = {
        "\u0416\u0436\u0436 unseen \u05D0\u05D0 words \u3042\n\u3042x",
        testing::chinese_text(77, 3), "x\u0416 \u0416x \u0416\u0416"};
    std::vector<std::string_view> views(texts.begin(), texts.end());
    BatchEncoder batch(*tok);
    std::vector<std::vector<int>> ids;
    ASSERT_TRUE(batch.encode(views, ids).is_ok());
    for (size_t i = 0; i < texts.size(); ++i) {
        std::vector<int> ref, cached;
        ASSERT_TRUE(tok->encode_reference(texts[i], ref).is_ok());
        ASSERT_TRUE(tok->encode(texts[i], cached).is_ok());
        EXPECT_EQ(ids[i], ref) << i;
        EXPECT_EQ(cached, ref) << i;
        EXPECT_NE(std::find(ref.begin(), ref.end(), 0), ref.end()) << "expected <unk> in " << i;
    }
}

TEST_F(TokenizerTest, BadInputsFailClearly) {
    auto missing = Tokenizer::load(dir_ + "/none.model");
    ASSERT_FALSE(missing.is_ok());
    EXPECT_NE(missing.status().message().find("tokenizer train"), std::string::npos);
    testing::write_file(dir_ + "/junk.model", "not a model at all");
    auto junk = Tokenizer::load(dir_ + "/junk.model");
    ASSERT_FALSE(junk.is_ok());
    EXPECT_NE(junk.status().message().find("not a SentencePiece model"), std::string::npos);
    TokenizerOptions opt;
    opt.vocab_size = 10;
    EXPECT_FALSE(tokenizer_train(dir_ + "/corpus", dir_ + "/x.model", opt).is_ok());
    opt.vocab_size = 400;
    auto no_corpus = tokenizer_train(dir_ + "/missing", dir_ + "/x.model", opt);
    ASSERT_FALSE(no_corpus.is_ok());
    EXPECT_NE(no_corpus.status().message().find("corpus build"), std::string::npos);
    EXPECT_FALSE(file_exists(dir_ + "/x.model"));
}

}  // namespace
}  // namespace em
