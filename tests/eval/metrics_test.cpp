// Metric formulas against hand-computed values: ties to the first maximum, length normalization by
// Unicode characters, Brier score and correct-choice probability on known log-likelihoods,
// standard errors, token edit distance.
#include <gtest/gtest.h>

#include <cmath>

#include "eval/metrics.h"

namespace em {
namespace {

TEST(Metrics, TiesGoToTheFirstMaximum) {
    EXPECT_EQ(argmax_first({-1.0, -1.0, -2.0}), 0);
    EXPECT_EQ(argmax_first({-3.0, -1.0, -1.0}), 1);
    std::vector<std::string> ch = {"ab", "cd", "ef"};
    EXPECT_EQ(choice_metrics({-1.0, -1.0, -2.0}, ch, 0).acc, 1.0);
    EXPECT_EQ(choice_metrics({-1.0, -1.0, -2.0}, ch, 1).acc, 0.0);
    EXPECT_EQ(choice_metrics({-1.0, -1.0, -2.0}, ch, 1).acc_norm, 0.0);
}

TEST(Metrics, AccNormDividesByUnicodeCharacters) {
    // "中文" is 2 characters but 6 bytes; "abc" 3 and 3. Per character: -4/2 = -2 < -5/3, so the
    // second choice wins acc_norm (by bytes it would be -0.67 vs -1.67: the first).
    std::vector<std::string> ch = {"中文", "abc"};
    ChoiceMetrics m = choice_metrics({-4.0, -5.0}, ch, 1);
    EXPECT_EQ(m.acc, 0.0);
    EXPECT_EQ(m.acc_norm, 1.0);
    // A multi-token choice with the lower total but the higher per-character log-likelihood.
    std::vector<std::string> words = {"cat", "elephants"};
    ChoiceMetrics w = choice_metrics({-6.0, -10.0}, words, 1);
    EXPECT_EQ(w.acc, 0.0);       // -6 > -10
    EXPECT_EQ(w.acc_norm, 1.0);  // -6/3 = -2 < -10/9
    // é written precomposed (1 character) and decomposed (2 characters) count differently.
    std::vector<std::string> accents = {"\xc3\xa9", "e\xcc\x81"};
    ChoiceMetrics a = choice_metrics({-3.0, -5.0}, accents, 1);
    EXPECT_EQ(a.acc_norm, 1.0);  // -3/1 < -5/2
}

TEST(Metrics, BrierAndCorrectChoiceProbOnKnownLikelihoods) {
    // softmax of these is (0.5, 0.25, 0.25) whatever the common offset.
    for (double off : {0.0, -7.5}) {
        std::vector<double> ll = {std::log(0.5) + off, std::log(0.25) + off, std::log(0.25) + off};
        std::vector<std::string> ch = {"a", "b", "c"};
        ChoiceMetrics g0 = choice_metrics(ll, ch, 0), g1 = choice_metrics(ll, ch, 1);
        EXPECT_NEAR(g0.correct_choice_prob, 0.5, 1e-12);
        EXPECT_NEAR(g0.brier_score, 0.25 + 0.0625 + 0.0625, 1e-12);
        EXPECT_NEAR(g1.correct_choice_prob, 0.25, 1e-12);
        EXPECT_NEAR(g1.brier_score, 0.25 + 0.5625 + 0.0625, 1e-12);
    }
    // Uniform over K: Brier 1 - 1/K, probability 1/K.
    ChoiceMetrics u = choice_metrics({-2, -2, -2, -2}, {"a", "b", "c", "d"}, 3);
    EXPECT_NEAR(u.brier_score, 0.75, 1e-12);
    EXPECT_NEAR(u.correct_choice_prob, 0.25, 1e-12);
    EXPECT_EQ(u.acc, 0.0);  // the tie goes to choice 0
    // Very different magnitudes stay finite.
    ChoiceMetrics big = choice_metrics({-1000.0, -1.0}, {"a", "b"}, 0);
    EXPECT_NEAR(big.correct_choice_prob, 0.0, 1e-300);
    EXPECT_NEAR(big.brier_score, 2.0, 1e-12);
}

TEST(Metrics, MeanStderrIsSampleStdOverRootN) {
    MetricValue m = aggregate_mean({1, 0, 1, 1});
    EXPECT_DOUBLE_EQ(m.value, 0.75);
    // sample sd = sqrt((3 * 0.0625 + 0.5625) / 3) = 0.5; / sqrt(4)
    EXPECT_NEAR(m.std_err, 0.25, 1e-12);
    EXPECT_TRUE(std::isnan(aggregate_mean({1.0}).std_err));
    MetricValue r = aggregate_ratio({2, 4, 6}, {1, 2, 3});
    EXPECT_DOUBLE_EQ(r.value, 2.0);
    EXPECT_NEAR(r.std_err, 0.0, 1e-12);  // every document has the same ratio
    MetricValue r2 = aggregate_ratio({1, 3}, {1, 1});
    EXPECT_DOUBLE_EQ(r2.value, 2.0);
    // sqrt(n/(n-1) * ((1-2)^2 + (3-2)^2)) / 2 = sqrt(2 * 2) / 2 = 1: the mean's stderr here.
    EXPECT_NEAR(r2.std_err, 1.0, 1e-12);
    EXPECT_NEAR(r2.std_err, aggregate_mean({1, 3}).std_err, 1e-12);
}

TEST(Metrics, TokenEditDistance) {
    EXPECT_EQ(token_edit_distance({1, 2, 3}, {1, 2, 3}), 0);
    EXPECT_EQ(token_edit_distance({1, 2, 3}, {1, 3}), 1);
    EXPECT_EQ(token_edit_distance({}, {4, 5}), 2);
    // kitten -> sitting
    EXPECT_EQ(
        token_edit_distance({'k', 'i', 't', 't', 'e', 'n'}, {'s', 'i', 't', 't', 'i', 'n', 'g'}),
        3);
    // lm-eval's len(re.split(r"\s+", doc)): leading and trailing whitespace each add a piece.
    EXPECT_EQ(word_count("  two words\n and\tthree "), 6);
    EXPECT_EQ(word_count("two words"), 2);
    EXPECT_EQ(word_count(""), 1);
    EXPECT_EQ(word_count("a\u00a0b\u3000c"), 3);  // Unicode spaces, as Python's \s
    const std::string broken = std::string("a\xe3") + "b";
    EXPECT_EQ(word_count(broken), 1);  // a broken sequence is not a space
    // str.rstrip(): the bytes of trailing whitespace, Unicode included.
    EXPECT_EQ(trailing_whitespace("ab \u3000"), 4u);
    EXPECT_EQ(trailing_whitespace("ab\n\u00a0 "), 4u);
    EXPECT_EQ(trailing_whitespace("ab"), 0u);
    EXPECT_EQ(trailing_whitespace("\xe3\x80"), 0u);  // cut sequence
    EXPECT_EQ(trailing_whitespace("   "), 3u);
}

}  // namespace
}  // namespace em
