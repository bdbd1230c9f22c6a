// Token shards: validation on open (truncation, corruption, bad headers) and the window loader
// (deterministic order, complete epochs, windows inside one shard, cursor resume).
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "data/shard.h"
#include "fixtures.h"

namespace em {
namespace {

// Shard k holds tokens base_k, base_k + 1, ...: a token tells which shard and position it is.
std::vector<std::string> counting_shards(const std::string &dir, const std::vector<uint64_t> &sizes,
                                         uint32_t vocab = 60000) {
    std::filesystem::create_directories(dir);
    std::vector<std::string> paths;
    uint32_t base = 0;
    for (size_t k = 0; k < sizes.size(); ++k) {
        std::vector<uint32_t> t(sizes[k]);
        for (uint64_t i = 0; i < sizes[k]; ++i) t[i] = base + static_cast<uint32_t>(i);
        base += static_cast<uint32_t>(sizes[k]);
        paths.push_back(dir + "/train_" + std::to_string(k) + ".bin");
        EXPECT_TRUE(shard_write(paths.back(), t, vocab, 1).is_ok());
    }
    return paths;
}

void corrupt(const std::string &path, size_t offset, unsigned char x) {
    std::string s = testing::read_file(path);
    s[offset] = static_cast<char>(s[offset] ^ x);
    testing::write_file(path, s);
}

std::string open_error(const std::string &path) {
    auto s = Shard::open(path);
    return s.is_ok() ? std::string() : s.status().message();
}

TEST(Shard, RoundTripAndHeader) {
    std::string d = testing::temp_dir("shard_rt");
    std::vector<uint32_t> small = {5, 0, 399, 7}, big = {70000, 1, 2};
    ASSERT_TRUE(shard_write(d + "/a.bin", small, 400, 2).is_ok());
    ASSERT_TRUE(shard_write(d + "/b.bin", big, 70001, 1).is_ok());
    auto a = Shard::open(d + "/a.bin");
    ASSERT_TRUE(a.is_ok()) << a.status().message();
    EXPECT_EQ(a->header().dtype_bytes, 2u);
    EXPECT_EQ(a->header().n_docs, 2u);
    EXPECT_EQ(std::filesystem::file_size(d + "/a.bin"), kShardHeaderBytes + 4 * 2);
    for (size_t i = 0; i < small.size(); ++i) EXPECT_EQ(a->token(i), small[i]);
    auto b = Shard::open(d + "/b.bin");
    ASSERT_TRUE(b.is_ok());
    EXPECT_EQ(b->header().dtype_bytes, 4u);
    EXPECT_EQ(b->token(0), 70000u);
    EXPECT_FALSE(shard_write(d + "/c.bin", {400}, 400, 1).is_ok());  // outside the vocabulary
}

TEST(Shard, BytesMatchTheDocumentedExample) {
    // docs/shards.md shows this file byte by byte.
    std::string d = testing::temp_dir("shard_doc");
    ASSERT_TRUE(shard_write(d + "/ex.bin", {2, 1234, 3, 2, 77}, 8192, 2).is_ok());
    const unsigned char expect[] = {
        0x45, 0x4d, 0x53, 0x48, 0x41, 0x52, 0x44, 0x31, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00,
        0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7d, 0x24, 0xb1, 0x8f, 0xf1,
        0xfd, 0x03, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0xd2, 0x04, 0x03, 0x00, 0x02, 0x00, 0x4d, 0x00};
    EXPECT_EQ(testing::read_file(d + "/ex.bin"),
              std::string(reinterpret_cast<const char *>(expect), sizeof expect));
}

TEST(Shard, TruncatedCorruptedAndMalformedFilesAreRejected) {
    std::string d = testing::temp_dir("shard_bad");
    std::vector<uint32_t> t(1000);
    for (size_t i = 0; i < t.size(); ++i) t[i] = static_cast<uint32_t>(i % 300);
    std::string p = d + "/s.bin";
    auto fresh = [&] { ASSERT_TRUE(shard_write(p, t, 300, 3).is_ok()); };

    fresh();
    std::filesystem::resize_file(p, std::filesystem::file_size(p) - 3);
    EXPECT_NE(open_error(p).find("truncated or corrupted"), std::string::npos) << open_error(p);
    EXPECT_NE(open_error(p).find("emergence tokenize"), std::string::npos);

    fresh();
    corrupt(p, kShardHeaderBytes + 777, 0x10);
    EXPECT_NE(open_error(p).find("checksum mismatch"), std::string::npos) << open_error(p);
    EXPECT_TRUE(Shard::open(p, /*verify_checksum=*/false).is_ok());

    fresh();
    corrupt(p, 0, 0x20);
    EXPECT_NE(open_error(p).find("bad magic"), std::string::npos) << open_error(p);

    fresh();
    corrupt(p, 8, 0x02);  // version 1 -> 3
    EXPECT_NE(open_error(p).find("format version 3"), std::string::npos) << open_error(p);

    fresh();
    corrupt(p, 12, 0x01);  // dtype 2 -> 3
    EXPECT_NE(open_error(p).find("token width 3"), std::string::npos) << open_error(p);

    fresh();
    std::filesystem::resize_file(p, 40);
    EXPECT_NE(open_error(p).find("shorter than its 64-byte header"), std::string::npos);

    EXPECT_NE(open_error(d + "/none.bin").find("cannot open"), std::string::npos);
    // The loader reports the broken shard among good ones.
    fresh();
    std::filesystem::resize_file(p, std::filesystem::file_size(p) - 2);
    auto good = counting_shards(d, {500});
    auto w = WindowLoader::open({good[0], p}, 16, 1);
    ASSERT_FALSE(w.is_ok());
    EXPECT_NE(w.status().message().find("s.bin"), std::string::npos);
}

TEST(WindowLoader, WindowsStayInsideOneShardAndCoverAnEpoch) {
    std::string d = testing::temp_dir("loader_cover");
    const int64_t T = 10;
    // 101 tokens: exactly 10 windows; 100: 9; 11: 1; 10: none (too short for T + 1 tokens).
    auto paths = counting_shards(d, {101, 100, 11, 10, 57});
    auto w = WindowLoader::open(paths, T, 42);
    ASSERT_TRUE(w.is_ok()) << w.status().message();
    EXPECT_EQ(w->windows_per_epoch(), 10u + 9u + 1u + 0u + 5u);
    EXPECT_EQ(w->total_tokens(), 279u);
    const std::vector<uint32_t> starts = {0, 101, 201, 212, 222, 279};  // shard bases, end
    std::set<int32_t> seen;
    std::vector<int32_t> buf(T + 1);
    for (uint64_t k = 0; k < w->windows_per_epoch(); ++k) {
        w->next(1, buf.data());
        for (int64_t j = 1; j <= T; ++j) ASSERT_EQ(buf[j], buf[0] + j) << "window " << k;
        // Same shard for the whole window, starting at a multiple of T within it.
        size_t s = std::upper_bound(starts.begin(), starts.end(), static_cast<uint32_t>(buf[0])) -
                   starts.begin() - 1;
        ASSERT_LT(s, 5u);
        EXPECT_LT(static_cast<uint32_t>(buf[T]), starts[s + 1]) << "past the end of shard " << s;
        EXPECT_EQ((buf[0] - static_cast<int32_t>(starts[s])) % T, 0);
        seen.insert(buf[0]);
    }
    EXPECT_EQ(seen.size(), w->windows_per_epoch()) << "each window exactly once per epoch";
    // The next epoch is another complete permutation.
    std::set<int32_t> second;
    std::vector<int32_t> order1, order2;
    for (uint64_t k = 0; k < w->windows_per_epoch(); ++k) {
        w->window(k, buf.data());
        order1.push_back(buf[0]);
        w->next(1, buf.data());
        second.insert(buf[0]);
        order2.push_back(buf[0]);
    }
    EXPECT_EQ(second, seen);
    EXPECT_NE(order1, order2);
}

TEST(WindowLoader, DeterministicBySeedAndResumesFromCursor) {
    std::string d = testing::temp_dir("loader_seed");
    auto paths = counting_shards(d, {5000, 3000, 2000});
    const int64_t T = 32, B = 4;
    auto draw = [&](WindowLoader &w, int steps) {
        std::vector<int32_t> out(static_cast<size_t>(steps * B * (T + 1)));
        for (int s = 0; s < steps; ++s) w.next(B, out.data() + s * B * (T + 1));
        return out;
    };
    auto a = WindowLoader::open(paths, T, 7), b = WindowLoader::open(paths, T, 7),
         c = WindowLoader::open(paths, T, 8);
    ASSERT_TRUE(a.is_ok() && b.is_ok() && c.is_ok());
    auto sa = draw(*a, 20), sb = draw(*b, 20), sc = draw(*c, 20);
    EXPECT_EQ(sa, sb);
    EXPECT_NE(sa, sc);
    EXPECT_EQ(a->cursor(), 80u);
    // Resume: a fresh loader at the saved cursor continues exactly, across the epoch boundary.
    auto cont = draw(*a, 100);
    auto r = WindowLoader::open(paths, T, 7);
    ASSERT_TRUE(r.is_ok());
    r->set_cursor(80);
    EXPECT_EQ(draw(*r, 100), cont);
    EXPECT_GT(a->cursor(), a->windows_per_epoch());
}

TEST(WindowLoader, RejectsUnusableShardSets) {
    std::string d = testing::temp_dir("loader_bad");
    auto tiny = counting_shards(d, {5, 8});
    auto w = WindowLoader::open(tiny, 16, 1);
    ASSERT_FALSE(w.is_ok());
    EXPECT_NE(w.status().message().find("too few for one window"), std::string::npos);
    EXPECT_FALSE(WindowLoader::open({}, 16, 1).is_ok());
    EXPECT_FALSE(WindowLoader::open(tiny, 0, 1).is_ok());
    std::vector<uint32_t> t(100, 1);
    ASSERT_TRUE(shard_write(d + "/other_vocab.bin", t, 500, 1).is_ok());
    auto mixed = counting_shards(d + "/m", {100});
    auto m = WindowLoader::open({mixed[0], d + "/other_vocab.bin"}, 8, 1);
    ASSERT_FALSE(m.is_ok());
    EXPECT_NE(m.status().message().find("vocabulary size"), std::string::npos);
}

}  // namespace
}  // namespace em
