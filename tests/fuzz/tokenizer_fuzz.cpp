// Fuzz target: a SentencePiece tokenizer model as `Tokenizer::load` takes it (the model must be
// one emergence can use: byte fallback, the checks of docs/corpus.md); a loaded model encodes and
// decodes a line.
#include <vector>

#include "data/tokenizer.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    auto t = em::Tokenizer::load(em::fuzz::put("t.model", em::fuzz::view(data, size)));
    if (t.is_ok()) {
        std::vector<int> ids;
        if (t->encode("The quick brown fox, 12 + 30 = 42.\n", ids).is_ok()) (void)t->decode(ids);
    }
    return 0;
}
