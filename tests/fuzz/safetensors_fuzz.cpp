// Fuzz target: a safetensors checkpoint (header length, JSON header, tensor table, data).
#include "model/safetensors.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string path = em::fuzz::put("w.safetensors", em::fuzz::view(data, size));
    auto meta = em::safetensors_read_metadata(path);
    (void)meta;
    auto r = em::safetensors_read(path);
    (void)r;
    return 0;
}
