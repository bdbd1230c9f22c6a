// The scorer against a direct full-sequence Model::forward on a small random model: log-likelihoods
// within 1e-5 with and without prefix reuse, choices batched or not, at several pass sizes and
// thread counts; thread count changes nothing at all; context truncation, rolling windows, greedy
// generation and lm-eval's tokenization boundary rules.
#include <gtest/gtest.h>

#include <cmath>

#include "common/parallel.h"
#include "common/rng.h"
#include "eval/scorer.h"
#include "fixtures.h"

namespace em {
namespace {

using testing::reference_ll;
using testing::tiny_config;
using testing::tiny_model;

std::vector<TokenRequest> random_docs(int n, int64_t V, int64_t max_ctx, int64_t max_cont,
                                      uint64_t seed) {
    Rng r(seed);
    std::vector<TokenRequest> docs(static_cast<size_t>(n));
    for (auto &d : docs) {
        int64_t c = 1 + static_cast<int64_t>(r.below(static_cast<uint64_t>(max_ctx)));
        for (int64_t i = 0; i < c; ++i) d.context.push_back(static_cast<int32_t>(r.below(V)));
        int K = 2 + static_cast<int>(r.below(4));
        for (int k = 0; k < K; ++k) {
            std::vector<int32_t> cont;
            int64_t m = 1 + static_cast<int64_t>(r.below(static_cast<uint64_t>(max_cont)));
            for (int64_t i = 0; i < m; ++i) cont.push_back(static_cast<int32_t>(r.below(V)));
            d.continuations.push_back(cont);
        }
    }
    return docs;
}

TEST(Scorer, LoglikMatchesFullForwardInEveryMode) {
    const ModelConfig cfg = tiny_config(96, 48);
    auto model = tiny_model(cfg);
    auto ref = tiny_model(cfg);  // same weights; forward() mutates its activations
    auto docs = random_docs(40, cfg.vocab_size, 30, 7, 11);
    parallel_set_threads(1);
    std::vector<std::vector<double>> want(docs.size());
    std::vector<std::vector<bool>> want_greedy(docs.size());
    for (size_t i = 0; i < docs.size(); ++i)
        for (const auto &c : docs[i].continuations) {
            bool g = false;
            want[i].push_back(reference_ll(*ref, docs[i].context, c, &g));
            want_greedy[i].push_back(g);
        }
    double worst = 0;
    int greedy_seen = 0;
    for (int threads : {1, 2, 3}) {
        parallel_set_threads(threads);
        for (bool reuse : {true, false})
            for (bool batch : {true, false})
                for (int64_t pass : {0, 1, 3}) {
                    ScoreOptions o;
                    o.prefix_reuse = reuse;
                    o.batch_choices = batch;
                    o.max_pass_tokens = pass;
                    auto got = loglik_tokens(*model, docs, o);
                    ASSERT_TRUE(got.is_ok()) << got.status().message();
                    for (size_t i = 0; i < docs.size(); ++i)
                        for (size_t k = 0; k < want[i].size(); ++k) {
                            double d = std::fabs(got.value()[i].ll[k] - want[i][k]);
                            worst = std::max(worst, d);
                            ASSERT_LT(d, 1e-5)
                                << "doc " << i << " choice " << k << " threads " << threads
                                << " reuse " << reuse << " batch " << batch << " pass " << pass;
                            EXPECT_EQ(got.value()[i].greedy[k], want_greedy[i][k]);
                            EXPECT_EQ(got.value()[i].n_tokens[k],
                                      static_cast<int64_t>(docs[i].continuations[k].size()));
                            greedy_seen += want_greedy[i][k];
                        }
                }
    }
    RecordProperty("worst_abs_diff", std::to_string(worst));
    parallel_set_threads(2);
}

TEST(Scorer, ThreadCountChangesNoBit) {
    const ModelConfig cfg = tiny_config(96, 48);
    auto model = tiny_model(cfg);
    auto docs = random_docs(30, cfg.vocab_size, 40, 6, 3);
    ScoreOptions o;
    std::vector<std::vector<double>> first;
    for (int threads : {1, 2, 4}) {
        parallel_set_threads(threads);
        auto got = loglik_tokens(*model, docs, o);
        ASSERT_TRUE(got.is_ok());
        std::vector<std::vector<double>> lls;
        for (const auto &r : got.value()) lls.push_back(r.ll);
        if (first.empty())
            first = lls;
        else
            EXPECT_EQ(lls, first) << threads << " threads";
    }
    parallel_set_threads(2);
}

TEST(Scorer, PrefixReuseSharesOneContextPass) {
    // The branch pass must give each continuation only the prefix and its own tokens: the same
    // continuation scores the same whether its siblings are long, short or absent.
    const ModelConfig cfg = tiny_config(96, 48);
    auto model = tiny_model(cfg);
    TokenRequest a{{1, 5, 9, 13}, {{4, 8, 15}, {16, 23, 42, 7, 7}}}, b{{1, 5, 9, 13}, {{4, 8, 15}}};
    ScoreOptions o;
    auto ra = loglik_tokens(*model, {a}, o), rb = loglik_tokens(*model, {b}, o);
    ASSERT_TRUE(ra.is_ok() && rb.is_ok());
    EXPECT_NEAR(ra.value()[0].ll[0], rb.value()[0].ll[0], 1e-5);
}

TEST(Scorer, LongContextIsCutFromTheLeftLikeLmEval) {
    const ModelConfig cfg = tiny_config(96, 16);
    auto model = tiny_model(cfg);
    auto ref = tiny_model(cfg);
    TokenRequest d;
    for (int i = 0; i < 25; ++i) d.context.push_back(static_cast<int32_t>((i * 7) % 96));
    d.continuations = {{3, 4, 5}, {6}};
    for (bool reuse : {true, false}) {
        ScoreOptions o;
        o.prefix_reuse = reuse;
        auto got = loglik_tokens(*model, {d}, o);
        ASSERT_TRUE(got.is_ok());
        for (size_t k = 0; k < 2; ++k) {
            // lm-eval: input = (context + continuation)[-(T + 1):][:-1].
            std::vector<int32_t> full(d.context);
            full.insert(full.end(), d.continuations[k].begin(), d.continuations[k].end());
            std::vector<int32_t> window(full.end() - (cfg.max_seq + 1), full.end());
            std::vector<int32_t> ctx(window.begin(), window.end() - static_cast<std::ptrdiff_t>(
                                                                        d.continuations[k].size()));
            EXPECT_NEAR(got.value()[0].ll[k], reference_ll(*ref, ctx, d.continuations[k]), 1e-5);
        }
    }
    // A continuation longer than the context: disjoint windows of up to T predictions.
    TokenRequest too_long;
    too_long.context = {1};
    too_long.continuations.resize(1);
    for (int i = 0; i < 20; ++i)
        too_long.continuations[0].push_back(static_cast<int32_t>((i * 5 + 2) % 96));
    auto got = loglik_tokens(*model, {too_long}, ScoreOptions{});
    ASSERT_TRUE(got.is_ok()) << got.status().message();
    std::vector<int32_t> full = too_long.context;
    full.insert(full.end(), too_long.continuations[0].begin(), too_long.continuations[0].end());
    const double want =
        reference_ll(*ref, {full.begin(), full.begin() + 1},
                     {full.begin() + 1, full.begin() + 17}) +
        reference_ll(*ref, {full.begin() + 4, full.begin() + 17}, {full.begin() + 17, full.end()});
    EXPECT_NEAR(got.value()[0].ll[0], want, 1e-5);
}

class TextScorer : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = testing::temp_dir("scorer");
        std::string path = testing::tiny_tokenizer(dir_);
        ASSERT_FALSE(path.empty());
        auto t = Tokenizer::load(path);
        ASSERT_TRUE(t.is_ok()) << t.status().message();
        tok_ = std::make_unique<Tokenizer>(std::move(t.value()));
        cfg_ = tiny_config(tok_->vocab_size() + 8, 64);
        model_ = tiny_model(cfg_);
        ref_ = tiny_model(cfg_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::vector<int32_t> enc(const std::string &s) {
        std::vector<int> ids;
        EXPECT_TRUE(tok_->encode(s, ids).is_ok());
        return {ids.begin(), ids.end()};
    }
    std::string dir_;
    std::unique_ptr<Tokenizer> tok_;
    ModelConfig cfg_;
    std::unique_ptr<Model> model_, ref_;
};

TEST_F(TextScorer, BoundaryRulesFollowLmEval) {
    const int32_t P = tok_->boundary_id();
    std::vector<int32_t> ctx, cont;
    // Trailing whitespace of the context moves into the continuation.
    ASSERT_TRUE(encode_pair(*tok_, "the cat saw ", "the red door", P, ctx, cont).is_ok());
    std::vector<int32_t> want_ctx = enc("the cat saw");
    want_ctx.insert(want_ctx.begin(), P);
    EXPECT_EQ(ctx, want_ctx);
    std::vector<int32_t> whole = enc("the cat saw the red door");
    EXPECT_EQ(cont,
              std::vector<int32_t>(whole.begin() + static_cast<std::ptrdiff_t>(want_ctx.size() - 1),
                                   whole.end()));
    // A piece may straddle the boundary: the continuation is what follows len(encode(context)).
    ASSERT_TRUE(encode_pair(*tok_, "the ca", "t saw", P, ctx, cont).is_ok());
    std::vector<int32_t> w2 = enc("the cat saw"), c2 = enc("the ca");
    EXPECT_EQ(cont,
              std::vector<int32_t>(w2.begin() + static_cast<std::ptrdiff_t>(c2.size()), w2.end()));
    // An empty context is the prefix token alone.
    ASSERT_TRUE(encode_pair(*tok_, "", "a dog", P, ctx, cont).is_ok());
    EXPECT_EQ(ctx, std::vector<int32_t>{P});
    EXPECT_EQ(cont, enc("a dog"));
}

TEST_F(TextScorer, TextRequestsMatchFullForward) {
    std::vector<LoglikRequest> reqs = {
        {"my friend found ", {"the river", "three apples", "an open window"}},
        {"Question: 12 + 30 =", {" 42", " 43", " 4"}},
        {"", {"中文字符", "the blue car"}},
    };
    auto got = score_loglikelihood(*model_, *tok_, reqs, ScoreOptions{});
    ASSERT_TRUE(got.is_ok()) << got.status().message();
    for (size_t i = 0; i < reqs.size(); ++i)
        for (size_t k = 0; k < reqs[i].continuations.size(); ++k) {
            std::vector<int32_t> ctx, cont;
            ASSERT_TRUE(encode_pair(*tok_, reqs[i].context, reqs[i].continuations[k],
                                    tok_->boundary_id(), ctx, cont)
                            .is_ok());
            EXPECT_GT(cont.size(), 0u);
            EXPECT_NEAR(got.value()[i].ll[k], reference_ll(*ref_, ctx, cont), 1e-5);
        }
}

TEST_F(TextScorer, RollingWindowsPredictEveryTokenOnce) {
    std::string text;
    for (int i = 0; i < 12; ++i) text += "the old man carried a small box to the river. ";
    std::vector<int32_t> toks = enc(text);
    ASSERT_GT(toks.size(), static_cast<size_t>(2 * cfg_.max_seq));  // several windows
    auto got = score_rolling(*model_, *tok_, {text, "we saw"}, ScoreOptions{});
    ASSERT_TRUE(got.is_ok()) << got.status().message();
    EXPECT_EQ(got.value()[0].n_tokens, static_cast<int64_t>(toks.size()));
    // lm-eval's windows: the first is [prefix] + tokens[:T-1] predicting tokens[:T]; each later one
    // predicts the next T tokens from the T tokens before its last prediction.
    const int64_t T = cfg_.max_seq, n = static_cast<int64_t>(toks.size());
    double want = 0;
    std::vector<int32_t> first(toks.begin(), toks.begin() + T);
    want += reference_ll(*ref_, {tok_->boundary_id()}, first);
    for (int64_t done = T; done < n;) {
        int64_t end = std::min(n, done + T);
        std::vector<int32_t> ctx(toks.begin() + (end - T - 1), toks.begin() + done);
        std::vector<int32_t> pred(toks.begin() + done, toks.begin() + end);
        want += reference_ll(*ref_, ctx, pred);
        done = end;
    }
    EXPECT_NEAR(got.value()[0].ll, want, 1e-4);
    std::vector<int32_t> short_toks = enc("we saw");
    EXPECT_NEAR(got.value()[1].ll, reference_ll(*ref_, {tok_->boundary_id()}, short_toks), 1e-5);
}

TEST_F(TextScorer, GreedyGenerationMatchesRepeatedForward) {
    GenRequest g{"the cat saw", {"\n"}, 12};
    GenRequest stop{"the cat saw", {}, 12};
    auto got = generate_greedy(*model_, *tok_, {g, stop}, ScoreOptions{});
    ASSERT_TRUE(got.is_ok()) << got.status().message();
    // Reference: argmax of a full forward, one token at a time.
    std::vector<int32_t> seq = enc("the cat saw");
    seq.insert(seq.begin(), tok_->boundary_id());
    std::vector<int> gen;
    for (int step = 0; step < 12; ++step) {
        ref_->forward(seq.data(), nullptr, 1, static_cast<int64_t>(seq.size()));
        const float *row = ref_->logits() + (seq.size() - 1) * cfg_.vocab_size;
        int32_t best = 0;
        for (int64_t v = 1; v < cfg_.vocab_size; ++v)
            if (row[v] > row[best]) best = static_cast<int32_t>(v);
        if (best == tok_->boundary_id()) break;
        gen.push_back(best);
        seq.push_back(best);
    }
    std::string want = tok_->decode(gen).value();
    EXPECT_EQ(got.value()[1].text, want);
    EXPECT_EQ(got.value()[0].text, want.substr(0, want.find('\n')));
    // A stop string ends the generation and is not part of it.
    auto cut =
        generate_greedy(*model_, *tok_, {{"the cat saw", {want.substr(2, 2)}, 12}}, ScoreOptions{});
    ASSERT_TRUE(cut.is_ok());
    EXPECT_EQ(cut.value()[0].text, want.substr(0, want.find(want.substr(2, 2))));
}

}  // namespace
}  // namespace em
