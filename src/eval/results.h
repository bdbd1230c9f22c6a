// Reading evaluation results files: the lm-evaluation-harness results JSON that `emergence eval`
// writes (<task>.json) and that lm-eval itself writes, in its current layout and in v0.3's.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace em {

// One metric value of one task. The current layout keys it "acc,none": metric "acc" under filter
// "none"; v0.3 keys it "acc", with no filter.
struct ResultsMetric {
    std::string metric;
    std::string filter;  // empty in the v0.3 layout
    double value = 0;
    // From "acc_stderr,none" ("acc_stderr" in v0.3) when that is a number; NaN otherwise ("N/A").
    double std_err = std::numeric_limits<double>::quiet_NaN();

    // The name a points table gives it: the metric, with the filter appended unless it is "none"
    // ("exact_match,strict-match" -> "exact_match_strict-match").
    std::string name() const;
};

// One entry of "results", with what the file's other sections say of the same task.
struct ResultsTask {
    std::string task;
    std::vector<ResultsMetric> metrics;  // numeric values only, in key order
    std::optional<int64_t> n;            // n-samples.<task>.effective, when an integer
    // baselines.<task>: the random-guess value of each metric, numbers only. `emergence eval`
    // writes this section; lm-eval does not.
    std::optional<std::map<std::string, double>> baselines;
    std::string where;  // "path:line:column" of the task's entry, for messages
};

struct ResultsFile {
    std::string path;
    std::string where;               // "path:line:column" of "results"
    std::vector<ResultsTask> tasks;  // in key order

    const ResultsTask *task(const std::string &name) const;  // null when absent
};

// Reads a results file. Invalid JSON, a missing "results" object or a results entry that is not an
// object is one error naming path:line:column, then `fix` (the remedy depends on where the file
// came from). Entries other than metrics ("alias", stderrs, text such as "N/A") are skipped.
Result<ResultsFile> results_read(const std::string &path, const std::string &fix);
// The same from `text`; `path` only names the source in messages.
Result<ResultsFile> results_parse(const std::string &text, const std::string &path,
                                  const std::string &fix);

}  // namespace em
