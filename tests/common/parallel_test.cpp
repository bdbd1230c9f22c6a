// The thread pool: every index visited once, chunks fixed by n and the thread count, resizing.
#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "common/parallel.h"

namespace em {
namespace {

TEST(Parallel, VisitsEveryIndexOnceAcrossResizes) {
    for (int threads : {1, 2, 3, 1, 2}) {
        parallel_set_threads(threads);
        for (int64_t n : {0, 1, 2, 7, 1000}) {
            std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
            for (int rep = 0; rep < 20; ++rep)
                parallel_for(n, [&](int64_t b, int64_t e) {
                    for (int64_t i = b; i < e; ++i) hits[i]++;
                });
            for (auto &h : hits) EXPECT_EQ(h.load(), 20);
        }
    }
    parallel_set_threads(1);
}

TEST(Parallel, ChunksDependOnlyOnSizeAndThreads) {
    parallel_set_threads(2);
    std::vector<std::pair<int64_t, int64_t>> a(2), b(2);
    auto record = [](std::vector<std::pair<int64_t, int64_t>> &out) {
        parallel_for(11, [&](int64_t s, int64_t e) { out[s == 0 ? 0 : 1] = {s, e}; });
    };
    record(a);
    record(b);
    EXPECT_EQ(a, b);
    EXPECT_EQ(a[0], (std::pair<int64_t, int64_t>{0, 5}));
    EXPECT_EQ(a[1], (std::pair<int64_t, int64_t>{5, 11}));
    parallel_set_threads(1);
}

}  // namespace
}  // namespace em
