// gzip and zlib decompression with zlib's inflate; see inflate.h.
#include "data/inflate.h"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <vector>

namespace em {
namespace {

// What zlib's message means for a reader of our errors: a checksum that fails is named by its
// algorithm, so that "CRC-32" or "Adler-32" appears in the line.
std::string describe(int rc, const char *msg, bool gzip) {
    std::string m = msg ? msg : "";
    if (m == "incorrect data check") return gzip ? "CRC-32 mismatch" : "Adler-32 mismatch";
    if (m == "incorrect length check") return "length mismatch";
    if (!m.empty()) return m;
    if (rc == Z_MEM_ERROR) return "out of memory";
    return "compressed data is truncated";
}

// Inflates one stream starting at in[*pos]; on success *pos is just past its end. window_bits
// selects the framing (16 + MAX_WBITS: gzip, MAX_WBITS: zlib).
Status inflate_one(std::string_view in, size_t *pos, int window_bits, std::string *out, bool gzip) {
    std::string_view rest = in.substr(*pos);
    if (rest.size() > UINT_MAX) return Status::error("compressed data over 4 GiB");
    z_stream zs;
    std::memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, window_bits) != Z_OK) return Status::error("zlib failed to initialise");
    zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(rest.data()));
    zs.avail_in = static_cast<uInt>(rest.size());
    std::vector<char> buf(1 << 16);
    int rc;
    do {
        zs.next_out = reinterpret_cast<Bytef *>(buf.data());
        zs.avail_out = static_cast<uInt>(buf.size());
        rc = inflate(&zs, Z_NO_FLUSH);
        out->append(buf.data(), buf.size() - zs.avail_out);
    } while (rc == Z_OK);
    // Z_BUF_ERROR: no progress with room to write, so the input ran out before the stream's end.
    std::string what =
        rc == Z_STREAM_END ? "" : describe(rc, rc == Z_BUF_ERROR ? nullptr : zs.msg, gzip);
    *pos += rest.size() - zs.avail_in;
    inflateEnd(&zs);
    return what.empty() ? Status::ok() : Status::error(what);
}

}  // namespace

Result<std::string> gzip_decompress(std::string_view in, const std::string &name) {
    std::string out;
    size_t pos = 0;
    const auto *p = reinterpret_cast<const unsigned char *>(in.data());
    do {
        size_t start = pos;
        if (in.size() - pos < 18 || p[pos] != 0x1f || p[pos + 1] != 0x8b)
            return Status::error(name + ": not gzip data at byte " + std::to_string(start) +
                                 " (the file is damaged: reinstall its package)");
        if (Status s = inflate_one(in, &pos, 16 + MAX_WBITS, &out, true); !s.is_ok())
            return Status::error(name + ": " + s.message() + " in the gzip member at byte " +
                                 std::to_string(start) +
                                 " (the file is damaged: reinstall its package)");
        while (pos < in.size() && p[pos] == 0) ++pos;  // padding after the last member
    } while (pos < in.size());
    return out;
}

Result<std::string> zlib_decompress(std::string_view in, const std::string &name) {
    std::string out;
    size_t pos = 0;
    if (Status s = inflate_one(in, &pos, MAX_WBITS, &out, false); !s.is_ok())
        return Status::error(name + ": " + s.message() + " in its zlib stream");
    return out;
}

uint32_t crc32_update(uint32_t crc, const void *data, size_t n) {
    const auto *p = static_cast<const Bytef *>(data);
    while (n > 0) {
        uInt k = static_cast<uInt>(std::min<size_t>(n, UINT_MAX));
        crc = static_cast<uint32_t>(::crc32(crc, p, k));
        p += k;
        n -= k;
    }
    return crc;
}

}  // namespace em
