// DEFLATE decompression (RFC 1951) with gzip (RFC 1952) and zlib (RFC 1950) framing, for the
// compressed corpus sources: dictd's .dict.dz (gzip with a dictzip extra field), gzipped texts
// and the zlib blocks of SWORD modules. Decompression only; the library links no zlib.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace em {

// Inflates a raw DEFLATE stream. `consumed`, when given, receives the number of input bytes used.
Result<std::string> inflate_raw(std::string_view in, size_t *consumed = nullptr);

// Decompresses every member of a gzip file (header, DEFLATE data, CRC-32 and size checked).
// `name` labels errors.
Result<std::string> gzip_decompress(std::string_view in, const std::string &name);

// Decompresses one zlib stream (header and Adler-32 checked).
Result<std::string> zlib_decompress(std::string_view in, const std::string &name);

// CRC-32 (the gzip polynomial), for checks and tests.
uint32_t crc32_update(uint32_t crc, const void *data, size_t n);

}  // namespace em
