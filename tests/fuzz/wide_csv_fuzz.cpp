// Fuzz target: the wide-CSV importer (`emergence import csv`) on one run's log, with the columns
// mapped the way docs/points.md's example maps them.
#include "analysis/import.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string path = em::fuzz::put("wide/r1.csv", em::fuzz::view(data, size));
    em::ImportOptions o;
    o.dir = em::fuzz::scratch_dir() + "/wide";
    o.pattern = "{run}.csv";
    o.params = {"1000000"};
    o.tokens = {"20000000"};
    em::CsvImportOptions c;
    c.map = {{"loss", "loss"}, {"step", "step"}, {"tokens_seen", "tokens"}};
    c.task_columns = {"task/(.*)_(acc|len_norm)", "soft/(.*)"};
    auto r = em::import_wide_csv(o, c);
    (void)r;
    return 0;
}
