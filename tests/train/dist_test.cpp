// The gradient reducer's order in one process: micro-batch gradients pushed one by one and the
// last one reported in buckets sum to exactly the fixed tree's result, for every count of
// micro-batches and both exchange modes; a different order would give other bits.
#include <gtest/gtest.h>

#include <cstring>

#include "common/rng.h"
#include "train/dist.h"

namespace em {
namespace {

std::vector<std::vector<float>> random_grads(size_t count, size_t n, uint64_t seed) {
    Rng r(seed);
    std::vector<std::vector<float>> g(count, std::vector<float>(n));
    // Magnitudes over several decades, so the order of the additions shows in the bits.
    for (auto &v : g)
        for (auto &x : v) x = r.normal() * static_cast<float>(1 << r.below(20));
    return g;
}

std::vector<float> tree_reference(std::vector<std::vector<float>> g) {
    std::vector<float *> parts;
    for (auto &v : g) parts.push_back(v.data());
    tree_sum(parts.data(), parts.size(), g[0].size());
    return g[0];
}

TEST(GradReducer, OneProcessSumsInTheFixedTree) {
    const size_t n = 1000;
    const std::vector<std::pair<size_t, size_t>> ranges = {
        {700, 1000}, {300, 700}, {299, 300}, {0, 299}};
    for (size_t count = 1; count <= 9; ++count)
        for (bool overlap : {true, false}) {
            auto g = random_grads(count, n, 7 + count);
            const std::vector<float> want = tree_reference(g);
            GradReducer red(n, ranges, overlap);
            for (int step = 0; step < 2; ++step) {  // the reducer starts afresh each step
                for (size_t i = 0; i + 1 < count; ++i) red.push(g[i].data());
                std::vector<float> last = g[count - 1];
                for (auto [b, e] : ranges) red.ready(last.data(), b, e);
                red.finish(last.data());
                EXPECT_EQ(std::memcmp(last.data(), want.data(), n * sizeof(float)), 0)
                    << count << " micro-batches, overlap " << overlap << ", step " << step;
            }
        }
}

TEST(GradReducer, TreeIsNotTheSequentialSum) {
    // The test above could not fail if every order gave the same bits: check that they do not.
    auto g = random_grads(3, 1000, 11);
    std::vector<float> seq(1000, 0.0f);
    for (size_t i = 0; i < 1000; ++i) seq[i] = g[0][i] + (g[1][i] + g[2][i]);
    EXPECT_NE(std::memcmp(seq.data(), tree_reference(g).data(), sizeof(float) * 1000), 0);
}

TEST(GradReducer, UnreportedBucketsAreFoldedInFinish) {
    const size_t n = 100;
    auto g = random_grads(4, n, 3);
    const std::vector<float> want = tree_reference(g);
    GradReducer red(n, {{50, 100}, {0, 50}}, true);
    for (size_t i = 0; i < 3; ++i) red.push(g[i].data());
    std::vector<float> last = g[3];
    red.ready(last.data(), 0, 50);  // out of order: left to finish()
    red.finish(last.data());
    EXPECT_EQ(std::memcmp(last.data(), want.data(), n * sizeof(float)), 0);
}

}  // namespace
}  // namespace em
