// Shard reading, writing and window loading; see shard.h.
#include "data/shard.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/fileio.h"
#include "common/rng.h"

namespace em {
namespace {

constexpr char kMagic[8] = {'E', 'M', 'S', 'H', 'A', 'R', 'D', '1'};

template <typename T>
void put(unsigned char *p, T v) {
    std::memcpy(p, &v, sizeof v);  // the project targets little-endian hosts only
}
template <typename T>
T get(const unsigned char *p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

}  // namespace

Status shard_write(const std::string &path, const std::vector<uint32_t> &tokens,
                   uint32_t vocab_size, uint64_t n_docs) {
    if (vocab_size == 0) return Status::error(path + ": vocab size must be positive");
    uint32_t dtype = vocab_size <= 65536 ? 2 : 4;
    std::vector<unsigned char> payload(tokens.size() * dtype);
    for (size_t i = 0; i < tokens.size(); ++i) {
        if (tokens[i] >= vocab_size)
            return Status::error(path + ": token " + std::to_string(tokens[i]) + " at position " +
                                 std::to_string(i) + " is outside the vocabulary of " +
                                 std::to_string(vocab_size));
        if (dtype == 2)
            put<uint16_t>(&payload[i * 2], static_cast<uint16_t>(tokens[i]));
        else
            put<uint32_t>(&payload[i * 4], tokens[i]);
    }
    unsigned char h[kShardHeaderBytes] = {};
    std::memcpy(h, kMagic, 8);
    put<uint32_t>(h + 8, kShardVersion);
    put<uint32_t>(h + 12, dtype);
    put<uint32_t>(h + 16, vocab_size);
    put<uint64_t>(h + 24, tokens.size());
    put<uint64_t>(h + 32, n_docs);
    put<uint64_t>(h + 40, hash_fnv1a(payload.data(), payload.size()));
    AtomicFile f;
    EM_TRY(f.open(path));
    EM_TRY(f.write(h, sizeof h));
    EM_TRY(f.write(payload.data(), payload.size()));
    return f.commit();
}

Shard::~Shard() {
    if (map_) ::munmap(map_, map_bytes_);
}

Shard::Shard(Shard &&o) noexcept {
    *this = std::move(o);
}

Shard &Shard::operator=(Shard &&o) noexcept {
    if (this != &o) {
        if (map_) ::munmap(map_, map_bytes_);
        path_ = std::move(o.path_);
        header_ = o.header_;
        map_ = o.map_;
        map_bytes_ = o.map_bytes_;
        payload_ = o.payload_;
        o.map_ = nullptr;
        o.payload_ = nullptr;
        o.map_bytes_ = 0;
    }
    return *this;
}

Result<Shard> Shard::open(const std::string &path, bool verify_checksum) {
    const std::string fix = " (rebuild it with `emergence tokenize`)";
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::error(path + ": cannot open shard: " + std::strerror(errno));
    struct stat st {};
    ::fstat(fd, &st);
    size_t bytes = static_cast<size_t>(st.st_size);
    if (bytes < kShardHeaderBytes) {
        ::close(fd);
        return Status::error(path + ": shard is " + std::to_string(bytes) +
                             " bytes, shorter than its 64-byte header" + fix);
    }
    void *map = ::mmap(nullptr, bytes, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (map == MAP_FAILED)
        return Status::error(path + ": cannot map shard: " + std::strerror(errno));
    Shard s;
    s.path_ = path;
    s.map_ = map;
    s.map_bytes_ = bytes;
    const auto *h = static_cast<const unsigned char *>(map);
    if (std::memcmp(h, kMagic, 8) != 0)
        return Status::error(path + ": not a token shard (bad magic at byte 0)" + fix);
    s.header_.version = get<uint32_t>(h + 8);
    s.header_.dtype_bytes = get<uint32_t>(h + 12);
    s.header_.vocab_size = get<uint32_t>(h + 16);
    s.header_.n_tokens = get<uint64_t>(h + 24);
    s.header_.n_docs = get<uint64_t>(h + 32);
    s.header_.checksum = get<uint64_t>(h + 40);
    if (s.header_.version != kShardVersion)
        return Status::error(path + ": shard format version " + std::to_string(s.header_.version) +
                             ", this build reads version " + std::to_string(kShardVersion) + fix);
    if (s.header_.dtype_bytes != 2 && s.header_.dtype_bytes != 4)
        return Status::error(path + ": bad token width " + std::to_string(s.header_.dtype_bytes) +
                             " at byte 12 (must be 2 or 4)" + fix);
    uint64_t expect = kShardHeaderBytes + s.header_.n_tokens * s.header_.dtype_bytes;
    if (expect != bytes)
        return Status::error(path + ": header promises " + std::to_string(s.header_.n_tokens) +
                             " tokens (" + std::to_string(expect) + " bytes) but the file has " +
                             std::to_string(bytes) + " bytes: truncated or corrupted" + fix);
    s.payload_ = h + kShardHeaderBytes;
    if (verify_checksum && hash_fnv1a(s.payload_, bytes - kShardHeaderBytes) != s.header_.checksum)
        return Status::error(path + ": checksum mismatch: the tokens are corrupted" + fix);
    return s;
}

void Shard::read(uint64_t begin, uint64_t n, int32_t *out) const {
    for (uint64_t i = 0; i < n; ++i) out[i] = static_cast<int32_t>(token(begin + i));
}

Result<WindowLoader> WindowLoader::open(const std::vector<std::string> &paths, int64_t T,
                                        uint64_t seed) {
    if (paths.empty())
        return Status::error("no token shards given (run `emergence tokenize` first)");
    if (T < 1) return Status::error("window length must be positive");
    WindowLoader w;
    w.T_ = T;
    w.seed_ = seed;
    for (const auto &p : paths) {
        EM_ASSIGN_OR_RETURN(Shard s, Shard::open(p));
        if (w.vocab_ == 0) w.vocab_ = s.header().vocab_size;
        if (s.header().vocab_size != w.vocab_)
            return Status::error(p + ": vocabulary size " + std::to_string(s.header().vocab_size) +
                                 " differs from the other shards' " + std::to_string(w.vocab_) +
                                 " (tokenize all shards with one tokenizer)");
        w.first_window_.push_back(w.n_windows_);
        if (s.size() > static_cast<uint64_t>(T)) w.n_windows_ += (s.size() - 1) / T;
        w.shards_.push_back(std::move(s));
    }
    if (w.n_windows_ == 0)
        return Status::error(paths[0] + ": shards hold fewer than " + std::to_string(T + 1) +
                             " tokens, too few for one window of the configured sequence length");
    if (w.n_windows_ > UINT32_MAX) return Status::error("too many windows for one loader");
    return w;
}

uint64_t WindowLoader::total_tokens() const {
    uint64_t n = 0;
    for (const auto &s : shards_) n += s.size();
    return n;
}

void WindowLoader::build_order(uint64_t epoch) {
    order_.resize(n_windows_);
    for (uint64_t i = 0; i < n_windows_; ++i) order_[i] = static_cast<uint32_t>(i);
    Rng rng(seed_ * 0x9e3779b97f4a7c15ULL + epoch + 1);
    for (uint64_t i = n_windows_ - 1; i > 0; --i) std::swap(order_[i], order_[rng.below(i + 1)]);
    order_epoch_ = epoch;
}

void WindowLoader::window(uint64_t k, int32_t *out) {
    uint64_t epoch = k / n_windows_;
    if (epoch != order_epoch_) build_order(epoch);
    uint64_t id = order_[k % n_windows_];
    size_t s = std::upper_bound(first_window_.begin(), first_window_.end(), id) -
               first_window_.begin() - 1;
    uint64_t start = (id - first_window_[s]) * static_cast<uint64_t>(T_);
    shards_[s].read(start, static_cast<uint64_t>(T_) + 1, out);
}

void WindowLoader::next(int64_t B, int32_t *out) {
    for (int64_t b = 0; b < B; ++b) window(cursor_++, out + b * (T_ + 1));
}

}  // namespace em
