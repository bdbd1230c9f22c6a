// Decompression of the compressed corpus sources through zlib: dictd's .dict.dz (gzip with a
// dictzip extra field), gzipped texts, and the zlib blocks of SWORD modules. Errors name the data
// and say what is wrong; a damaged file is never returned in part.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace em {

// Decompresses every member of a gzip file (header, DEFLATE data, CRC-32 and size checked);
// zero padding after the last member is allowed. `name` labels errors.
Result<std::string> gzip_decompress(std::string_view in, const std::string &name);

// Decompresses one zlib stream (header and Adler-32 checked).
Result<std::string> zlib_decompress(std::string_view in, const std::string &name);

// CRC-32 (the gzip polynomial), for checks and tests.
uint32_t crc32_update(uint32_t crc, const void *data, size_t n);

}  // namespace em
