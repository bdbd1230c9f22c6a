// Corpus statistics: documents, bytes and (with a tokenizer or shards) tokens per source, bytes
// per token, and the most frequent tokens.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"

namespace em {

struct StatsOptions {
    std::string tokenizer;  // optional: count tokens by encoding the corpus
    std::string shards;     // optional: take token counts from shards (verified on open)
    int top = 20;           // most frequent tokens to list
};

Result<nlohmann::json> corpus_stats(const std::string &corpus_dir, const StatsOptions &opt);

// The statistics as an aligned text table.
std::string corpus_stats_format(const nlohmann::json &stats);

}  // namespace em
