// Fuzz target: a corpus split (docs/corpus.md, "Output files") read record by record.
#include "data/corpus.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    em::CorpusReader reader;
    if (!reader.open(em::fuzz::put("train.jsonl", em::fuzz::view(data, size))).is_ok()) return 0;
    em::CorpusRecord rec;
    for (;;) {
        auto more = reader.next(rec);
        if (!more.is_ok() || !*more) break;
    }
    return 0;
}
