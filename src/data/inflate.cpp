// DEFLATE decoder with table-driven Huffman decoding; see inflate.h. Codes are at most 15 bits, so
// one 2^15-entry table per code maps the next 15 input bits straight to (symbol, code length).
#include "data/inflate.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

namespace em {
namespace {

constexpr int kMaxBits = 15;

struct BitReader {
    const unsigned char *p;
    size_t n, pos = 0;  // bytes
    uint64_t buf = 0;
    int bits = 0;

    BitReader(std::string_view in)
        : p(reinterpret_cast<const unsigned char *>(in.data())), n(in.size()) {}

    void refill() {
        while (bits <= 56) {
            // Past the end the stream reads as zeros; past_end() tells whether any were used.
            uint64_t b = pos < n ? p[pos] : 0;
            ++pos;
            buf |= b << bits;
            bits += 8;
        }
    }
    uint32_t peek(int k) {
        if (bits < k) refill();
        return static_cast<uint32_t>(buf & ((1ULL << k) - 1));
    }
    void drop(int k) {
        buf >>= k;
        bits -= k;
    }
    uint32_t take(int k) {
        if (k == 0) return 0;
        uint32_t v = peek(k);
        drop(k);
        return v;
    }
    void align_byte() { drop(bits % 8); }
    // Bytes consumed so far (after align_byte(), a whole number).
    size_t consumed() const { return pos - static_cast<size_t>(bits / 8); }
    bool past_end() const { return pos * 8 - static_cast<size_t>(bits) > n * 8; }
};

// Canonical Huffman code as a direct lookup table: entry = symbol << 4 | code length (0: invalid).
struct Huffman {
    std::vector<uint32_t> table;

    // Builds the table from code lengths; fails on an over-subscribed set of lengths.
    bool build(const uint8_t *lengths, int n) {
        std::array<int, kMaxBits + 1> count{};
        for (int i = 0; i < n; ++i) ++count[lengths[i]];
        count[0] = 0;
        int left = 1;
        for (int len = 1; len <= kMaxBits; ++len) {
            left = (left << 1) - count[len];
            if (left < 0) return false;
        }
        std::array<uint32_t, kMaxBits + 2> next{};
        uint32_t code = 0;
        for (int len = 1; len <= kMaxBits; ++len) {
            code = (code + count[len - 1]) << 1;
            next[len] = code;
        }
        table.assign(1u << kMaxBits, 0);
        for (int sym = 0; sym < n; ++sym) {
            int len = lengths[sym];
            if (len == 0) continue;
            uint32_t c = next[len]++;
            uint32_t r = 0;  // DEFLATE sends codes most significant bit first
            for (int i = 0; i < len; ++i) r |= ((c >> i) & 1u) << (len - 1 - i);
            uint32_t entry = static_cast<uint32_t>(sym) << 4 | static_cast<uint32_t>(len);
            for (uint32_t f = r; f < (1u << kMaxBits); f += 1u << len) table[f] = entry;
        }
        return true;
    }

