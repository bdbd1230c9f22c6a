// Corpus -> token shards: every document of train.jsonl and val.jsonl is encoded (in parallel)
// and written as train_NNN.bin / val_NNN.bin, each document preceded by the boundary token, with
// a manifest.json listing shards and per-source token counts (docs/shards.md).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "data/tokenizer.h"

namespace em {

struct TokenizeOptions {
    int64_t shard_tokens = 50'000'000;  // a shard closes at the first document end past this
    int64_t batch_bytes = 16 << 20;     // text encoded per parallel round
};

// Encodes the corpus in `corpus_dir` into shards in `out_dir` (threads: parallel_set_threads).
// Returns the manifest written to out_dir/manifest.json (last, after every shard).
Result<nlohmann::json> tokenize_corpus(const std::string &corpus_dir, const Tokenizer &tok,
                                       const std::string &out_dir, const TokenizeOptions &opt);

// Reads out_dir/manifest.json written by tokenize_corpus.
Result<nlohmann::json> shards_manifest_read(const std::string &dir);

// The shard paths of one split ("train" or "val") listed in a shard manifest.
std::vector<std::string> shards_paths(const std::string &dir, const nlohmann::json &manifest,
                                      const std::string &split);

}  // namespace em
