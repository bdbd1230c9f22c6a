// Fuzz target: a task spec (TOML) and its documents (JSON lines), the input split at
// "\n----\n" into spec.toml and docs.jsonl; seeds name docs = "docs.jsonl".
#include "eval/task.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    auto [spec, docs] = em::fuzz::split2(em::fuzz::view(data, size));
    em::fuzz::put("task/docs.jsonl", docs);
    auto r = em::task_load(em::fuzz::put("task/spec.toml", spec));
    (void)r;
    return 0;
}
