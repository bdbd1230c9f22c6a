// Fuzz target: the points table (docs/points.md), parsed from memory.
#include "analysis/points.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    auto r = em::points_parse(std::string(em::fuzz::view(data, size)), "points.csv");
    (void)r;
    return 0;
}
