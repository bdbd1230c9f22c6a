// Fuzz target: a token shard (docs/shards.md); an opened shard's tokens are read back.
#include <vector>

#include "data/shard.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    auto s = em::Shard::open(em::fuzz::put("s.bin", em::fuzz::view(data, size)));
    if (s.is_ok() && s->size() > 0) {
        std::vector<int32_t> out(static_cast<size_t>(std::min<uint64_t>(s->size(), 64)));
        s->read(0, out.size(), out.data());
    }
    return 0;
}
