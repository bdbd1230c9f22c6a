// Token shards: a 64-byte little-endian header (magic "EMSHARD1", version, dtype, vocab size,
// token and document counts, FNV-1a checksum of the payload) followed by the tokens as uint16
// (vocab <= 65536) or uint32. Documents are separated by a boundary token. docs/shards.md is the
// format's description. Readers memory-map the file and validate everything on open.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace em {

constexpr uint32_t kShardVersion = 1;
constexpr size_t kShardHeaderBytes = 64;

struct ShardHeader {
    uint32_t version = kShardVersion;
    uint32_t dtype_bytes = 2;  // 2 or 4
    uint32_t vocab_size = 0;
    uint64_t n_tokens = 0;
    uint64_t n_docs = 0;
    uint64_t checksum = 0;  // FNV-1a over the payload bytes
};

// Writes `tokens` (all < vocab_size) atomically as a shard at `path`.
Status shard_write(const std::string &path, const std::vector<uint32_t> &tokens,
                   uint32_t vocab_size, uint64_t n_docs);

// A read-only memory-mapped shard. Not copyable; movable.
class Shard {
  public:
    Shard() = default;
    ~Shard();
    Shard(const Shard &) = delete;
    Shard &operator=(const Shard &) = delete;
    Shard(Shard &&o) noexcept;
    Shard &operator=(Shard &&o) noexcept;

    // Opens and validates (magic, version, dtype, exact size; checksum unless verify is false).
    static Result<Shard> open(const std::string &path, bool verify_checksum = true);

    const ShardHeader &header() const { return header_; }
    uint64_t size() const { return header_.n_tokens; }
    uint32_t token(uint64_t i) const {
        return header_.dtype_bytes == 2 ? reinterpret_cast<const uint16_t *>(payload_)[i]
                                        : reinterpret_cast<const uint32_t *>(payload_)[i];
    }
    // Copies tokens [begin, begin + n) into out as int32.
    void read(uint64_t begin, uint64_t n, int32_t *out) const;
    const std::string &path() const { return path_; }

  private:
    std::string path_;
    ShardHeader header_;
    void *map_ = nullptr;
    size_t map_bytes_ = 0;
    const unsigned char *payload_ = nullptr;
};

// Training windows of T+1 tokens over a set of shards. The shards are cut into non-overlapping
// windows; each epoch visits all of them once in an order that is a seeded permutation, so the
// data order depends only on (shards, T, seed) and is identical across model sizes. The cursor
// (windows drawn so far) is the only state and is saved in checkpoints.
class WindowLoader {
  public:
    static Result<WindowLoader> open(const std::vector<std::string> &paths, int64_t T,
                                     uint64_t seed);

    // Fills out (B, T+1) with the next B windows and advances the cursor.
    void next(int64_t B, int32_t *out);
    // Window k of the stream (any k), without moving the cursor.
    void window(uint64_t k, int32_t *out);

    uint64_t cursor() const { return cursor_; }
    void set_cursor(uint64_t c) { cursor_ = c; }
    uint64_t windows_per_epoch() const { return n_windows_; }
    uint64_t total_tokens() const;
    uint32_t vocab_size() const { return vocab_; }

  private:
    void build_order(uint64_t epoch);

    std::vector<Shard> shards_;
    std::vector<uint64_t> first_window_;  // per shard, cumulative window index
    int64_t T_ = 0;
    uint64_t seed_ = 0, cursor_ = 0, n_windows_ = 0, order_epoch_ = UINT64_MAX;
    uint32_t vocab_ = 0;
    std::vector<uint32_t> order_;
};

}  // namespace em