    // Returns the next symbol, or -1 for a bit pattern that no code uses.
    int decode(BitReader &br) const {
        uint32_t e = table[br.peek(kMaxBits)];
        int len = static_cast<int>(e & 15u);
        if (len == 0) return -1;
        br.drop(len);
        return static_cast<int>(e >> 4);
    }
};

constexpr uint16_t kLenBase[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                   31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
constexpr uint8_t kLenExtra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                   2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
constexpr uint16_t kDistBase[30] = {1,    2,    3,    4,    5,    7,    9,    13,    17,    25,
                                    33,   49,   65,   97,   129,  193,  257,  385,   513,   769,
                                    1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
constexpr uint8_t kDistExtra[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                    6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

Status inflate_block(BitReader &br, const Huffman &lit, const Huffman &dist, std::string &out) {
    for (;;) {
        int sym = lit.decode(br);
        if (sym < 0) return Status::error("invalid literal/length code");
        if (sym < 256) {
            out.push_back(static_cast<char>(sym));
        } else if (sym == 256) {
            return Status::ok();
        } else {
            sym -= 257;
            if (sym >= 29) return Status::error("invalid length symbol");
            size_t len = kLenBase[sym] + br.take(kLenExtra[sym]);
            int ds = dist.decode(br);
            if (ds < 0 || ds >= 30) return Status::error("invalid distance code");
            size_t d = kDistBase[ds] + br.take(kDistExtra[ds]);
            if (d > out.size()) return Status::error("distance reaches before the start of data");
            size_t from = out.size() - d;
            // Byte by byte: a match may overlap the bytes it is producing.
            for (size_t i = 0; i < len; ++i) out.push_back(out[from + i]);
        }
        if (br.past_end()) return Status::error("compressed data ends inside a block");
    }
}

Status inflate_dynamic_tables(BitReader &br, Huffman &lit, Huffman &dist) {
    int hlit = static_cast<int>(br.take(5)) + 257;
    int hdist = static_cast<int>(br.take(5)) + 1;
    int hclen = static_cast<int>(br.take(4)) + 4;
    static constexpr uint8_t kOrder[19] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                           11, 4,  12, 3, 13, 2, 14, 1, 15};
    uint8_t cl[19] = {};
    for (int i = 0; i < hclen; ++i) cl[kOrder[i]] = static_cast<uint8_t>(br.take(3));
    Huffman clh;
    if (!clh.build(cl, 19)) return Status::error("invalid code-length code");
    uint8_t lengths[320] = {};
    int i = 0;
    while (i < hlit + hdist) {
        int sym = clh.decode(br);
        if (sym < 0) return Status::error("invalid code-length symbol");
        if (sym < 16) {
            lengths[i++] = static_cast<uint8_t>(sym);
            continue;
        }
        int rep = 0;
        uint8_t val = 0;
        if (sym == 16) {
            if (i == 0) return Status::error("length repeat with no previous length");
            val = lengths[i - 1];
            rep = 3 + static_cast<int>(br.take(2));
        } else if (sym == 17) {
            rep = 3 + static_cast<int>(br.take(3));
        } else {
            rep = 11 + static_cast<int>(br.take(7));
        }
        if (i + rep > hlit + hdist) return Status::error("code lengths overflow the table");
        while (rep--) lengths[i++] = val;
    }
    if (lengths[256] == 0) return Status::error("block has no end-of-block code");
    if (!lit.build(lengths, hlit) || !dist.build(lengths + hlit, hdist))
        return Status::error("invalid Huffman code lengths");
    return Status::ok();
}

uint32_t adler32(const std::string &s) {
    uint32_t a = 1, b = 0;
    for (unsigned char c : s) {
        a = (a + c) % 65521u;
        b = (b + a) % 65521u;
    }
    return b << 16 | a;
}

}  // namespace

uint32_t crc32_update(uint32_t crc, const void *data, size_t n) {
    static const std::array<uint32_t, 256> table = [] {
        std::array<uint32_t, 256> t{};
        for (uint32_t i = 0; i < 256; ++i) {
            uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    const auto *p = static_cast<const unsigned char *>(data);
    crc = ~crc;
    for (size_t i = 0; i < n; ++i) crc = table[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}

Result<std::string> inflate_raw(std::string_view in, size_t *consumed) {
    BitReader br(in);
    std::string out;
    out.reserve(in.size() * 3);
    static const Huffman fixed_lit = [] {
        uint8_t l[288];
        for (int i = 0; i < 288; ++i) l[i] = i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8;
        Huffman h;
        h.build(l, 288);
        return h;
    }();
    static const Huffman fixed_dist = [] {
        uint8_t l[30];
        std::memset(l, 5, sizeof l);
        Huffman h;
        h.build(l, 30);
        return h;
    }();
    bool last = false;
    while (!last) {
        last = br.take(1) != 0;
        uint32_t type = br.take(2);
        if (type == 0) {
            br.align_byte();
            uint32_t len = br.take(16), nlen = br.take(16);
            if ((len ^ 0xFFFFu) != nlen) return Status::error("stored block length check failed");
            for (uint32_t i = 0; i < len; ++i) out.push_back(static_cast<char>(br.take(8)));
            if (br.past_end()) return Status::error("compressed data ends inside a stored block");
        } else if (type == 1) {
            EM_TRY(inflate_block(br, fixed_lit, fixed_dist, out));
        } else if (type == 2) {
            Huffman lit, dist;
            EM_TRY(inflate_dynamic_tables(br, lit, dist));
            EM_TRY(inflate_block(br, lit, dist, out));
        } else {
            return Status::error("invalid block type 3");
        }
        if (br.past_end()) return Status::error("compressed data is truncated");
    }
    br.align_byte();
    if (consumed) *consumed = br.consumed();
    return out;
}

Result<std::string> gzip_decompress(std::string_view in, const std::string &name) {
    std::string out;
    size_t pos = 0;
    const auto *p = reinterpret_cast<const unsigned char *>(in.data());
    auto bad = [&](const std::string &what) {
        return Status::error(name + ": " + what + " at byte " + std::to_string(pos) +
                             " (the file is damaged: reinstall its package)");
    };
    do {
        if (in.size() - pos < 18 || p[pos] != 0x1f || p[pos + 1] != 0x8b || p[pos + 2] != 8)
            return bad("not gzip data");
        unsigned flags = p[pos + 3];
        size_t q = pos + 10;
        auto need = [&](size_t k) { return q + k <= in.size(); };
        if (flags & 4) {  // FEXTRA (dictzip keeps its chunk table here)
            if (!need(2)) return bad("truncated gzip header");
            size_t xlen = p[q] | static_cast<size_t>(p[q + 1]) << 8;
            q += 2 + xlen;
        }
        for (unsigned f : {8u, 16u})  // FNAME, FCOMMENT: zero-terminated
            if (flags & f) {
                while (q < in.size() && p[q] != 0) ++q;
                ++q;
            }
        if (flags & 2) q += 2;  // FHCRC
        if (q >= in.size()) return bad("truncated gzip header");
        size_t used = 0;
        auto member = inflate_raw(in.substr(q), &used);
        if (!member) return bad(member.status().message());
        q += used;
        if (!need(8)) return bad("missing gzip trailer");
        uint32_t crc = 0, isize = 0;
        std::memcpy(&crc, p + q, 4);
        std::memcpy(&isize, p + q + 4, 4);
        if (crc != crc32_update(0, member->data(), member->size())) return bad("CRC-32 mismatch");
        if (isize != static_cast<uint32_t>(member->size())) return bad("length mismatch");
        out += *member;
        pos = q + 8;
        while (pos < in.size() && p[pos] == 0) ++pos;  // padding after the last member
    } while (pos < in.size());
    return out;
}

Result<std::string> zlib_decompress(std::string_view in, const std::string &name) {
    const auto *p = reinterpret_cast<const unsigned char *>(in.data());
    if (in.size() < 6 || (p[0] & 0x0f) != 8 || ((p[0] << 8) | p[1]) % 31 != 0 || (p[1] & 0x20))
        return Status::error(name + ": not a zlib stream (bad header)");
    size_t used = 0;
    auto out = inflate_raw(in.substr(2), &used);
    if (!out) return Status::error(name + ": " + out.status().message());
    if (2 + used + 4 > in.size()) return Status::error(name + ": zlib stream lacks its checksum");
    const unsigned char *t = p + 2 + used;
    uint32_t want = static_cast<uint32_t>(t[0]) << 24 | static_cast<uint32_t>(t[1]) << 16 |
                    static_cast<uint32_t>(t[2]) << 8 | t[3];
    if (want != adler32(*out)) return Status::error(name + ": zlib Adler-32 mismatch");
    return out;
}

}  // namespace em
