// Test fixtures for training: shards of a synthetic language (a fixed sparse bigram chain with a
// known entropy rate, well below log V) and small run configs.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/rng.h"
#include "data/shard.h"
#include "tests/common/testing.h"

namespace em::testing {

// Each token has `fanout` equally likely successors, so the best possible loss is log(fanout).
inline std::vector<uint32_t> bigram_tokens(int64_t n, uint32_t V, int fanout, uint64_t seed) {
    Rng table_rng(1234);
    std::vector<uint32_t> succ(static_cast<size_t>(V) * fanout);
    for (auto &s : succ) s = static_cast<uint32_t>(table_rng.below(V));
    Rng r(seed);
    std::vector<uint32_t> t(static_cast<size_t>(n));
    uint32_t cur = 0;
    for (auto &x : t) {
        x = cur;
        cur = succ[cur * fanout + r.below(static_cast<uint64_t>(fanout))];
    }
    return t;
}

// Writes train_000.bin, train_001.bin and val_000.bin into dir.
inline void write_bigram_shards(const std::string &dir, uint32_t V, int fanout) {
    std::filesystem::create_directories(dir);
    EXPECT_TRUE(shard_write(dir + "/train_000.bin", bigram_tokens(60000, V, fanout, 1), V, 1));
    EXPECT_TRUE(shard_write(dir + "/train_001.bin", bigram_tokens(40000, V, fanout, 2), V, 1));
    EXPECT_TRUE(shard_write(dir + "/val_000.bin", bigram_tokens(20000, V, fanout, 3), V, 1));
}

// `extra_train` lines go into [train]; a key given there replaces the fixture's default.
inline std::string small_config(const std::string &dir, const std::string &extra_train = "",
                                int64_t tokens = 16 * 32 * 40) {
    std::vector<std::pair<std::string, std::string>> train = {
        {"batch_size", "16"},  {"seq_len", "32"},     {"lr", "0.01"},
        {"val_windows", "16"}, {"log_every", "1000"}, {"tokens", std::to_string(tokens)}};
    std::string extra;
    for (size_t pos = 0; pos < extra_train.size();) {
        size_t end = extra_train.find('\n', pos);
        std::string line = extra_train.substr(pos, end - pos);
        pos = end == std::string::npos ? extra_train.size() : end + 1;
        std::string key = line.substr(0, line.find(' '));
        bool replaced = false;
        for (auto &[k, v] : train)
            if (k == key) {
                v = line.substr(line.find('=') + 1);
                replaced = true;
            }
        if (!replaced && !line.empty()) extra += line + "\n";
    }
    std::string path = dir + "/run.toml";
    std::ofstream f(path);
    f << "out_dir = \"run\"\nseed = 3\nthreads = 2\n"
      << "[data]\ntrain = [\"shards\"]\nval = [\"shards\"]\n"
      << "[model]\nvocab_size = 64\nd_model = 32\nn_layers = 2\nn_heads = 4\nn_kv_heads = 2\n"
      << "max_seq = 32\nrope_fraction = 0.5\n[train]\n";
    for (auto &[k, v] : train) f << k << " = " << v << "\n";
    f << extra << "[checkpoint]\nevery = 10\nlog = 2\n";
    return path;
}

}  // namespace em::testing
