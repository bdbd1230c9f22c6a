// Fuzz target: an evaluation results file (lm-eval's results JSON, as `emergence eval` writes
// it and `import lm-eval` and `study collect` read it), parsed from memory.
#include "eval/results.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    auto r =
        em::results_parse(std::string(em::fuzz::view(data, size)), "results.json", "regenerate it");
    (void)r;
    return 0;
}
