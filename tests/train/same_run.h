// Comparing two training runs' outputs: every checkpoint's tensors and the metrics log, which must
// be the same bytes (data-parallel runs against one process, resumed runs against whole ones).
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/fileio.h"
#include "model/safetensors.h"
#include "train/checkpoint.h"

namespace em::testing {

// Every tensor of a safetensors file (weights or optimizer state); the metadata names the run's
// own paths, so files of runs in different folders are compared by their tensors.
inline std::map<std::string, std::vector<float>> tensors(const std::string &path) {
    std::map<std::string, std::vector<float>> out;
    auto f = safetensors_read(path);
    if (!f.is_ok()) return out;
    for (auto &[name, e] : f->tensors) out[name] = e.data;
    return out;
}

// The metrics log without its timings.
inline std::vector<nlohmann::json> metrics(const std::string &run) {
    std::vector<nlohmann::json> out;
    std::ifstream in(run + "/metrics.jsonl");
    std::string line;
    while (std::getline(in, line)) {
        nlohmann::json j = nlohmann::json::parse(line);
        j.erase("tok_per_s");
        out.push_back(j);
    }
    return out;
}

// Every checkpoint of b equals a's: same steps, same weights, same optimizer state where both
// kept it, and the same metrics.
inline void expect_same_run(const std::string &a, const std::string &b) {
    auto steps = checkpoint_list(a);
    ASSERT_FALSE(steps.empty());
    EXPECT_EQ(checkpoint_list(b), steps);
    for (int64_t s : steps) {
        auto wa = tensors(checkpoint_weights_path(a, s));
        ASSERT_FALSE(wa.empty());
        EXPECT_TRUE(wa == tensors(checkpoint_weights_path(b, s))) << "weights differ at step " << s;
        if (file_exists(checkpoint_state_path(a, s)) && file_exists(checkpoint_state_path(b, s))) {
            EXPECT_TRUE(tensors(checkpoint_state_path(a, s)) ==
                        tensors(checkpoint_state_path(b, s)))
                << "optimizer state differs at step " << s;
        }
    }
    auto ma = metrics(a), mb = metrics(b);
    ASSERT_EQ(ma.size(), mb.size());
    for (size_t i = 0; i < ma.size(); ++i) EXPECT_EQ(ma[i], mb[i]) << "metrics line " << i + 1;
}

}  // namespace em::testing
