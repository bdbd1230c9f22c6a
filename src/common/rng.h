// Deterministic random numbers: xoshiro256** seeded through splitmix64. The whole state is four
// words, saved in checkpoints so a resumed run draws the same numbers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace em {

struct Rng {
    std::array<uint64_t, 4> s{};

    explicit Rng(uint64_t seed = 0);
    uint64_t next_u64();
    uint64_t below(uint64_t n);  // uniform in [0, n), n > 0, without modulo bias
    double uniform();            // in [0, 1)
    float normal();              // standard normal (Box-Muller)
};

// 64-bit FNV-1a, for checksums of file payloads and for deriving seeds from names.
uint64_t hash_fnv1a(const void *data, size_t n, uint64_t h = 0xcbf29ce484222325ULL);

}  // namespace em
