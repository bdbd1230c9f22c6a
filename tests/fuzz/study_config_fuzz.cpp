// Fuzz target: a study config (docs/study.md).
#include "study/config.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    auto r = em::study_config_load(em::fuzz::put("study.toml", em::fuzz::view(data, size)));
    (void)r;
    return 0;
}
