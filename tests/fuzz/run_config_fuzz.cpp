// Fuzz target: a training run's config (docs/config.md).
#include "tests/fuzz/fuzz.h"
#include "train/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    auto r = em::train_config_load(em::fuzz::put("run.toml", em::fuzz::view(data, size)));
    (void)r;
    return 0;
}
