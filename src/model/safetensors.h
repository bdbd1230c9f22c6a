// Reading and writing safetensors files (8-byte little-endian header length, a JSON header of
// tensors with dtype, shape and byte offsets plus a "__metadata__" map of strings, then the raw
// data). Only F32 tensors are written and read. Writers add a metadata entry "emergence.checksum"
// (FNV-1a of the data section) that readers verify, so corruption is caught, not trained on.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace em {

struct StTensor {
    std::string name;
    std::vector<int64_t> shape;
    const float *data = nullptr;  // for writing: numel floats owned by the caller
};

Status safetensors_write(const std::string &path, const std::vector<StTensor> &tensors,
                         const std::map<std::string, std::string> &metadata);

struct StFile {
    std::map<std::string, std::string> metadata;
    struct Entry {
        std::vector<int64_t> shape;
        std::vector<float> data;
    };
    std::map<std::string, Entry> tensors;
};

// Reads only the header's "__metadata__" map (cheap for large files; the data is not verified).
Result<std::map<std::string, std::string>> safetensors_read_metadata(const std::string &path);

// Reads and validates the whole file; errors name the file and what is wrong with it.
Result<StFile> safetensors_read(const std::string &path);

}  // namespace em
